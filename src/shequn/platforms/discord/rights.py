"""What the bot may do in each channel, from its roles as the gateway describes them.

Discord gives a bot no fixed rights: its roles' permissions in a guild decide, and a
channel's permission overwrites refine the channel-level ones. :class:`BotRights`
follows what the gateway says (``GUILD_CREATE`` with roles, channels and the bot's own
member; ``GUILD_ROLE_CREATE/UPDATE/DELETE``; ``GUILD_MEMBER_UPDATE`` of the bot;
``CHANNEL_CREATE/UPDATE/DELETE``) and computes the permissions as Discord documents
them (base from ``@everyone`` and the member's roles, owner and ``ADMINISTRATOR`` have
all; then the channel's ``@everyone``, role and member overwrites).

Until a guild's roles and the bot's own member have been seen, the guild is unknown
and the adapter-wide set holds. A 403 for a member action (timeout, kick, ban, nickname)
in a known guild is the role order (the member's highest role, or the role granted,
is not below the bot's): that is about one member, so it teaches nothing about the guild. Any other 403
drops the capability until the gateway next says something about the guild's roles,
the bot's member or the channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shequn.platforms.port import Capability

__all__ = ["PERMISSIONS", "BotRights", "permissions_in"]

KICK_MEMBERS = 1 << 1
BAN_MEMBERS = 1 << 2
ADMINISTRATOR = 1 << 3
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
MANAGE_NICKNAMES = 1 << 27
MANAGE_ROLES = 1 << 28
MODERATE_MEMBERS = 1 << 40
ALL = (1 << 53) - 1

#: the Discord permission each capability takes (shown in the console and the docs)
PERMISSIONS: dict[Capability, tuple[str, int]] = {
    Capability.SEND: ("SEND_MESSAGES", SEND_MESSAGES),
    Capability.REPLY: ("SEND_MESSAGES", SEND_MESSAGES),
    Capability.DELETE: ("MANAGE_MESSAGES", MANAGE_MESSAGES),
    Capability.MUTE: ("MODERATE_MEMBERS", MODERATE_MEMBERS),
    Capability.KICK: ("KICK_MEMBERS", KICK_MEMBERS),
    Capability.BAN: ("BAN_MEMBERS", BAN_MEMBERS),
    Capability.SET_CARD: ("MANAGE_NICKNAMES", MANAGE_NICKNAMES),
    Capability.ROLE: ("MANAGE_ROLES", MANAGE_ROLES),
}
#: set in a channel (overwrites apply); the others hold guild-wide
_CHANNEL_LEVEL = {Capability.SEND, Capability.REPLY, Capability.DELETE}


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def permissions_in(
    *,
    guild_id: str,
    owner_id: str | None,
    member_id: str,
    member_roles: set[str],
    role_permissions: dict[str, int],
    overwrites: list[dict[str, Any]] | None,
) -> int:
    """A member's permission bits in a channel (``overwrites`` None: guild-wide)."""
    if owner_id == member_id:
        return ALL
    base = role_permissions.get(guild_id, 0)  # @everyone's role id is the guild's id
    for rid in member_roles:
        base |= role_permissions.get(rid, 0)
    if base & ADMINISTRATOR:
        return ALL
    if overwrites is None:
        return base
    perms = base
    by_id = {str(o.get("id")): o for o in overwrites if isinstance(o, dict)}
    everyone = by_id.get(guild_id)
    if everyone is not None:
        perms = (perms & ~_int(everyone.get("deny"))) | _int(everyone.get("allow"))
    allow = deny = 0
    for rid in member_roles:
        ow = by_id.get(rid)
        if ow is not None and ow.get("type") in (0, "0", "role"):
            allow |= _int(ow.get("allow"))
            deny |= _int(ow.get("deny"))
    perms = (perms & ~deny) | allow
    mine = by_id.get(member_id)
    if mine is not None and mine.get("type") in (1, "1", "member"):
        perms = (perms & ~_int(mine.get("deny"))) | _int(mine.get("allow"))
    return perms


