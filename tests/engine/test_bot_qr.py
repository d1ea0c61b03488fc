"""QR codes in images: real codes made by segno, read by zxing-cpp, judged, acted on."""

from __future__ import annotations

import io
import json
import random

import pytest
import segno
from bot_transcript import GROUP, make_chat, rows, user
from PIL import Image

from shequn.botconfig import GroupSettings
from shequn.commands.bot import moderator_callable
from shequn.events import MessageKind
from shequn.features.moderation import Moderator
from shequn.features.moderation.qr import MAX_BYTES, decode, qr_hits
from shequn.features.moderation.settings import Allowlist
from shequn.platforms.port import Capability, FakePlatform
from shequn.store import Store, schema

WECHAT_GROUP = "https://weixin.qq.com/g/AwYAAFakeGroupCode"


def qr_png(payload: str, *, scale: int = 6) -> bytes:
    buf = io.BytesIO()
    segno.make(payload, error="m").save(buf, kind="png", scale=scale)
    return buf.getvalue()


def screenshot(payload: str) -> bytes:
    """A phone-photo-like JPEG: the code small, off-centre, on a noisy background."""
    rng = random.Random(3)
    bg = Image.new("RGB", (1200, 1600), (230, 225, 210))
    px = bg.load()
    assert px is not None
    for _ in range(40_000):
        px[rng.randrange(1200), rng.randrange(1600)] = (rng.randrange(256),) * 3
    code = Image.open(io.BytesIO(qr_png(payload, scale=5))).convert("RGB")
    bg.paste(code.rotate(7, expand=True, fillcolor="white"), (600, 900))
    buf = io.BytesIO()
    bg.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def test_decodes_real_codes_in_png_and_in_a_photo() -> None:
    assert decode(qr_png(WECHAT_GROUP)) == [WECHAT_GROUP]
    assert decode(screenshot("加我微信 wxid_ad12345 领福利")) == ["加我微信 wxid_ad12345 领福利"]


def test_no_code_and_hostile_files_give_nothing() -> None:
    noise = Image.effect_noise((400, 400), 80).convert("RGB")
    buf = io.BytesIO()
    noise.save(buf, "PNG")
    assert decode(buf.getvalue()) == []
    assert decode(b"not an image at all") == []
    assert decode(b"") == []
    assert decode(b"\x89PNG" + b"\0" * (MAX_BYTES + 1)) == []  # never opened


def test_decompression_bomb_is_refused() -> None:
    buf = io.BytesIO()
    Image.new("1", (14_000, 14_000)).save(buf, "PNG")  # small file, 196 M pixels
    assert len(buf.getvalue()) < 1_000_000
    assert decode(buf.getvalue()) == []


def test_payloads_become_evidence_unless_allowed() -> None:
    (hit,) = [r for _, r in qr_hits((WECHAT_GROUP,), None) if r.detector == "qr.invite"]
    assert hit.weight >= 0.9
    own = Allowlist(domains=frozenset({"weixin.qq.com"}))
    assert not [r for _, r in qr_hits((WECHAT_GROUP,), own) if r.detector == "qr.invite"]
    assert any(
        r.detector == "qr.contact.wechat" for _, r in qr_hits(("加微信 wxid_ab12345",), None)
    )


def test_moderator_judges_an_image_by_its_code() -> None:
    mod = Moderator()
    assert mod.check("[图片]", kind="image").verdict == "ok"
    v = mod.check("[图片]", kind="image", qr=(WECHAT_GROUP,))
    assert v.verdict == "ad" and not v.uncertain
    assert v.reasons[0].detector == "qr.invite"


@pytest.fixture(scope="module")
def moderate():  # type: ignore[no-untyped-def]
    return moderator_callable(Moderator())


async def test_an_image_with_a_group_code_is_removed(store: Store, moderate) -> None:  # type: ignore[no-untyped-def]
    platform = FakePlatform(
        media={"mxc://h/qr": qr_png(WECHAT_GROUP), "mxc://h/cat": b"\xff\xd8 cat"}
    )
    chat = make_chat(store, GroupSettings(), platform, moderate=moderate)
    bob = user("bob", "Bob")
    await chat.say(
        bob, "", kind=MessageKind.IMAGE, media=("mxc://h/cat",)
    )  # no code: nothing happens
    assert [name for name, _ in chat.take()] == ["fetch_media"]
    await chat.say(bob, "", kind=MessageKind.IMAGE, media=("mxc://h/qr",))
    calls = chat.take()
    assert calls[0] == ("fetch_media", {"ref": "mxc://h/qr"})
    assert calls[1] == ("delete", {"group_id": GROUP, "message_id": "m2"})
    (strike,) = rows(store, schema.strikes)
    reasons = json.loads(strike.evidence)["reasons"]
    assert any(r[0] == "qr.invite" and WECHAT_GROUP in r[1] for r in reasons)


async def test_images_are_not_fetched_when_off_or_impossible(store: Store, moderate) -> None:  # type: ignore[no-untyped-def]
    media = {"mxc://h/qr": qr_png(WECHAT_GROUP)}
    chat = make_chat(
        store, GroupSettings(qr_codes=False), FakePlatform(media=media), moderate=moderate
    )
    await chat.say(user("bob"), "", kind=MessageKind.IMAGE, media=("mxc://h/qr",))
    assert chat.take() == []
    blind = FakePlatform(media=media, capabilities=frozenset(Capability) - {Capability.FETCH_MEDIA})
    chat = make_chat(store, GroupSettings(), blind, moderate=moderate)
    await chat.say(user("carol"), "", kind=MessageKind.IMAGE, media=("mxc://h/qr",))
    assert chat.take() == []


async def test_a_failed_download_does_not_stop_the_event(store: Store, moderate) -> None:  # type: ignore[no-untyped-def]
    chat = make_chat(store, GroupSettings(), FakePlatform(), moderate=moderate)
    await chat.say(user("bob"), "", kind=MessageKind.IMAGE, media=("mxc://h/gone",))
    await chat.say(user("bob"), "加我微信 abc12345 日结兼职 躺赚", kind=MessageKind.TEXT)
    names = [name for name, _ in chat.take()]
    assert names[0] == "fetch_media" and "delete" in names  # the next event still acted on
    assert len(rows(store, schema.messages)) == 2
