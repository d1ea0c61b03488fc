"""WeCom callbacks under generated malformed requests, through the real endpoint.

Seeds are the documented callbacks (tests/fixtures/wecom/callbacks.json, plus the
tag-change event). Each case is one POST to a started :class:`WeComAdapter` (its
aiohttp endpoint on 127.0.0.1, the API behind the transport seam answering with the
documented bodies, events written to a real archive). What is broken:

* ``inner``: the decrypted ``<xml>``: fields dropped, replaced with generated or
  hostile values, nested, or the text itself cut and garbled; then encrypted and
  signed correctly, so it reaches the parser;
* ``envelope``: the encrypted envelope: its XML cut or garbled, the ciphertext
  changed, the signature, timestamp or nonce wrong or missing, bytes that are not
  UTF-8, bodies beyond the size limit.

The property: every request ends within seconds as a success (events the archive
takes, a skip logged with its reason, or nothing for a callback shequn has no use
for) or a refusal (400 / 403 / 413) logged with its reason; never a 500, an
exception or a hang.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import xmltodict
from fuzz_mutations import HOSTILE, mutate_json, mutate_lines
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shequn.events import Event
from shequn.platforms.port import Platform
from shequn.platforms.wecom import CallbackCrypto, Response, WeComAdapter
from shequn.store import open_store
from shequn.store.writer import ArchiveWriter

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "wecom"
VECTORS = json.loads((FIXTURES / "official_vectors.json").read_text(encoding="utf-8"))
API = json.loads((FIXTURES / "api.json").read_text(encoding="utf-8"))
CORP, TOKEN, AES_KEY = VECTORS["corp_id"], VECTORS["token"], VECTORS["encoding_aes_key"]
TAG_EVENT = (
    "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[sys]]>"
    "</FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]></MsgType>"
    "<Event><![CDATA[change_external_tag]]></Event><Id><![CDATA[TAG_ID]]></Id>"
    "<TagType><![CDATA[tag]]></TagType><ChangeType><![CDATA[update]]></ChangeType></xml>"
)
SEEDS = [c["xml"] for c in json.loads((FIXTURES / "callbacks.json").read_text("utf-8"))]
SEEDS.append(TAG_EVENT)
EXAMPLES = int(os.environ.get("SHEQUN_FUZZ_EXAMPLES", "60"))
RANDOM = os.environ.get("SHEQUN_FUZZ_RANDOM") == "1"
EVENT_TYPES = tuple(Event.__args__)  # type: ignore[attr-defined]
LOGGERS = ("shequn.platforms.wecom.callback", "shequn.platforms.wecom.adapter")


class DocumentedApi:
    """The server API behind the transport seam: the documented answer of each call."""

    ANSWERS: Mapping[str, Any] = {
        "/gettoken": API["gettoken"],
        "/externalcontact/groupchat/list": API["groupchat_list"],
        "/externalcontact/groupchat/get": API["groupchat_get"],
        "/externalcontact/get_corp_tag_list": {"errcode": 0, "errmsg": "ok", "tag_group": [
            {"group_id": "G1", "group_name": "客户等级", "deleted": False,
             "tag": [{"id": "TAG_ID", "name": "重点客户", "deleted": False}]}]},
        "/externalcontact/get_follow_user_list": {"errcode": 0, "errmsg": "ok",
                                                  "follow_user": ["zhangsan"]},
        "/externalcontact/batch/get_by_user": {"errcode": 0, "errmsg": "ok",
                                               "external_contact_list": [], "next_cursor": ""},
        "/externalcontact/get": {"errcode": 0, "errmsg": "ok", "follow_user": [
            {"userid": "zhangsan", "tags": [{"group_name": "客户等级", "tag_name": "重点客户",
                                             "tag_id": "TAG_ID", "type": 1}]}],
            "next_cursor": ""},
    }  # fmt: skip

    async def request(
        self, method: str, path: str, *, params: Mapping[str, str], json: Any = None
    ) -> Response:
        return Response(200, copy.deepcopy(self.ANSWERS.get(path, {"errcode": 0})))

    async def aclose(self) -> None:
        return None


def _unparse(doc: Any) -> str:
    return str(xmltodict.unparse({"xml": doc}, full_document=False))


#: numbers that parse but are no time or count: ``float("1e999")`` is infinity
NUMBERS = ["1e999", "-1e999", "nan", "-1", "1" * 5000, "0x10", "１４０３６１０５１３"]


def inner_xml(data: st.DataObject) -> str:
    seed = data.draw(st.sampled_from(SEEDS), label="seed")
    if data.draw(st.integers(0, 4), label="number") == 0:
        tag = data.draw(st.sampled_from(["CreateTime", "JoinScene", "QuitScene", "MemChangeCnt"]))
        value = data.draw(st.sampled_from(NUMBERS))
        return re.sub(rf"<{tag}>[^<]*</{tag}>", f"<{tag}>{value}</{tag}>", seed)
    if data.draw(st.booleans(), label="as text"):
        return mutate_lines(seed.replace("><", ">\n<"), data).replace("\n", "")
    doc = mutate_json(dict(xmltodict.parse(seed)["xml"]), data)
    try:
        return _unparse(doc if isinstance(doc, dict) else {"Value": doc})
    except (ValueError, TypeError, AttributeError):
        return seed[: data.draw(st.integers(0, len(seed)))]  # an unwritable tree: cut instead


def sealed(xml: str) -> tuple[dict[str, str], str]:
    envelope = CallbackCrypto(TOKEN, AES_KEY, CORP).encrypt(xml, "1372623149", "1409659813")
    encrypt = re.search(r"<Encrypt><!\[CDATA\[(.*?)\]\]>", envelope)
    signature = re.search(r"<MsgSignature><!\[CDATA\[(.*?)\]\]>", envelope)
    assert encrypt and signature
    body = (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><Encrypt><![CDATA[{encrypt[1]}]]>"
            "</Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>")  # fmt: skip
    return {"msg_signature": signature[1], "timestamp": "1409659813", "nonce": "1372623149"}, body


def broken_envelope(data: st.DataObject) -> tuple[dict[str, str], bytes]:
    query, body = sealed(data.draw(st.sampled_from(SEEDS), label="seed"))
    what = data.draw(st.sampled_from(["xml", "cipher", "query", "drop", "bytes", "huge"]))
    raw = body.encode("utf-8")
    if what == "xml":
        raw = mutate_lines(body.replace("><", ">\n<"), data).replace("\n", "").encode("utf-8")
    elif what == "cipher":
        m = re.search(r"CDATA\[([A-Za-z0-9+/=]+)\]\]></Encrypt>", body)
        assert m
        cipher = list(m[1])
        for _ in range(data.draw(st.integers(1, 6))):
            i = data.draw(st.integers(0, len(cipher) - 1))
            cipher[i] = data.draw(st.sampled_from("AZaz09+/=!\u00e9"))
        raw = body.replace(m[1], "".join(cipher)).encode("utf-8")
    elif what == "query":
        key = data.draw(st.sampled_from(sorted(query)))
        query[key] = data.draw(st.sampled_from(["", "0", "x" * 300, *HOSTILE[:7]]))
    elif what == "drop":
        del query[data.draw(st.sampled_from(sorted(query)))]
    elif what == "bytes":
        raw = raw[:40] + data.draw(st.binary(min_size=1, max_size=20)) + raw[40:]
    else:
        raw = raw.replace(b"</xml>", b"<Pad>" + b"A" * data.draw(st.sampled_from([70_000,
                                                                                   400_000])) + b"</Pad></xml>")  # fmt: skip
    return query, raw


@pytest.mark.parametrize("part", ["inner", "envelope"])
def test_wecom_callbacks_survive_malformed_requests(
    part: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'fuzz.db'}")
    outcomes = {"translated": 0, "skipped": 0, "ignored": 0, "refused": 0}
    loop = asyncio.new_event_loop()

    async def handle(event: Event, platform: Platform) -> None:
        assert isinstance(event, EVENT_TYPES)
        with store.engine.begin() as conn:  # the archive must take what the adapter made
            writer = ArchiveWriter(conn)
            writer.add(event)
            writer.flush()
        got.append(event)

    got: list[Event] = []
    adapter = WeComAdapter(
        "secret", CORP, 1000002, callback_token=TOKEN, encoding_aes_key=AES_KEY,
        host="127.0.0.1", port=0, transport=DocumentedApi(), clock=lambda: 1_790_000_000.0,
        store=store,
    )  # fmt: skip
    runner = loop.create_task(adapter.start(handle))

    async def ready() -> aiohttp.ClientSession:
        async with asyncio.timeout(10):
            while adapter.bound_port is None or not adapter.groups:
                await asyncio.sleep(0.005)
        return aiohttp.ClientSession()

    session = loop.run_until_complete(ready())
    url = f"http://127.0.0.1:{adapter.bound_port}/wecom/callback"
    got.clear()

    async def post(query: dict[str, str], body: bytes) -> int:
        async with asyncio.timeout(10), session.post(url, params=query, data=body) as r:
            await r.read()
            return r.status

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        database=None,
        derandomize=not RANDOM,
    )
    @given(st.data())
    def case(data: st.DataObject) -> None:
        if part == "inner":
            query, body = sealed(inner_xml(data))
            raw = body.encode("utf-8")
        else:
            query, raw = broken_envelope(data)
        caplog.clear()
        got.clear()
        with caplog.at_level(logging.WARNING):
            status = loop.run_until_complete(post(query, raw))
        said = [r.getMessage() for r in caplog.records if r.name in LOGGERS]
        assert status in (200, 400, 403, 413), (status, said)
        if status != 200:
            assert any("WeCom callback refused" in m for m in said), said
            outcomes["refused"] += 1
        elif any("wecom: skipped a malformed" in m for m in said):
            outcomes["skipped"] += 1
        elif got:
            outcomes["translated"] += 1
        else:
            outcomes["ignored"] += 1

    try:
        case()
    finally:
        loop.run_until_complete(session.close())
        loop.run_until_complete(adapter.stop())
        loop.run_until_complete(asyncio.wait_for(runner, 10))
        loop.close()
        store.close()
    print(
        f"fuzz payload wecom_{part}: {outcomes['translated']} translated, "
        f"{outcomes['skipped']} skipped, {outcomes['ignored']} ignored, "
        f"{outcomes['refused']} refused"
    )
    assert outcomes["refused"] > 0
    if part == "inner":
        assert outcomes["translated"] > 0 and outcomes["skipped"] > 0


@pytest.mark.parametrize("value", NUMBERS)
@pytest.mark.parametrize("seed", [0, 1, 6])  # chat_create, chat_add_member, contact_add
async def test_hostile_numbers_in_a_callback_are_a_skip(
    seed: int, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by ``bench/fuzz.py``: ``CreateTime`` 1e999 made an event id of infinity."""
    adapter = WeComAdapter(
        "secret", CORP, 1000002, callback_token=TOKEN, encoding_aes_key=AES_KEY,
        transport=DocumentedApi(), clock=lambda: 1_790_000_000.0,
    )  # fmt: skip
    xml = re.sub(r"<CreateTime>\d+</CreateTime>", f"<CreateTime>{value}</CreateTime>", SEEDS[seed])
    msg = CallbackCrypto(TOKEN, AES_KEY, CORP).decrypt(*_sealed_args(xml))
    events = await adapter.events(msg)
    if value in ("-1", "1" * 5000, NUMBERS[-1]):  # numbers after all (full-width digits too)
        assert events or "skipped a malformed callback" in caplog.text
    else:
        assert events == [] and "skipped a malformed callback" in caplog.text


def _sealed_args(xml: str) -> tuple[str, str, str, str]:
    query, body = sealed(xml)
    return body, query["msg_signature"], query["timestamp"], query["nonce"]
