"""A member's data on request: export everything about one member, or erase them.

Both work on every table, including those features add later: archive tables are
found through ``members.id``; bot and feature tables are every table with a
``platform`` and a string ``member_id`` column (the platform's own id).

Erasure, in one transaction:

- archive messages by the member keep their time, kind and group (group statistics
  stay true) but their text becomes empty; their names are deleted, renames blanked;
  the member row keeps only a random pseudonym (``erased:<random>``, not derivable
  from the platform id) and the name ``[erased]``;
- in bot and feature tables the platform id becomes the same pseudonym and personal
  text columns (:data:`PERSONAL_COLUMNS`) are emptied, so audit rows stay countable;
- the member's private chat with the bot (``dm:<id>``) is renamed after the pseudonym
  in bot tables, and its event keys and inbox rows are deleted;
- one ``bot_actions`` row (kind ``erase``, status ``done``) records who erased, when
  and why, with the number of rows touched per table, and never the erased id.

Re-importing an old export that still contains the member brings their id back as a
*new* member with no messages (message texts are not re-inserted: the archive keeps
the first copy of each message). Erase again after such an import.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from sqlalchemy import Connection, String, Table, Text, select, update

from shequn.events import direct_chat
from shequn.store import Store, schema

__all__ = ["PERSONAL_COLUMNS", "MemberNotFound", "erase_member", "export_member"]

#: JSON text columns among them: emptied to ``{}``. A bot call's ``params`` hold the
#: text the bot sent, which names the member ("@张三 ...").
_JSON_COLUMNS = frozenset({"evidence", "params"})
#: Text columns of bot/feature tables that may hold what a member wrote or is called.
PERSONAL_COLUMNS = frozenset(
    {
        "name",
        "member_name",
        "text",
        "evidence",
        "params",
        "detail",
        "answer",
        "question",
        "content",
        "intro",
        "note",
    }
)
#: Tables whose rows of a private chat are deleted on erasure, not renamed: event keys
#: and the workers' inbox (which keeps each event's payload, the message text too).
_FORGET_PRIVATE = frozenset({"processed_events", "inbox"})
_ARCHIVE = frozenset(
    {"members", "member_names", "messages", "mentions", "membership_events", "reactions", "renames"}
)


class MemberNotFound(LookupError):
    """No member with this platform id in the archive or any feature table."""


def _feature_tables() -> list[Table]:
    out = []
    for table in schema.metadata.sorted_tables:
        cols = table.c
        if table.name in _ARCHIVE or "platform" not in cols or "member_id" not in cols:
            continue
        if isinstance(cols.member_id.type, String | Text):
            out.append(table)
    return out


def _rows(conn: Connection, stmt: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(stmt)]


def _archive_id(conn: Connection, platform: str, member: str) -> int | None:
    m = schema.members
    return conn.execute(
        select(m.c.id).where(m.c.platform == platform, m.c.platform_id == member)
    ).scalar()


def export_member(store: Store, platform: str, member: str) -> dict[str, Any]:
    """Everything shequn holds about one member, as JSON-ready data."""
    with store.engine.connect() as conn:
        mid = _archive_id(conn, platform, member)
        out: dict[str, Any] = {"platform": platform, "member": member, "exported_at": time.time()}
        if mid is not None:
            s = schema
            g = s.groups
            out["member"] = _rows(conn, select(s.members).where(s.members.c.id == mid))[0]
            out["names"] = _rows(
                conn, select(s.member_names).where(s.member_names.c.member_id == mid)
            )
            msg = s.messages
            out["messages"] = _rows(
                conn,
                select(g.c.platform_id.label("group"), msg.c.platform_id, msg.c.ts, msg.c.kind,
                       msg.c.text, msg.c.reply_to)
                .join(g, g.c.id == msg.c.group_id)
                .where(msg.c.member_id == mid)
                .order_by(msg.c.ts),
            )  # fmt: skip
            ev = s.membership_events
            out["membership"] = _rows(
                conn,
                select(g.c.platform_id.label("group"), ev.c.ts, ev.c.action, ev.c.method)
                .join(g, g.c.id == ev.c.group_id)
                .where(ev.c.member_id == mid)
                .order_by(ev.c.ts),
            )
            rn = s.renames
            out["renames"] = _rows(
                conn, select(rn.c.ts, rn.c.old_name, rn.c.new_name).where(rn.c.member_id == mid)
            )
            out["reactions"] = _rows(
                conn,
                select(s.reactions.c.message_pid, s.reactions.c.emoji).where(
                    s.reactions.c.member_id == mid
                ),
            )
        found = mid is not None
        for table in _feature_tables():
            rows = _rows(
                conn,
                select(table).where(table.c.platform == platform, table.c.member_id == member),
            )
            if rows:
                out[table.name] = rows
                found = True
    if not found:
        raise MemberNotFound(f"no member {member!r} on {platform!r} in this archive")
    return out


def _erase_private_chat(
    conn: Connection, platform: str, member: str, pseudonym: str
) -> dict[str, int]:
    """The member's private chat with the bot (``dm:<id>``, see :class:`DirectMessage`):
    renamed after the pseudonym in bot tables; the dedupe keys and the inbox rows,
    which hold the ids and the messages themselves, deleted."""
    chat, counts = direct_chat(member), {}
    for table in schema.metadata.sorted_tables:
        cols = table.c
        if "platform" not in cols or "group_id" not in cols:
            continue
        if not isinstance(cols.group_id.type, String | Text):
            continue  # archive tables key groups by their integer id
        where = (cols.platform == platform) & (cols.group_id == chat)
        if table.name in _FORGET_PRIVATE:
            n = conn.execute(table.delete().where(where)).rowcount
        else:
            n = conn.execute(
                update(table).where(where).values(group_id=direct_chat(pseudonym))
            ).rowcount
        if n:
            counts[f"{table.name} (private chat)"] = n
    return counts


def erase_member(
    store: Store,
    platform: str,
    member: str,
    *,
    operator: str,
    reason: str,
    now: float | None = None,
) -> dict[str, int]:
    """Erase one member (see the module docstring); rows touched per table."""
    now = time.time() if now is None else now
    pseudonym = "erased:" + secrets.token_hex(8)
    counts: dict[str, int] = {}
    with store.engine.begin() as conn:
        mid = _archive_id(conn, platform, member)
        if mid is not None:
            s = schema
            counts["messages"] = conn.execute(
                update(s.messages).where(s.messages.c.member_id == mid).values(text="")
            ).rowcount
            counts["member_names"] = conn.execute(
                s.member_names.delete().where(s.member_names.c.member_id == mid)
            ).rowcount
            counts["renames"] = conn.execute(
                update(s.renames)
                .where(s.renames.c.member_id == mid)
                .values(old_name="", new_name="")
            ).rowcount
            conn.execute(
                update(s.members)
                .where(s.members.c.id == mid)
                .values(platform_id=pseudonym, name="[erased]")
            )
            counts["members"] = 1
        for table in _feature_tables():
            values: dict[str, Any] = {"member_id": pseudonym}
            for col in table.c:
                if col.name in PERSONAL_COLUMNS and isinstance(col.type, String | Text):
                    values[col.name] = "{}" if col.name in _JSON_COLUMNS else ""
            n = conn.execute(
                update(table)
                .where(table.c.platform == platform, table.c.member_id == member)
                .values(**values)
            ).rowcount
            if n:
                counts[table.name] = n
        counts.update(_erase_private_chat(conn, platform, member, pseudonym))
        if not counts:
            raise MemberNotFound(f"no member {member!r} on {platform!r} in this archive")
        conn.execute(
            schema.bot_actions.insert().values(
                platform=platform,
                group_id="",
                member_id=pseudonym,
                kind="erase",
                params="{}",
                reason=reason[:64],
                evidence=json.dumps({"rows": counts}, ensure_ascii=False),
                status="done",
                operator=operator,
                created_at=now,
                done_at=now,
            )
        )
    return counts
