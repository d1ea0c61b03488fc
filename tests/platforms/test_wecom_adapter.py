"""WeCom callbacks through the real crypto and the real endpoint, API calls on loopback.

Callback bodies are the documented examples (tests/fixtures/wecom/callbacks.json,
sources in its README), encrypted with wechatpy exactly as WeCom does and POSTed to
the adapter's aiohttp endpoint on 127.0.0.1; the adapter decrypts, asks a fake WeCom
API (aiohttp on 127.0.0.1, answering with the documented response examples) for
what the callback does not say, and hands events to the handler. The official
crypto vectors of WeCom's sample code check the URL verification and decryption
against ciphertext wechatpy did not make.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from shequn.events import (
    Event,
    GroupSeen,
    JoinMethod,
    MemberJoined,
    MemberLeft,
    MemberRef,
    MemberRenamed,
)
from shequn.platforms.port import Adapter, Platform, Unsupported
from shequn.platforms.wecom import CallbackCrypto, WeComAdapter

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "wecom"
VECTORS = json.loads((FIXTURES / "official_vectors.json").read_text(encoding="utf-8"))
CALLBACKS: dict[str, str] = {
    c["name"]: c["xml"] for c in json.loads((FIXTURES / "callbacks.json").read_text("utf-8"))
}
API = json.loads((FIXTURES / "api.json").read_text(encoding="utf-8"))
CORP, TOKEN, AES_KEY = VECTORS["corp_id"], VECTORS["token"], VECTORS["encoding_aes_key"]
SECRET = "ECAPqkh9CLKzwSjs2ApcVfgNHjnqRSUzMXMjDdBTpBU"
AGENT = 1000002
ACCESS_TOKEN = API["gettoken"]["access_token"]
CHAT = API["groupchat_get"]["group_chat"]["chat_id"]
CUSTOMER = "wmOgQhDgAAuXFJGwbve4g4iXknfOAAAA"
NOW = 1_790_000_000.0


def detail(**changes: Any) -> dict[str, Any]:
    """The documented groupchat/get ``group_chat`` with ``changes`` applied."""
    d = copy.deepcopy(API["groupchat_get"]["group_chat"])
    d.update(changes)
    return d


class FakeWeCom:
    """The WeCom server API on loopback: documented answers, every call recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, str], Any]] = []
        self.groups: dict[str, dict[str, Any]] = {}
        self.errors: dict[str, list[dict[str, Any]]] = {}  # path -> bodies to answer first
        self.answers: dict[str, dict[str, Any]] = {
            "/message/send": API["message_send"],
            "/externalcontact/add_msg_template": API["add_msg_template"],
            "/externalcontact/groupchat/add_join_way": API["add_join_way"],
            "/externalcontact/groupchat/update_join_way": {"errcode": 0, "errmsg": "ok"},
        }
        self.pages: list[dict[str, Any]] | None = None  # groupchat/list answers in order

    async def endpoint(self, request: web.Request) -> web.Response:
        path = request.path.removeprefix("/cgi-bin")
        body = await request.json() if request.can_read_body else None
        self.calls.append((request.method, path, dict(request.query), body))
        if self.errors.get(path):
            return web.json_response(self.errors[path].pop(0))
        if path == "/gettoken":
            return web.json_response(API["gettoken"])
        if request.query.get("access_token") != ACCESS_TOKEN:
            return web.json_response({"errcode": 40014, "errmsg": "invalid access_token"})
        if path == "/externalcontact/groupchat/list":
            if self.pages is not None:
                return web.json_response(self.pages.pop(0))
            chats = [{"chat_id": c, "status": 0} for c in self.groups]
            return web.json_response({"errcode": 0, "errmsg": "ok", "group_chat_list": chats,
                                      "next_cursor": ""})  # fmt: skip
        if path == "/externalcontact/groupchat/get":
            group = self.groups.get(body["chat_id"])
            if group is None:
                return web.json_response({"errcode": 40050, "errmsg": "chatid不存在"})
            return web.json_response({"errcode": 0, "errmsg": "ok", "group_chat": group})
        return web.json_response(self.answers[path])

    def take(self) -> list[tuple[str, str, dict[str, str], Any]]:
        out, self.calls = self.calls, []
        return out


@contextlib.asynccontextmanager
async def fake_wecom() -> AsyncIterator[tuple[FakeWeCom, str]]:
    """A :class:`FakeWeCom` served on loopback, and its API base URL."""
    fake = FakeWeCom()
    app = web.Application()
    app.router.add_route("*", "/cgi-bin/{tail:.*}", fake.endpoint)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield fake, f"http://127.0.0.1:{server.port}/cgi-bin"
    finally:
        await server.close()