@dataclass
class BotRights:
    """The bot's roles and the guilds' roles and overwrites, as far as the gateway said."""

    self_id: str | None = None
    owners: dict[str, str] = field(default_factory=dict)
    roles: dict[str, dict[str, int]] = field(default_factory=dict)  # guild -> role -> bits
    my_roles: dict[str, set[str]] = field(default_factory=dict)  # guild -> the bot's roles
    overwrites: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # channel ->
    channel_guild: dict[str, str] = field(default_factory=dict)
    #: what a 403 taught while the guild was unknown: (guild or channel) -> capabilities
    refused: dict[str, set[Capability]] = field(default_factory=dict)

    def observe(self, t: Any, d: dict[str, Any]) -> None:
        """Take what one dispatch says about roles, the bot's member or overwrites."""
        if t == "READY" and isinstance(d.get("user"), dict):
            self.self_id = str(d["user"]["id"])
        elif t in ("GUILD_CREATE", "GUILD_UPDATE") and not d.get("unavailable"):
            self._guild(d)
        elif t == "GUILD_DELETE":
            gid = str(d.get("id", ""))
            for table in (self.roles, self.my_roles, self.owners):
                table.pop(gid, None)
        elif t in ("GUILD_ROLE_CREATE", "GUILD_ROLE_UPDATE") and isinstance(d.get("role"), dict):
            gid, role = str(d["guild_id"]), d["role"]
            self.roles.setdefault(gid, {})[str(role["id"])] = _int(role.get("permissions"))
            self._changed(gid)
        elif t == "GUILD_ROLE_DELETE":
            gid = str(d["guild_id"])
            self.roles.get(gid, {}).pop(str(d.get("role_id")), None)
            self.my_roles.get(gid, set()).discard(str(d.get("role_id")))
            self._changed(gid)
        elif t == "GUILD_MEMBER_UPDATE" and isinstance(d.get("user"), dict):
            if self.self_id is not None and str(d["user"]["id"]) == self.self_id:
                gid = str(d["guild_id"])
                self.my_roles[gid] = {str(r) for r in d.get("roles") or ()}
                self._changed(gid)
        elif t in ("CHANNEL_CREATE", "CHANNEL_UPDATE") and d.get("guild_id"):
            self._channel(d, str(d["guild_id"]))
            self.refused.pop(str(d["id"]), None)
        elif t == "CHANNEL_DELETE":
            self.overwrites.pop(str(d.get("id")), None)

    def _guild(self, g: dict[str, Any]) -> None:
        gid = str(g["id"])
        if g.get("owner_id"):
            self.owners[gid] = str(g["owner_id"])
        if isinstance(g.get("roles"), list):
            self.roles[gid] = {
                str(r["id"]): _int(r.get("permissions"))
                for r in g["roles"]
                if isinstance(r, dict) and "id" in r
            }
        for m in g.get("members") or ():
            user = m.get("user") if isinstance(m, dict) else None
            if isinstance(user, dict) and self.self_id and str(user.get("id")) == self.self_id:
                self.my_roles[gid] = {str(r) for r in m.get("roles") or ()}
        for ch in g.get("channels") or ():
            if isinstance(ch, dict) and "id" in ch:
                self._channel(ch, gid)
        self._changed(gid)

    def _channel(self, ch: dict[str, Any], gid: str) -> None:
        cid = str(ch["id"])
        self.channel_guild[cid] = gid
        if isinstance(ch.get("permission_overwrites"), list):
            self.overwrites[cid] = list(ch["permission_overwrites"])

    def _changed(self, gid: str) -> None:
        """The gateway told something new about the guild: forget refusals there."""
        self.refused.pop(gid, None)
        for cid in [c for c, g in self.channel_guild.items() if g == gid]:
            self.refused.pop(cid, None)

    def known(self, guild_id: str | None) -> bool:
        return (
            guild_id is not None
            and self.self_id is not None
            and guild_id in self.roles
            and guild_id in self.my_roles
        )

    def capabilities(
        self, channel_id: str, guild_id: str | None, declared: frozenset[Capability]
    ) -> frozenset[Capability]:
        """What the bot may do in a channel: from its permissions once the guild is known."""
        guild_id = guild_id or self.channel_guild.get(channel_id)
        lost = self.refused.get(channel_id, set()) | self.refused.get(guild_id or "", set())
        if not self.known(guild_id):
            return declared - lost
        assert guild_id is not None and self.self_id is not None
        common: dict[str, Any] = dict(
            guild_id=guild_id,
            owner_id=self.owners.get(guild_id),
            member_id=self.self_id,
            member_roles=self.my_roles[guild_id],
            role_permissions=self.roles[guild_id],
        )
        guild = permissions_in(overwrites=None, **common)
        channel = permissions_in(overwrites=self.overwrites.get(channel_id) or [], **common)
        if not channel & VIEW_CHANNEL:
            channel = 0
        caps = {Capability.FETCH_MEDIA}
        for cap, (_, bit) in PERMISSIONS.items():
            if (channel if cap in _CHANNEL_LEVEL else guild) & bit:
                caps.add(cap)
        return (frozenset(caps) & declared) - lost

    def refuse(self, channel_id: str, guild_id: str | None, cap: Capability) -> bool:
        """Remember a 403 for ``cap``; False when the gateway says the bot has it."""
        guild_id = guild_id or self.channel_guild.get(channel_id)
        if self.known(guild_id) and cap not in _CHANNEL_LEVEL:
            return False  # the role order, about one member: the guild keeps the right
        where = channel_id if cap in _CHANNEL_LEVEL or guild_id is None else guild_id
        self.refused.setdefault(where, set()).add(cap)
        return True
