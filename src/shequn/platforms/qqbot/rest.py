"""QQ's bot OpenAPI: an access token from app id + secret, then one call at a time.

:class:`AiohttpTransport` is the seam (the tests point it at a loopback server): it
fetches the access token from ``getAppAccessToken``, renews it in the last minute
of its life (QQ hands out a new one then while the old stays valid) and once more
when the API answers 401. :class:`RestClient` turns QQ's error shapes into
:class:`PlatformError`: a rate limit carries ``retry_after`` so the outbox retries
the call on a later tick, a refusal names the permission the call needs.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from shequn.platforms.port import PlatformError, Unsupported

__all__ = [
    "API_BASE",
    "SANDBOX_API_BASE",
    "TOKEN_URL",
    "AiohttpTransport",
    "Forbidden",
    "Response",
    "RestClient",
    "Transport",
]

API_BASE = "https://api.sgroup.qq.com"
SANDBOX_API_BASE = "https://sandbox.api.sgroup.qq.com"
TOKEN_URL = "https://bots.qq.com/app/getAppAccessToken"
#: renew the token this many seconds before it expires
RENEW_BEFORE = 60.0
#: when a rate limit says nothing about when to come back
DEFAULT_RETRY_AFTER = 1.0

# error codes of the OpenAPI worth naming (the documentation's "openapi 错误" table)
RATE_LIMITED = {20028, 22009}  # ChannelHitWriteRateLimit; msg limit exceed (消息发送超频)
#: refusals a retry will not cure, with what a person has to change
REFUSED = {
    11253: "the app has not been granted this API on q.qq.com (apply for it there)",
    11254: "QQ has blocked this API for the bot",
    11264: "the guild admin did not grant this permission when adding the bot",
    11265: "the bot is banned",
    11282: "the bot must be an admin (管理员) of the guild",
}
#: the passive-reply window closed, or the message may not be answered: a person posts it
#: (50039: the message to answer could not be fetched, e.g. recalled meanwhile)
NOT_ANSWERABLE = {50039, 304026, 304027, 304028}  # ..., MSG_ID, MSG_EXPIRE, MSG_PROTECT
ACTIVE_MESSAGE_REFUSED = 40034102  # 主动消息失败, 无权限 (active pushes stopped 2025-04-21)
#: a guild message accepted but held for QQ's content audit: sent, not failed
AUDIT_PENDING = {304023, 304024}


class Forbidden(PlatformError):
    """The bot lacks a permission; asking again will not help until a person acts."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: Any  # parsed JSON, or None for an empty body (204)


class Transport(Protocol):
    async def request(self, method: str, path: str, *, json: Any = None) -> Response:
        """Send one authenticated request to ``path`` (relative to the API base)."""

    async def aclose(self) -> None: ...


def _parse(text: str) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return {"message": text[:200]}


class AiohttpTransport:
    """HTTP to the OpenAPI as the bot ``app_id``; a timeout is a PlatformError."""

    def __init__(
        self,
        app_id: str,
        secret: str,
        api_base: str = API_BASE,
        *,
        token_url: str = TOKEN_URL,
        timeout: float = 15.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app_id, self._secret = str(app_id), secret
        self.api_base, self.token_url = api_base.rstrip("/"), token_url
        self.timeout, self.clock = timeout, clock
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def token(self, *, renew: bool = False) -> str:
        """A valid access token, fetched or renewed as needed."""
        async with self._lock:
            fresh = self._token is not None and self.clock() < self._expires - RENEW_BEFORE
            if fresh and not renew:
                assert self._token is not None
                return self._token
            body = {"appId": self.app_id, "clientSecret": self._secret}
            try:
                async with self._http().post(
                    self.token_url, json=body, timeout=aiohttp.ClientTimeout(total=self.timeout)
                ) as resp:
                    got = _parse(await resp.text())
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise PlatformError(f"QQ access token: {exc or type(exc).__name__}") from exc
            if not isinstance(got, dict) or not got.get("access_token"):
                # a wrong secret is answered 200 with a code and a message
                raise Forbidden(f"QQ access token refused for app {self.app_id}: {got!r:.200}")
            self._token = str(got["access_token"])
            self._expires = self.clock() + float(got.get("expires_in") or 7200)
            return self._token

    async def request(self, method: str, path: str, *, json: Any = None) -> Response:
        resp = await self._send(method, path, json, await self.token())
        if resp.status == 401:  # revoked or expired early: one more try with a new token
            resp = await self._send(method, path, json, await self.token(renew=True))
        return resp

    async def _send(self, method: str, path: str, body: Any, token: str) -> Response:
        headers = {"Authorization": f"QQBot {token}", "X-Union-Appid": self.app_id}
        try:
            async with self._http().request(
                method,
                self.api_base + path,
                json=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as resp:
                return Response(resp.status, dict(resp.headers), _parse(await resp.text()))
        except TimeoutError:
            raise PlatformError(f"QQ {method} {path}: no answer in {self.timeout:g} s") from None
        except aiohttp.ClientError as exc:
            raise PlatformError(f"QQ {method} {path}: {exc or type(exc).__name__}") from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class RestClient:
    """Calls with QQ's error shapes turned into :class:`PlatformError`."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    async def call(self, method: str, path: str, *, json: Any = None, needs: str = "") -> Any:
        """The response body, or PlatformError; ``needs`` names the permission for a 403."""
        resp = await self.transport.request(method, path, json=json)
        body = resp.body if isinstance(resp.body, dict) else {}
        code = int(body.get("code") or body.get("err_code") or 0)
        if (resp.status < 300 and not code) or code in AUDIT_PENDING:
            return resp.body
        message = str(body.get("message") or f"HTTP {resp.status}")
        where = f"QQ {method} {path}"
        if resp.status == 429 or code in RATE_LIMITED:
            header = resp.headers.get("Retry-After")
            retry = float(header) if header else DEFAULT_RETRY_AFTER
            raise PlatformError(
                f"{where}: rate limit ({code} {message}), retry after {retry:g} s",
                retry_after=retry,
            )
        if code == ACTIVE_MESSAGE_REFUSED:
            raise Unsupported(f"{where}: QQ refused an active message ({message})")
        if code in NOT_ANSWERABLE:
            raise Unsupported(f"{where}: the message can no longer be answered ({code} {message})")
        if resp.status in (401, 403) or code in REFUSED:
            why = REFUSED.get(code, "")
            perm = needs or "a permission"
            raise Forbidden(
                f"{where}: the bot lacks {perm}{'; ' + why if why else ''} ({code} {message})"
            )
        raise PlatformError(
            f"{where} failed: {resp.status} {code or ''} {message}".replace("  ", " ")
        )
