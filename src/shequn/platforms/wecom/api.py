"""The WeCom server API (``qyapi.weixin.qq.com/cgi-bin``): a thin client on a transport seam.

A thin client rather than wechatpy's ``WeChatClient``: that one is synchronous
(``requests``) and would block the event loop, and it retries by itself, while shequn
wants a rate limit back as ``PlatformError(retry_after=...)`` so the outbox decides.
:class:`Transport` is the seam: :class:`AiohttpTransport` speaks HTTP to WeCom, or to
a loopback server in the tests, which assert every call exactly.

Every call carries ``access_token`` in the query. The token (``gettoken`` with the
corp id and the app's secret) lives 7200 s; it is fetched on first use, renewed a
minute early, and fetched again once when WeCom says it expired (42001) or is invalid
(40014, 40001: someone else renewed the app's token elsewhere).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from shequn.platforms.port import PlatformError

__all__ = ["API_BASE", "AiohttpTransport", "Response", "Transport", "WeComApi", "WeComError"]

API_BASE = "https://qyapi.weixin.qq.com/cgi-bin"
#: errcodes: the access token is stale; fetch a new one and try once more
TOKEN_STALE = (40001, 40014, 42001)
#: errcodes: too many calls (API frequency, per-minute / per-day limits)
RATE_LIMITED = {45009: 60.0, 45011: 60.0, 45033: 60.0, 45035: 60.0}


class WeComError(PlatformError):
    """WeCom answered with a non-zero ``errcode``."""

    def __init__(self, message: str, errcode: int, *, retry_after: float | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.errcode = errcode


@dataclass(frozen=True)
class Response:
    status: int
    body: Any  # parsed JSON


class Transport(Protocol):
    async def request(
        self, method: str, path: str, *, params: Mapping[str, str], json: Any = None
    ) -> Response:
        """Send one request to ``path`` (relative to the API base)."""

    async def aclose(self) -> None: ...


class AiohttpTransport:
    """HTTP to the API base; a timeout or connection error is a PlatformError."""

    def __init__(self, api_base: str = API_BASE, *, timeout: float = 15.0) -> None:
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def request(
        self, method: str, path: str, *, params: Mapping[str, str], json: Any = None
    ) -> Response:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        data = None if json is None else _dumps(json)
        headers = {"Content-Type": "application/json; charset=utf-8"} if data else {}
        try:
            async with self._session.request(
                method,
                self.api_base + path,
                params=dict(params),
                data=data,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as resp:
                text = await resp.text()
                return Response(resp.status, _parse(text))
        except TimeoutError:
            raise PlatformError(f"WeCom {path}: no answer in {self.timeout:g} s") from None
        except aiohttp.ClientError as exc:
            # the query carries the access token: name the path, never the URL
            raise PlatformError(f"WeCom {path}: {type(exc).__name__}") from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _dumps(value: Any) -> bytes:
    # WeCom reads UTF-8 JSON; escaped Chinese arrives as literal \\uXXXX in some clients
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def _parse(text: str) -> Any:
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {"errcode": -2, "errmsg": text[:200]}


class WeComApi:
    """Calls with the access token managed and WeCom's ``errcode`` turned into errors."""

    def __init__(
        self,
        corp_id: str,
        secret: str,
        transport: Transport,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.corp_id, self._secret = corp_id, secret
        self.transport = transport
        self.clock = clock
        self._token: str | None = None
        self._expires = 0.0

    async def _fetch_token(self) -> str:
        resp = await self.transport.request(
            "GET", "/gettoken", params={"corpid": self.corp_id, "corpsecret": self._secret}
        )
        body = _checked("/gettoken", resp)
        self._token = str(body["access_token"])
        self._expires = self.clock() + float(body.get("expires_in") or 7200) - 60
        return self._token

    async def token(self) -> str:
        if self._token is None or self.clock() >= self._expires:
            return await self._fetch_token()
        return self._token

    async def call(
        self,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        query: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """POST ``body`` (GET when None) to ``path``; the answer, or :class:`WeComError`."""
        for attempt in (1, 2):
            token = await self.token()
            resp = await self.transport.request(
                "GET" if body is None else "POST",
                path,
                params={"access_token": token, **(query or {})},
                json=body,
            )
            try:
                return _checked(path, resp)
            except WeComError as exc:
                if exc.errcode in TOKEN_STALE and attempt == 1:
                    self._token = None
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    # -- the calls shequn makes ---------------------------------------------------

    async def group_chats(self, *, limit: int = 1000) -> list[str]:
        """Every customer group's chat id (``groupchat/list``, all pages, any status)."""
        ids: list[str] = []
        cursor = ""
        while True:
            body: dict[str, Any] = {"status_filter": 0, "limit": limit}
            if cursor:
                body["cursor"] = cursor
            got = await self.call("/externalcontact/groupchat/list", body)
            ids += [str(g["chat_id"]) for g in got.get("group_chat_list") or []]
            cursor = str(got.get("next_cursor") or "")
            if not cursor:
                return ids

    async def group_chat(self, chat_id: str) -> dict[str, Any]:
        """One group with its members and their names (``groupchat/get``)."""
        got = await self.call(
            "/externalcontact/groupchat/get", {"chat_id": chat_id, "need_name": 1}
        )
        return dict(got["group_chat"])

    async def send_text(self, agent_id: int, touser: str, content: str) -> str:
        """An app message to one staff member (``message/send``); its msgid."""
        got = await self.call(
            "/message/send",
            {
                "touser": touser,
                "msgtype": "text",
                "agentid": agent_id,
                "text": {"content": content},
            },
        )
        if got.get("invaliduser"):
            raise WeComError(
                f"WeCom /message/send: {got['invaliduser']} cannot receive app messages "
                "(not in the app's visible range?)",
                81013,
            )
        return str(got.get("msgid") or "")

    async def add_msg_template(self, sender: str, chat_ids: list[str], text: str) -> str:
        """A group mass-send task for ``sender`` to confirm (``add_msg_template``); its msgid."""
        got = await self.call(
            "/externalcontact/add_msg_template",
            {"chat_type": "group", "sender": sender, "chat_id_list": chat_ids,
             "text": {"content": text}},
        )  # fmt: skip
        if got.get("fail_list"):
            raise WeComError(
                f"WeCom add_msg_template: not sent to {got['fail_list']}", int(got["errcode"])
            )
        return str(got["msgid"])

    async def groupmsg_send_result(self, msgid: str, userid: str) -> list[dict[str, Any]]:
        """What became of a mass send at one sender (``get_groupmsg_send_result``, all
        pages): per customer group ``chat_id``, ``status`` (0 not yet, 1 sent, 2 / 3 not
        delivered) and ``send_time``."""
        out: list[dict[str, Any]] = []
        cursor = ""
        while True:
            body: dict[str, Any] = {"msgid": msgid, "userid": userid, "limit": 1000}
            if cursor:
                body["cursor"] = cursor
            got = await self.call("/externalcontact/get_groupmsg_send_result", body)
            out += [x for x in got.get("send_list") or [] if isinstance(x, dict)]
            cursor = str(got.get("next_cursor") or "")
            if not cursor:
                return out

    async def add_join_way(
        self, chat_ids: list[str], *, remark: str, state: str, room_base_name: str,
        room_base_id: int = 1,
    ) -> str:  # fmt: skip
        """A group QR code (活码) over ``chat_ids`` that opens new groups when all are full."""
        got = await self.call(
            "/externalcontact/groupchat/add_join_way",
            {"scene": 2, "remark": remark, "auto_create_room": 1,
             "room_base_name": room_base_name, "room_base_id": room_base_id,
             "chat_id_list": chat_ids, "state": state},
        )  # fmt: skip
        return str(got["config_id"])

    async def update_join_way(
        self, config_id: str, chat_ids: list[str], *, remark: str, state: str,
        room_base_name: str, room_base_id: int = 1,
    ) -> None:  # fmt: skip
        await self.call(
            "/externalcontact/groupchat/update_join_way",
            {"config_id": config_id, "scene": 2, "remark": remark, "auto_create_room": 1,
             "room_base_name": room_base_name, "room_base_id": room_base_id,
             "chat_id_list": chat_ids, "state": state},
        )  # fmt: skip

    # -- customer tags (see :mod:`shequn.platforms.wecom.tags`) --------------------

    async def corp_tags(self) -> dict[str, Any]:
        """The corporate tag dictionary (``get_corp_tag_list`` with no filter)."""
        return await self.call("/externalcontact/get_corp_tag_list", {})

    async def follow_users(self) -> list[str]:
        """The staff with the customer-contact licence (``get_follow_user_list``)."""
        got = await self.call("/externalcontact/get_follow_user_list")
        return [str(u) for u in got.get("follow_user") or []]

    async def contacts_by_users(
        self, userids: list[str], *, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Every (customer, follow info) pair of ``userids`` (``batch/get_by_user``).

        WeCom takes at most 100 staff a request and pages the answer by ``cursor``.
        """
        items: list[dict[str, Any]] = []
        for i in range(0, len(userids), 100):
            cursor = ""
            while True:
                body: dict[str, Any] = {"userid_list": userids[i : i + 100], "limit": limit}
                if cursor:
                    body["cursor"] = cursor
                got = await self.call("/externalcontact/batch/get_by_user", body)
                items += list(got.get("external_contact_list") or [])
                cursor = str(got.get("next_cursor") or "")
                if not cursor:
                    break
        return items

    async def contact(self, external_userid: str) -> list[dict[str, Any]]:
        """A customer's ``follow_user`` list with their tags (``externalcontact/get``, all pages)."""
        follows: list[dict[str, Any]] = []
        cursor = ""
        while True:
            query = {"external_userid": external_userid}
            if cursor:
                query["cursor"] = cursor
            got = await self.call("/externalcontact/get", query=query)
            follows += list(got.get("follow_user") or [])
            cursor = str(got.get("next_cursor") or "")
            if not cursor:
                return follows

    async def get_join_way(self, config_id: str) -> dict[str, Any]:
        got = await self.call("/externalcontact/groupchat/get_join_way", {"config_id": config_id})
        return dict(got["join_way"])


def _checked(path: str, resp: Response) -> dict[str, Any]:
    body = resp.body if isinstance(resp.body, dict) else {}
    code = int(body.get("errcode") or 0) if resp.status == 200 else -1
    if resp.status == 200 and code == 0:
        return body
    msg = str(body.get("errmsg") or f"HTTP {resp.status}")
    raise WeComError(f"WeCom {path} failed: {code} {msg}", code, retry_after=RATE_LIMITED.get(code))
