"""What the adapter remembers of the guilds it is in, learned from gateway dispatches.

Why a group is a text channel, threads fold into their parent and a guild's joins go
to its home channel: see :mod:`shequn.platforms.discord.gateway`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shequn.events import GroupSeen, MemberRef

__all__ = ["GatewayState", "display_name", "snowflake_time"]

PLATFORM = "discord"
DISCORD_EPOCH_MS = 1_420_070_400_000

#: channel types that carry a conversation (text, voice text-chat, announcement,
#: stage, forum, media); categories and directories do not
TEXT_CHANNELS = {0: "text", 2: "voice", 5: "announcement", 13: "stage", 15: "forum", 16: "media"}
THREADS = (10, 11, 12)  # announcement / public / private thread
#: a role with any of these is staff (is_operator): administrator, manage guild,
#: manage messages, kick, ban, moderate (time out) members
STAFF_PERMISSIONS = (1 << 3) | (1 << 5) | (1 << 13) | (1 << 1) | (1 << 2) | (1 << 40)


def snowflake_time(snowflake: str | int) -> float:
    """When a snowflake id was made, in epoch seconds."""
    return ((int(snowflake) >> 22) + DISCORD_EPOCH_MS) / 1000


def display_name(user: dict[str, Any], member: dict[str, Any] | None = None) -> str:
    """What the guild shows: server nickname, else global display name, else username."""
    nick = (member or {}).get("nick")
    return str(nick or user.get("global_name") or user.get("username") or "")


@dataclass
class GatewayState:
    """The guilds as the gateway has described them so far."""

    #: guild -> channel that stands for the guild in joins and leaves (operator's choice)
    home_channels: dict[str, str] = field(default_factory=dict)
    self_id: str | None = None
    channel_guild: dict[str, str] = field(default_factory=dict)
    thread_parent: dict[str, str] = field(default_factory=dict)
    system_channel: dict[str, str] = field(default_factory=dict)
    first_channel: dict[str, tuple[int, str]] = field(default_factory=dict)
    guild_names: dict[str, str] = field(default_factory=dict)
    channel_names: dict[str, str] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    staff_roles: dict[str, set[str]] = field(default_factory=dict)
    role_names: dict[str, str] = field(default_factory=dict)
    names: dict[tuple[str, str], str] = field(default_factory=dict)
    #: user -> the DM channel they wrote to the bot in (private appeals are answered there)
    dm_channels: dict[str, str] = field(default_factory=dict)

    def knows(self, channel_id: str) -> bool:
        return channel_id in self.channel_guild

    def group_of(self, channel_id: str) -> str:
        return self.thread_parent.get(channel_id, channel_id)

    def home_of(self, guild_id: str) -> str | None:
        if guild_id in self.home_channels:
            return self.home_channels[guild_id]
        if guild_id in self.system_channel:
            return self.system_channel[guild_id]
        first = self.first_channel.get(guild_id)
        return first[1] if first else None

    def message_id(self, channel_id: str, message_id: str) -> str:
        """The id shequn uses: composite inside a thread (see the module docstring)."""
        return f"{channel_id}/{message_id}" if channel_id in self.thread_parent else message_id

    def learn_channel(self, ch: dict[str, Any], guild_id: str | None = None) -> GroupSeen | None:
        """Remember a channel or thread; a GroupSeen for a conversation channel."""
        cid, gid = str(ch["id"]), str(ch.get("guild_id") or guild_id or "")
        if not gid:
            return None  # a DM
        self.channel_guild[cid] = gid
        kind = int(ch.get("type", 0))
        if kind in THREADS and ch.get("parent_id"):
            self.thread_parent[cid] = str(ch["parent_id"])
            return None
        if kind not in TEXT_CHANNELS:
            return None
        name = str(ch.get("name", ""))
        self.channel_names[cid] = name
        pos = (int(ch.get("position", 0)), cid)
        if kind == 0 and (gid not in self.first_channel or pos < self.first_channel[gid]):
            self.first_channel[gid] = pos
        guild = self.guild_names.get(gid, "")
        title = f"{guild} #{name}" if guild else f"#{name}"
        return GroupSeen(PLATFORM, cid, title, None, TEXT_CHANNELS[kind])

    def learn_roles(self, guild_id: str, roles: list[dict[str, Any]]) -> None:
        staff = self.staff_roles.setdefault(guild_id, set())
        for role in roles:
            rid = str(role["id"])
            self.role_names[rid] = str(role.get("name", ""))
            if int(role.get("permissions", 0)) & STAFF_PERMISSIONS:
                staff.add(rid)
            else:
                staff.discard(rid)

    def learn_guild(self, g: dict[str, Any]) -> list[GroupSeen]:
        gid = str(g["id"])
        if g.get("unavailable"):
            return []
        self.guild_names[gid] = str(g.get("name", ""))
        if g.get("owner_id"):
            self.owners[gid] = str(g["owner_id"])
        if g.get("system_channel_id"):
            self.system_channel[gid] = str(g["system_channel_id"])
        else:
            self.system_channel.pop(gid, None)
        self.learn_roles(gid, g.get("roles") or [])
        seen = [self.learn_channel(ch, gid) for ch in g.get("channels") or []]
        for thread in g.get("threads") or []:
            self.learn_channel(thread, gid)
        for m in g.get("members") or []:
            if isinstance(m.get("user"), dict):
                self.names[(gid, str(m["user"]["id"]))] = display_name(m["user"], m)
        return [e for e in seen if e is not None]

    def member(
        self, guild_id: str, user: dict[str, Any], member: dict[str, Any] | None
    ) -> MemberRef:
        uid = str(user["id"])
        roles = set(map(str, (member or {}).get("roles") or ()))
        staff = self.owners.get(guild_id) == uid or bool(
            roles & self.staff_roles.get(guild_id, set())
        )
        return MemberRef(
            uid, display_name(user, member), is_bot=bool(user.get("bot")), is_operator=staff
        )
