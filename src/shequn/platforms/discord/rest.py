"""Discord's REST API: one request at a time through a swappable transport.

A thin client rather than discord.py's ``HTTPClient``: that one sleeps through rate
limits by itself, while shequn wants a 429 back as ``PlatformError(retry_after=...)``
so the outbox keeps the call planned and retries it on a later tick instead of
holding the pipeline. :class:`Transport` is the seam: :class:`AiohttpTransport`
speaks HTTP (to ``discord.com``, or to a loopback server in the tests).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp

from shequn.platforms.port import PlatformError

__all__ = ["API_BASE", "AiohttpTransport", "Forbidden", "Response", "RestClient", "Transport"]

API_BASE = "https://discord.com/api/v10"
USER_AGENT = "DiscordBot (https://github.com/shequn/shequn, 0.1.0)"
MAX_REASON = 512  # Discord's limit for X-Audit-Log-Reason

# JSON error codes worth naming (discord.com/developers/docs/topics/opcodes-and-status-codes)
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013


class Forbidden(PlatformError):
    """HTTP 403: the bot lacks a permission (or the role order forbids it); asking
    again will not help until a person changes the server's settings."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: Any  # parsed JSON, or None for an empty body (204)


class Transport(Protocol):
    async def request(
        self, method: str, path: str, *, json: Any = None, headers: Mapping[str, str]
    ) -> Response:
        """Send one request to ``path`` (relative to the API base)."""

    async def aclose(self) -> None: ...


class AiohttpTransport:
    """HTTP to the API base with the bot's token; a timeout is a PlatformError."""

    def __init__(self, token: str, api_base: str = API_BASE, *, timeout: float = 15.0) -> None:
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self._auth = {"Authorization": f"Bot {token}", "User-Agent": USER_AGENT}
        self._session: aiohttp.ClientSession | None = None

    async def request(
        self, method: str, path: str, *, json: Any = None, headers: Mapping[str, str]
    ) -> Response:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers=self._auth)
        try:
            async with self._session.request(
                method,
                self.api_base + path,
                json=json,
                headers=dict(headers),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as resp:
                text = await resp.text()
                return Response(resp.status, dict(resp.headers), _parse(text))
        except TimeoutError:
            raise PlatformError(
                f"Discord {method} {path}: no answer in {self.timeout:g} s"
            ) from None
        except aiohttp.ClientError as exc:
            raise PlatformError(f"Discord {method} {path}: {exc or type(exc).__name__}") from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _parse(text: str) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return {"message": text[:200]}


class RestClient:
    """Calls with Discord's error shapes turned into :class:`PlatformError`."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        reason: str = "",
        needs: str = "",
        ok: tuple[tuple[int, int], ...] = (),
    ) -> Any:
        """The response body, or PlatformError.

        ``needs`` names the permission the call takes, for the 403 message; ``ok``
        lists ``(status, code)`` pairs that mean "already so" (an unban of a member
        who is not banned) and count as success.
        """
        headers: dict[str, str] = {}
        if reason:
            # Discord reads the header URL-encoded, so Chinese reasons survive
            headers["X-Audit-Log-Reason"] = quote(reason[:MAX_REASON], safe=" /:")
        resp = await self.transport.request(method, path, json=json, headers=headers)
        if resp.status < 300:
            return resp.body
        body = resp.body if isinstance(resp.body, dict) else {}
        code = int(body.get("code") or 0)
        if (resp.status, code) in ok:
            return None
        message = str(body.get("message") or f"HTTP {resp.status}")
        where = f"Discord {method} {path}"
        if resp.status == 429:
            retry = body.get("retry_after") or resp.headers.get("Retry-After")
            scope = "global " if body.get("global") else ""
            raise PlatformError(
                f"{where}: {scope}rate limit, retry after {retry} s",
                retry_after=float(retry) if retry is not None else None,
            )
        if resp.status == 403:
            if code == MISSING_ACCESS:
                raise Forbidden(f"{where}: missing access (VIEW_CHANNEL?) ({message})")
            perm = f"the {needs} permission" if needs else "a permission"
            raise Forbidden(
                f"{where}: the bot lacks {perm}, or the member's highest role is not "
                f"below the bot's ({code} {message})"
            )
        raise PlatformError(
            f"{where} failed: {resp.status} {code or ''} {message}".replace("  ", " ")
        )