@pytest.fixture
async def wecom() -> AsyncIterator[tuple[FakeWeCom, str]]:
    async with fake_wecom() as served:
        yield served


def make_adapter(base: str, **kw: Any) -> WeComAdapter:
    return WeComAdapter(
        SECRET, CORP, AGENT, callback_token=TOKEN, encoding_aes_key=AES_KEY,
        host="127.0.0.1", port=0, api_base=base, clock=lambda: NOW, **kw,
    )  # fmt: skip


def sealed(
    xml: str, nonce: str = "1372623149", timestamp: str = "1409659813"
) -> tuple[dict[str, str], str]:
    """(query, body) of the POST WeCom makes for the plain callback ``xml``."""
    envelope = CallbackCrypto(TOKEN, AES_KEY, CORP).encrypt(xml, nonce, timestamp)
    encrypt = re.search(r"<Encrypt><!\[CDATA\[(.*?)\]\]>", envelope)
    signature = re.search(r"<MsgSignature><!\[CDATA\[(.*?)\]\]>", envelope)
    assert encrypt and signature
    body = (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><Encrypt><![CDATA[{encrypt[1]}]]>"
            f"</Encrypt><AgentID><![CDATA[{AGENT}]]></AgentID></xml>")  # fmt: skip
    return {"msg_signature": signature[1], "timestamp": timestamp, "nonce": nonce}, body


async def _until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.01)


class Running:
    """A started adapter and what its handler received."""

    def __init__(self, adapter: WeComAdapter) -> None:
        self.adapter = adapter
        self.events: list[Event] = []
        self.fail: BaseException | None = None
        self.task: asyncio.Task[None] | None = None

    async def handle(self, event: Event, platform: Platform) -> None:
        assert platform is self.adapter
        if self.fail is not None:
            raise self.fail
        self.events.append(event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.adapter.bound_port}/wecom/callback"

    async def post(self, query: dict[str, str], body: str) -> tuple[int, str]:
        async with aiohttp.ClientSession() as s, s.post(self.url, params=query, data=body) as r:
            return r.status, await r.text()

    async def callback(self, name: str) -> list[Event]:
        mark = len(self.events)
        status, text = await self.post(*sealed(CALLBACKS[name]))
        assert (status, text) == (200, "success")
        return self.events[mark:]

    def take(self) -> list[Event]:
        out, self.events = self.events, []
        return out


@pytest.fixture
async def running(wecom: tuple[FakeWeCom, str]) -> AsyncIterator[Running]:
    fake, base = wecom
    fake.groups[CHAT] = detail(member_list=[], admin_list=[])  # a new, empty group
    run = Running(make_adapter(base))
    run.task = asyncio.create_task(run.adapter.start(run.handle))
    await _until(lambda: any(c[1] == "/externalcontact/groupchat/get" for c in fake.calls))
    await _until(lambda: run.adapter.bound_port is not None and bool(run.events))
    try:
        yield run
    finally:
        await run.adapter.stop()
        await asyncio.wait_for(run.task, 5)


def test_adapter_fits_the_port_and_can_do_nothing_in_customer_groups() -> None:
    adapter = make_adapter("http://127.0.0.1:9")
    assert isinstance(adapter, Adapter)
    assert adapter.capabilities == frozenset()


async def test_port_calls_are_unsupported_not_silently_dropped() -> None:
    adapter = make_adapter("http://127.0.0.1:9")
    with pytest.raises(Unsupported, match="cannot post"):
        await adapter.send(CHAT, "hi")
    with pytest.raises(Unsupported, match="recall"):
        await adapter.delete(CHAT, "m1")
    with pytest.raises(Unsupported, match="remove members"):
        await adapter.kick(CHAT, CUSTOMER)
    with pytest.raises(Unsupported, match="mute"):
        await adapter.mute(CHAT, CUSTOMER, 60)


def test_the_secrets_are_required() -> None:
    with pytest.raises(TypeError, match="EncodingAESKey"):
        WeComAdapter(SECRET, CORP, AGENT, callback_token=TOKEN)


# -- the official crypto vectors through the real endpoint ----------------------------


async def test_url_verification_with_the_official_vector(running: Running) -> None:
    v = VECTORS["verify_url"]
    query = {k: v[k] for k in ("msg_signature", "timestamp", "nonce", "echostr")}
    async with aiohttp.ClientSession() as s:
        async with s.get(running.url, params=query) as r:
            assert (r.status, await r.text()) == (200, v["reply"])
        forged = dict(query, msg_signature="0" * 40)
        async with s.get(running.url, params=forged) as r:
            assert r.status == 403
            assert v["reply"] not in await r.text()
        async with s.get(running.url, params={"echostr": v["echostr"]}) as r:
            assert r.status == 400


