"""The one narrow port through which shequn acts on a chat platform.

Features never import an adapter: they call a :class:`Platform` and look at its
``capabilities`` first. Where a platform cannot do something by API (a WeCom
customer group cannot kick), the caller turns the action into a task for a human
rather than doing nothing; :class:`Unsupported` is raised if it forgets to check.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import msgspec

from shequn.events import Event

__all__ = [
    "Adapter",
    "Call",
    "Capability",
    "EventHandler",
    "FakePlatform",
    "Platform",
    "PlatformError",
    "Unsupported",
    "checked",
    "events_or_skip",
    "fetch_bounded",
    "translate_or_skip",
]

log = logging.getLogger(__name__)

#: What a translator raises on a payload that is not in the shape the protocol documents.
MALFORMED = (KeyError, TypeError, ValueError, AttributeError, IndexError)


def checked(events: list[Event]) -> list[Event]:
    """``events`` with every field of its declared type, or ``msgspec.ValidationError``.

    A field of the wrong type (a list where the protocol has a string) would only fail
    later, in the archive writer, and stall the event loop there.
    """
    return [msgspec.convert(msgspec.to_builtins(e), type(e)) for e in events]


def translate_or_skip(
    platform: str, translate: Callable[..., list[Event]], raw: Any, *args: Any, **kw: Any
) -> list[Event]:
    """``translate(raw, ...)``, or ``[]`` with a logged reason when ``raw`` is malformed.

    A platform may send a payload shequn does not understand (a protocol change, a
    buggy bridge, a hostile client on a reverse WebSocket): it is skipped with a
    warning naming the platform, the error and the start of the payload, and the event
    loop goes on. Events are checked against their declared field types. ``tests/fuzz`` checks every adapter against generated payloads.
    """
    try:
        if not isinstance(raw, dict):
            raise TypeError(f"expected a JSON object, got {type(raw).__name__}")
        return checked(translate(*args, raw, **kw) if args else translate(raw, **kw))
    except MALFORMED as exc:
        _skipped(platform, exc, raw)
        return []


async def events_or_skip(platform: str, events: Awaitable[list[Event]], raw: Any) -> list[Event]:
    """:func:`translate_or_skip` for adapters whose translation awaits (it asks the API)."""
    try:
        return checked(await events)
    except MALFORMED as exc:
        _skipped(platform, exc, raw)
        return []


def _skipped(platform: str, exc: BaseException, raw: Any) -> None:
    log.warning(
        "%s: skipped a malformed payload (%s: %s): %.300r", platform, type(exc).__name__, exc, raw
    )


class Capability(StrEnum):
    SEND = "send"
    REPLY = "reply"
    DELETE = "delete"  # recall / redact a message
    MUTE = "mute"  # for a duration; 0 seconds lifts it
    KICK = "kick"
    BAN = "ban"  # kick and keep out; unban lifts it
    SET_CARD = "set_card"  # member card / nickname in the group
    APPROVE_JOIN = "approve_join"  # approve or deny a join request
    FETCH_MEDIA = "fetch_media"  # download a posted image (QR-code checks)


class Unsupported(RuntimeError):
    """The platform cannot do this by API; make it a human task instead."""


class PlatformError(RuntimeError):
    """The platform refused or failed (HTTP error, rate limit, permission)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@runtime_checkable
class Platform(Protocol):
    """What an adapter offers the engine. Ids are the platform's own strings."""

    name: str
    capabilities: frozenset[Capability]

    async def send(self, group_id: str, text: str, *, reply_to: str | None = None) -> str:
        """Post ``text`` (as a reply when ``reply_to``); the new message's id."""

    async def delete(self, group_id: str, message_id: str, *, reason: str = "") -> None: ...

    async def mute(self, group_id: str, member_id: str, seconds: int) -> None: ...

    async def kick(
        self, group_id: str, member_id: str, *, ban: bool = False, reason: str = ""
    ) -> None: ...

    async def unban(self, group_id: str, member_id: str) -> None: ...

    async def set_card(self, group_id: str, member_id: str, card: str) -> None: ...

    async def approve_join(
        self, group_id: str, request_id: str, approve: bool, reason: str = ""
    ) -> None: ...

    async def fetch_media(self, ref: str, *, max_bytes: int) -> bytes:
        """The file behind a :attr:`MessagePosted.media` reference, at most ``max_bytes``.

        Raises :class:`PlatformError` when it cannot be fetched or is larger.
        """
        ...


