"""The webhook: real ed25519 signatures in, events out; a bad signature is refused.

The signatures are made here with ``cryptography`` from the seed as QQ's
documentation derives it, independently of :class:`shequn.platforms.qqbot.Signer`,
and two of the documentation's own vectors pin the derivation: the public key of
``naOC0ocQE3shWLAfffVLB1rhYPG7`` and the op 13 answer for app ``11111111``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shequn.events import Event, MessagePosted
from shequn.platforms.port import Platform
from shequn.platforms.qqbot import QQBotAdapter, Signer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "qqbot"
PAYLOADS: dict[str, dict[str, Any]] = {
    f["name"]: f["payload"]
    for f in json.loads((FIXTURES / "dispatches.json").read_text(encoding="utf-8"))
}
# the documentation's example bot (事件订阅与通知 → 回调地址验证)
APP_ID, SECRET = "11111111", "DG5g3B4j9X2KOErG"


def qq_sign(secret: str, timestamp: str, body: bytes) -> str:
    """What QQ puts in X-Signature-Ed25519: the seed is the secret repeated to 32 bytes."""
    seed = (secret * (32 // len(secret) + 1))[:32].encode()
    return Ed25519PrivateKey.from_private_bytes(seed).sign(timestamp.encode() + body).hex()


def test_the_key_is_derived_as_documented() -> None:
    # 安全和授权 → 验证签名 DEMO: the public key of this secret, byte for byte
    public = bytes([215, 195, 98, 254, 120, 174, 248, 31, 242, 50, 135, 180, 147, 98, 139, 93,
                    176, 42, 60, 79, 227, 11, 33, 94, 77, 25, 96, 155, 93, 118, 103, 58])  # fmt: skip
    body, stamp = b'{"op": 0}', "1725442341"
    signer = Signer("naOC0ocQE3shWLAfffVLB1rhYPG7")
    assert signer.verify(stamp, body, qq_sign("naOC0ocQE3shWLAfffVLB1rhYPG7", stamp, body))
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    Ed25519PublicKey.from_public_bytes(public).verify(
        bytes.fromhex(signer.sign(stamp.encode() + body)), stamp.encode() + body
    )


@pytest.fixture
async def hook() -> AsyncIterator[tuple[str, list[Event], dict[str, Any]]]:
    """The adapter's webhook on loopback: (url, events handled, switches)."""
    adapter = QQBotAdapter(SECRET, APP_ID)
    handled: list[Event] = []
    switches: dict[str, Any] = {"fail": False}

    async def handle(event: Event, platform: Platform) -> None:
        if switches["fail"]:
            raise RuntimeError("database gone")
        handled.append(event)

    server = TestServer(adapter.webhook_app(handle), host="127.0.0.1")
    await server.start_server()
    try:
        yield f"http://127.0.0.1:{server.port}/qqbot", handled, switches
    finally:
        await server.close()
        await adapter.aclose()


async def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    async with ClientSession() as http, http.post(url, data=body, headers=headers) as resp:
        return resp.status, await resp.json()


def signed(body: bytes, *, secret: str = SECRET, stamp: str = "1732000000") -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "QQBot-Callback",
        "X-Bot-Appid": APP_ID,
        "X-Signature-Timestamp": stamp,
        "X-Signature-Method": "Ed25519",
        "X-Signature-Ed25519": qq_sign(secret, stamp, body),
    }


async def test_the_callback_address_is_validated_as_documented(
    hook: tuple[str, list[Event], dict[str, Any]],
) -> None:
    url, _, _ = hook
    body = b'{"d":{"plain_token":"Arq0D5A61EgUu4OxUvOp","event_ts":"1725442341"},"op":13}'
    headers = {"User-Agent": "QQBot-Callback", "X-Bot-Appid": APP_ID}  # unsigned, as QQ sends it
    assert await post(url, body, headers) == (200, {
        "plain_token": "Arq0D5A61EgUu4OxUvOp",
        "signature": "87befc99c42c651b3aac0278e71ada338433ae26fcb24307bdc5ad38c1adc2d0"
                     "1bcfcadc0842edac85e85205028a1132afe09280305f13aa6909ffc2d652c706",
    })  # fmt: skip


async def test_validation_cannot_be_used_to_get_a_dispatch_signed(
    hook: tuple[str, list[Event], dict[str, Any]],
) -> None:
    url, handled, _ = hook
    dispatch = json.dumps(PAYLOADS["group_at_message"]).encode()
    # event_ts + plain_token would be timestamp + body: refused
    forged = {"op": 13, "d": {"plain_token": dispatch.decode(), "event_ts": "1732000000"}}
    status, _ = await post(url, json.dumps(forged).encode(), {"X-Bot-Appid": APP_ID})
    assert status == 400
    other_bot = {"op": 13, "d": {"plain_token": "abc", "event_ts": "1"}}
    status, _ = await post(url, json.dumps(other_bot).encode(), {"X-Bot-Appid": "999"})
    assert status == 400
    assert handled == []


async def test_a_signed_dispatch_is_handled_and_acknowledged(
    hook: tuple[str, list[Event], dict[str, Any]],
) -> None:
    url, handled, _ = hook
    body = json.dumps(PAYLOADS["group_at_message"], ensure_ascii=False).encode()
    assert await post(url, body, signed(body)) == (200, {"op": 12, "d": 0})
    [ev] = handled
    assert isinstance(ev, MessagePosted) and ev.text == "123"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body, h: (
            body,
            {**h, "X-Signature-Ed25519": qq_sign("another-secret", "1732000000", body)},
        ),
        lambda body, h: (body.replace(b" 123", b" 456"), h),  # the body changed in transit
        lambda body, h: (body, {**h, "X-Signature-Timestamp": "1732000001"}),
        lambda body, h: (body, {k: v for k, v in h.items() if k != "X-Signature-Ed25519"}),
        lambda body, h: (body, {**h, "X-Signature-Ed25519": "zz" * 64}),
    ],
    ids=["wrong-secret", "tampered-body", "other-timestamp", "unsigned", "not-hex"],
)
async def test_a_wrong_signature_is_refused(
    hook: tuple[str, list[Event], dict[str, Any]], tamper: Any
) -> None:
    url, handled, _ = hook
    body = json.dumps(PAYLOADS["group_at_message"], ensure_ascii=False).encode()
    body, headers = tamper(body, signed(body))
    status, _ = await post(url, body, headers)
    assert status == 401
    assert handled == []


async def test_an_event_that_could_not_be_stored_is_refused_so_qq_sends_it_again(
    hook: tuple[str, list[Event], dict[str, Any]],
) -> None:
    url, handled, switches = hook
    body = json.dumps(PAYLOADS["at_message"], ensure_ascii=False).encode()
    switches["fail"] = True
    assert (await post(url, body, signed(body)))[0] == 500
    switches["fail"] = False
    assert await post(url, body, signed(body)) == (200, {"op": 12, "d": 0})
    assert [e.message_id for e in handled] == ["0812345677890abcdef"]  # type: ignore[union-attr]