async def test_the_official_encrypted_post_decrypts_and_gives_no_event(
    running: Running, wecom: tuple[FakeWeCom, str]
) -> None:
    fake, _ = wecom
    fake.take()
    running.take()
    p = VECTORS["post"]
    query = {k: p[k] for k in ("msg_signature", "timestamp", "nonce")}
    seen: list[dict[str, Any]] = []
    original = running.adapter.events

    async def spy(msg: dict[str, Any]) -> list[Event]:
        seen.append(msg)
        return await original(msg)

    running.adapter.events = spy  # type: ignore[method-assign]
    assert await running.post(query, p["body"]) == (200, "success")
    assert seen == [p["plain"]]  # a plain app text message: not a customer-group event
    assert running.take() == [] and fake.take() == []


async def test_a_wrong_signature_or_foreign_corp_is_refused_unread(
    running: Running, wecom: tuple[FakeWeCom, str]
) -> None:
    fake, _ = wecom
    fake.take()
    running.take()
    query, body = sealed(CALLBACKS["chat_add_member"])
    assert (await running.post(dict(query, msg_signature="f" * 40), body))[0] == 403
    assert (await running.post(dict(query, timestamp="1409659814"), body))[0] == 403
    # signed right, but encrypted for another corp id
    other = CallbackCrypto(TOKEN, AES_KEY, "ww0000000000000000").encrypt(
        CALLBACKS["chat_add_member"], "1", "2"
    )
    enc = re.search(r"<Encrypt><!\[CDATA\[(.*?)\]\]>", other)
    sig = re.search(r"<MsgSignature><!\[CDATA\[(.*?)\]\]>", other)
    assert enc and sig
    status, _ = await running.post(
        {"msg_signature": sig[1], "timestamp": "2", "nonce": "1"},
        f"<xml><Encrypt><![CDATA[{enc[1]}]]></Encrypt></xml>",
    )
    assert status == 403
    assert (await running.post({}, body))[0] == 400
    assert running.take() == [] and fake.take() == []  # nothing fetched, nothing handled


# -- documented callbacks → events, with the API calls they take ----------------------


def _get(chat: str = CHAT) -> tuple[str, str, dict[str, str], Any]:
    return ("POST", "/externalcontact/groupchat/get", {"access_token": ACCESS_TOKEN},
            {"chat_id": chat, "need_name": 1})  # fmt: skip


async def test_start_syncs_then_callbacks_become_events(
    running: Running, wecom: tuple[FakeWeCom, str]
) -> None:
    fake, _ = wecom
    # the sync on start: token, every group, each group's detail
    assert fake.take() == [
        ("GET", "/gettoken", {"corpid": CORP, "corpsecret": SECRET}, None),
        ("POST", "/externalcontact/groupchat/list", {"access_token": ACCESS_TOKEN},
         {"status_filter": 0, "limit": 1000}),
        _get(),
    ]  # fmt: skip
    assert running.take() == [GroupSeen("wecom", CHAT, "销售客服群", NOW, "customer_group")]

    assert await running.callback("chat_create") == [
        GroupSeen("wecom", CHAT, "销售客服群", 1403610513.0, "customer_group")
    ]
    assert fake.take() == [_get()]

    fake.groups[CHAT] = detail()  # abel and the customer are in now
    staff_jack = MemberRef("jack", is_operator=True)
    assert await running.callback("chat_add_member") == [
        MemberJoined("wecom", CHAT, "abel:1572505491", 1572505491.0,
                     MemberRef("abel", "客服小张", is_operator=True),
                     inviter=staff_jack, method=JoinMethod.INVITED),
        MemberJoined("wecom", CHAT, f"{CUSTOMER}:1572505491", 1572505491.0,
                     MemberRef(CUSTOMER, "顾客老王"), method=JoinMethod.INVITED),
    ]  # fmt: skip
    assert fake.take() == [_get()]

    # a removal needs no call: who left is in the callback, their name in memory
    fake.groups[CHAT] = detail(member_list=detail()["member_list"][:1])
    assert await running.callback("chat_del_member_removed") == [
        MemberLeft("wecom", CHAT, f"{CUSTOMER}:1403610513", 1403610513.0,
                   MemberRef(CUSTOMER, "顾客老王"), kicked=True)
    ]  # fmt: skip
    assert fake.take() == []

    fake.groups[CHAT]["name"] = "销售客服群（二群）"
    assert await running.callback("chat_change_name") == [
        GroupSeen("wecom", CHAT, "销售客服群（二群）", 1403610513.0, "customer_group")
    ]
    fake.groups[CHAT]["owner"] = "sam"
    assert await running.callback("chat_change_owner") == []
    assert running.adapter.groups[CHAT].owner == "sam"  # owner tasks now go to sam
    assert fake.take() == [_get(), _get()]

    staff = MemberRef("zhangsan", is_operator=True)
    who = MemberRef("woAJ2GCAAAXtWyujaWJHDDGi0mAAAA")
    book = "contacts:zhangsan"
    assert await running.callback("contact_add") == [
        MemberJoined("wecom", book, f"add_external_contact:{who.platform_id}:1403610513",
                     1403610513.0, who, inviter=staff, method=JoinMethod.LINK)
    ]  # fmt: skip
    assert await running.callback("contact_edit") == []
    assert await running.callback("contact_del") == [
        MemberLeft("wecom", book, f"del_external_contact:{who.platform_id}:1403610513",
                   1403610513.0, who, removed_by=staff, kicked=True)
    ]  # fmt: skip
    assert await running.callback("contact_del_follow_user") == [
        MemberLeft("wecom", book, f"del_follow_user:{who.platform_id}:1403610513",
                   1403610513.0, who)
    ]  # fmt: skip
    assert await running.callback("chat_dismiss") == []
    assert CHAT not in running.adapter.groups
    assert fake.take() == []