#: What an adapter calls for every event it receives; it returns once the event is
#: persisted, so an adapter may then acknowledge it to the platform (at-least-once
#: delivery; the engine dedupes by event id for exactly-once effects).
EventHandler = Callable[[Event, "Platform"], Awaitable[None]]


@runtime_checkable
class Adapter(Platform, Protocol):
    """A connected bot account on one platform: a Platform that also receives events."""

    async def start(self, handle: EventHandler) -> None:
        """Connect and deliver events to ``handle`` until :meth:`stop` is called."""

    async def stop(self) -> None: ...


@dataclass(slots=True)
class Call:
    name: str
    args: dict[str, Any]


@dataclass
class FakePlatform:
    """Records every call; for unit tests at the edges and for dry runs.

    Not the only test of any feature: adapters are tested against real servers or
    real captured payloads.
    """

    name: str = "fake"
    capabilities: frozenset[Capability] = frozenset(Capability)
    calls: list[Call] = field(default_factory=list)
    media: dict[str, bytes] = field(default_factory=dict)  # what fetch_media serves
    _next_id: int = 0

    def _record(self, cap: Capability, name: str, **args: Any) -> None:
        if cap not in self.capabilities:
            raise Unsupported(f"{self.name} cannot {cap.value}")
        self.calls.append(Call(name, args))

    async def send(self, group_id: str, text: str, *, reply_to: str | None = None) -> str:
        self._record(Capability.REPLY if reply_to else Capability.SEND, "send",
                     group_id=group_id, text=text, reply_to=reply_to)  # fmt: skip
        self._next_id += 1
        return f"fake-{self._next_id}"

    async def delete(self, group_id: str, message_id: str, *, reason: str = "") -> None:
        self._record(Capability.DELETE, "delete", group_id=group_id, message_id=message_id)

    async def mute(self, group_id: str, member_id: str, seconds: int) -> None:
        self._record(
            Capability.MUTE, "mute", group_id=group_id, member_id=member_id, seconds=seconds
        )

    async def kick(
        self, group_id: str, member_id: str, *, ban: bool = False, reason: str = ""
    ) -> None:
        self._record(Capability.BAN if ban else Capability.KICK, "kick",
                     group_id=group_id, member_id=member_id, ban=ban)  # fmt: skip

    async def unban(self, group_id: str, member_id: str) -> None:
        self._record(Capability.BAN, "unban", group_id=group_id, member_id=member_id)

    async def set_card(self, group_id: str, member_id: str, card: str) -> None:
        self._record(
            Capability.SET_CARD, "set_card", group_id=group_id, member_id=member_id, card=card
        )

    async def approve_join(
        self, group_id: str, request_id: str, approve: bool, reason: str = ""
    ) -> None:
        self._record(Capability.APPROVE_JOIN, "approve_join",
                     group_id=group_id, request_id=request_id, approve=approve)  # fmt: skip

    async def fetch_media(self, ref: str, *, max_bytes: int) -> bytes:
        self._record(Capability.FETCH_MEDIA, "fetch_media", ref=ref)
        if ref not in self.media:
            raise PlatformError(f"{self.name}: no media {ref!r}")
        data = self.media[ref]
        if len(data) > max_bytes:
            raise PlatformError(f"{self.name}: media {ref!r} is larger than {max_bytes} bytes")
        return data


async def fetch_bounded(session: Any, url: str, *, max_bytes: int, timeout: float = 20.0) -> bytes:
    """GET ``url`` with an aiohttp ``session``, refusing bodies over ``max_bytes``.

    The size is checked against ``Content-Length`` first and while streaming, so a
    hostile server cannot make the bot download more than ``max_bytes``.
    """
    import aiohttp

    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            if resp.status != 200:
                raise PlatformError(f"media download failed: HTTP {resp.status}")
            if (resp.content_length or 0) > max_bytes:
                raise PlatformError(f"media is larger than {max_bytes} bytes")
            buf = bytearray()
            async for chunk in resp.content.iter_chunked(64 * 1024):
                buf += chunk
                if len(buf) > max_bytes:
                    raise PlatformError(f"media is larger than {max_bytes} bytes")
            return bytes(buf)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise PlatformError(f"media download failed: {exc or type(exc).__name__}") from exc
