"""The one narrow port through which shequn acts on a chat platform.

Features never import an adapter: they call a :class:`Platform` and look at what
it can do *in that group* first, with :func:`capabilities_of`. Where a platform cannot
do something by API (a WeCom customer group cannot kick), the caller turns the action
into a task for a human rather than doing nothing; :class:`Unsupported` is raised if
it forgets to check.

**Capabilities are per group.** ``platform.capabilities`` is what the adapter can do
anywhere (what the engine may *plan*); what the bot may do in one group depends on its
rights there: a Telegram bot that is not an admin of a chat cannot delete in it, a
Discord bot's roles decide per guild, a Matrix bot's power level per room, a OneBot
(QQ) account's role per group, and the QQ official API cannot mute in a QQ group at
all. An adapter that knows this offers ``capabilities_for(group_id)``;
:func:`capabilities_of` asks it and falls back to ``platform.capabilities``, so a
group whose rights are not known yet behaves as before. Adapters keep the sets current
from the platform's own events (:class:`GroupRights` holds them), and when a call is
refused for lack of a right the outbox tells the adapter with :func:`refused`
(``learn_refusal(group_id, capability, error)``), which then drops that capability
for the group until the platform says otherwise: the call, and every later one of
that kind there, becomes a task for a person.

**Repeated calls.** The outbox writes a call's result after the platform answered, so
a crash between the two leaves the row ``planned`` and the call is made again on
restart. While the outbox makes a call, :data:`call_key` holds a key unique to that
planned call and the same on every attempt; an adapter whose API takes an
idempotency key (Matrix transaction ids, Discord nonces) passes it, so the platform
drops the repeat.
Elsewhere a repeat is possible in that window (see ``docs/scale-out.md``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
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
    "GroupRights",
    "Platform",
    "PlatformError",
    "Unsupported",
    "call_key",
    "capabilities_of",
    "checked",
    "events_or_skip",
    "fetch_bounded",
    "refused",
    "translate_or_skip",
]

log = logging.getLogger(__name__)

#: The idempotency key of the planned call being made (see "Repeated calls" above).
call_key: ContextVar[str | None] = ContextVar("shequn_call_key", default=None)

#: What a translator raises on a payload that is not in the shape the protocol documents.
MALFORMED = (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError)


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
    ROLE = "role"  # grant / revoke a server role (layers and honours; Discord)


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


def capabilities_of(platform: Platform, group_id: str) -> frozenset[Capability]:
    """What ``platform`` can do by API in one group.

    The adapter's ``capabilities_for(group_id)`` when it has one (never more than
    ``platform.capabilities``), else the adapter-wide ``platform.capabilities``.
    :attr:`Capability.ROLE` only where the adapter has ``grant_role`` and ``revoke_role``.
    """
    per_group = getattr(platform, "capabilities_for", None)
    caps = frozenset(platform.capabilities)
    if callable(per_group):
        caps &= frozenset(per_group(group_id))
    if not callable(getattr(platform, "grant_role", None)):
        # roles are offered by the adapters that have them (grant_role / revoke_role),
        # not by every adapter that declares "all capabilities"
        caps -= {Capability.ROLE}
    return caps


def refused(platform: Platform, group_id: str, cap: Capability, exc: BaseException) -> bool:
    """Tell the adapter a call needing ``cap`` in ``group_id`` failed with ``exc``.

    True when the adapter reads ``exc`` as "the bot lacks this right here" (it then
    leaves ``cap`` out of that group's set); False for any other failure, or when the
    adapter does not learn from errors.
    """
    learn = getattr(platform, "learn_refusal", None)
    return bool(learn(group_id, cap, exc)) if callable(learn) else False


class GroupRights:
    """The per-group capability sets an adapter learned from its platform.

    A group never heard of has the adapter-wide ``declared`` set. :meth:`learn` takes
    what the platform says (a promotion, new roles) and replaces any refusal learned
    before; :meth:`refuse` drops one capability after the platform refused a call.
    """

    def __init__(self, declared: frozenset[Capability]) -> None:
        self.declared = frozenset(declared)
        self._learned: dict[str, frozenset[Capability]] = {}
        self._refused: dict[str, set[Capability]] = {}

    def __call__(self, group_id: str) -> frozenset[Capability]:
        base = self._learned.get(group_id, self.declared)
        return base - self._refused.get(group_id, set())

    def known(self, group_id: str) -> bool:
        return group_id in self._learned or group_id in self._refused

    def learn(self, group_id: str, caps: frozenset[Capability] | set[Capability]) -> None:
        self._learned[group_id] = frozenset(caps) & self.declared
        self._refused.pop(group_id, None)

    def refuse(self, group_id: str, *caps: Capability) -> None:
        self._refused.setdefault(group_id, set()).update(caps)

    def forget(self, group_id: str) -> None:
        self._learned.pop(group_id, None)
        self._refused.pop(group_id, None)


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
    direct_messages: bool = False  # members can write to it privately (as Telegram, QQ)
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

    async def grant_role(
        self, group_id: str, member_id: str, role: str, *, reason: str = ""
    ) -> None:
        self._record(Capability.ROLE, "grant_role", group_id=group_id, member_id=member_id,
                     role=role)  # fmt: skip

    async def revoke_role(
        self, group_id: str, member_id: str, role: str, *, reason: str = ""
    ) -> None:
        self._record(Capability.ROLE, "revoke_role", group_id=group_id, member_id=member_id,
                     role=role)  # fmt: skip

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