async def test_a_failing_handler_answers_500_so_wecom_sends_again(running: Running) -> None:
    running.take()
    running.fail = RuntimeError("archive unavailable")
    query, body = sealed(CALLBACKS["chat_create"])
    status, _ = await running.post(query, body)
    assert status == 500
    running.fail = None
    assert await running.post(query, body) == (200, "success")  # WeCom's retry
    assert running.take() == [GroupSeen("wecom", CHAT, "销售客服群", 1403610513.0,
                                        "customer_group")]  # fmt: skip


async def test_a_sync_finds_what_no_callback_told(
    running: Running, wecom: tuple[FakeWeCom, str]
) -> None:
    fake, _ = wecom
    fake.groups[CHAT] = detail()
    await running.adapter.sync()
    joined = [e for e in running.take() if isinstance(e, MemberJoined)]
    # the same event ids as the add_member callback's: the engine keeps one of each
    assert [e.event_id for e in joined] == ["abel:1572505491", f"{CUSTOMER}:1572505491"]

    renamed = detail()
    renamed["member_list"][0]["group_nickname"] = "客服小李"
    del renamed["member_list"][1]
    fake.groups[CHAT] = renamed
    await running.adapter.sync()
    assert running.take() == [
        MemberRenamed("wecom", CHAT, f"abel:{int(NOW)}", NOW,
                      MemberRef("abel", "客服小李", is_operator=True), "客服小张", "客服小李"),
        MemberLeft("wecom", CHAT, f"{CUSTOMER}:{int(NOW)}", NOW, MemberRef(CUSTOMER, "顾客老王")),
    ]  # fmt: skip


async def test_a_malformed_callback_is_skipped_with_a_warning(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    running.take()
    xml = CALLBACKS["contact_add"].replace("<UserID><![CDATA[zhangsan]]></UserID>", "")
    assert await running.post(*sealed(xml)) == (200, "success")
    assert running.take() == []
    assert "wecom: skipped a malformed callback" in caplog.text


def test_built_from_the_bot_config(monkeypatch: pytest.MonkeyPatch) -> None:
    from shequn.botconfig import AccountConfig
    from shequn.commands.bot import build_adapter

    monkeypatch.setenv("SHEQUN_WECOM_CALLBACK_TOKEN", TOKEN)
    monkeypatch.setenv("SHEQUN_WECOM_AES_KEY", AES_KEY)
    adapter = build_adapter(
        AccountConfig("wecom", SECRET, {"corp_id": CORP, "agent_id": AGENT, "port": 0})
    )
    assert isinstance(adapter, WeComAdapter)
    assert (adapter.corp_id, adapter.agent_id, adapter.port) == (CORP, AGENT, 0)
    # the env's Token and key are the ones callbacks are checked with
    v = VECTORS["verify_url"]
    echo = adapter.crypto.verify_url(v["msg_signature"], v["timestamp"], v["nonce"], v["echostr"])
    assert echo == v["reply"]
