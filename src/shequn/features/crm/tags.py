"""Member tags and notes: the playbook's categories (§4.4) plus free tags.

A tag belongs to one account and has a ``source``: the console's own tags are
``console``; a sync from WeCom writes ``wecom`` rows. :func:`replace_source_tags` is
how a sync replaces its own rows, and it never touches another source's tags, so an
operator's tags survive every sync.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, delete, select, tuple_

from shequn.features.crm.identities import Account
from shequn.store import schema

__all__ = [
    "CATEGORIES",
    "EDITABLE_SOURCES",
    "add_note",
    "add_tag",
    "bulk_tag",
    "notes_of",
    "remove_tag",
    "replace_source_tags",
    "tags_of",
]

#: Playbook §4.4: work, interests, consumption level, city, writing style, values;
#: ``""`` is a free tag.
CATEGORIES = ("", "work", "interest", "consumption", "city", "writing", "values")
#: Sources an operator may remove in the console (a synced tag comes back on the next sync).
EDITABLE_SOURCES = frozenset({"console", "import"})
_MAX_TAG = 64


def _clean(category: str, tag: str) -> tuple[str, str]:
    category, tag = category.strip(), " ".join(tag.split())
    if not tag:
        raise ValueError("a tag needs a text")
    if len(tag) > _MAX_TAG:
        raise ValueError(f"a tag is at most {_MAX_TAG} characters")
    if category not in CATEGORIES:
        raise ValueError(f"unknown tag category: {category!r}")
    return category, tag


def _exists(conn: Connection, account: Account, category: str, tag: str) -> bool:
    t = schema.member_tags
    q = select(t.c.id).where(
        t.c.platform == account[0], t.c.member_id == account[1], t.c.category == category,
        t.c.tag == tag,
    )  # fmt: skip
    return conn.execute(q).first() is not None


def add_tag(
    conn: Connection, account: Account, category: str, tag: str, *, by: str, now: float,
    source: str = "console",
) -> bool:  # fmt: skip
    """Tag ``account``; False when it already had the tag (from any source)."""
    category, tag = _clean(category, tag)
    if _exists(conn, account, category, tag):
        return False
    conn.execute(
        schema.member_tags.insert().values(
            platform=account[0], member_id=account[1], category=category, tag=tag,
            source=source, created_at=now, created_by=by,
        )
    )  # fmt: skip
    return True


def remove_tag(conn: Connection, account: Account, category: str, tag: str) -> bool:
    """Remove an operator's tag; False when there was none (synced tags are not removed)."""
    t = schema.member_tags
    result = conn.execute(
        delete(t).where(
            t.c.platform == account[0], t.c.member_id == account[1], t.c.category == category,
            t.c.tag == tag, t.c.source.in_(sorted(EDITABLE_SOURCES)),
        )
    )  # fmt: skip
    return bool(result.rowcount)


def bulk_tag(
    conn: Connection, accounts: Iterable[Account], category: str, tag: str, *, by: str, now: float
) -> int:
    """Tag every account of ``accounts`` (a segment's members); how many were new."""
    category, tag = _clean(category, tag)
    return sum(add_tag(conn, a, category, tag, by=by, now=now) for a in accounts)


def tags_of(conn: Connection, accounts: Iterable[Account]) -> list[dict[str, str]]:
    """The tags of ``accounts`` (one person), each ``{category, tag, source, platform, member_id}``."""
    keys = sorted(set(accounts))
    if not keys:
        return []
    t = schema.member_tags
    q = (
        select(t.c.platform, t.c.member_id, t.c.category, t.c.tag, t.c.source)
        .where(tuple_(t.c.platform, t.c.member_id).in_(keys))
        .order_by(t.c.category, t.c.tag)
    )
    return [dict(r._mapping) for r in conn.execute(q)]


def replace_source_tags(
    conn: Connection, source: str, account: Account, tags: Iterable[tuple[str, str]], *, now: float,
    source_ids: dict[tuple[str, str], str] | None = None,
) -> None:  # fmt: skip
    """Make ``source``'s tags of ``account`` exactly ``tags`` ((category, tag) pairs).

    Rows of other sources stay; a wanted tag the account already has from another
    source is left as it is (the unique key allows one row per tag).
    """
    t = schema.member_tags
    conn.execute(
        delete(t).where(
            t.c.platform == account[0], t.c.member_id == account[1], t.c.source == source
        )
    )
    for category, tag in sorted(set(tags)):
        if _exists(conn, account, category, tag):
            continue
        conn.execute(
            t.insert().values(
                platform=account[0], member_id=account[1], category=category, tag=tag,
                source=source, source_id=(source_ids or {}).get((category, tag)),
                created_at=now, created_by=None,
            )
        )  # fmt: skip


def add_note(conn: Connection, account: Account, text: str, *, by: str, now: float) -> int:
    """Add a note to ``account``; its id. Raises ValueError on an empty note."""
    text = text.strip()
    if not text:
        raise ValueError("a note needs a text")
    n = schema.member_notes
    result = conn.execute(
        n.insert().values(
            platform=account[0], member_id=account[1], text=text[:4000], created_at=now,
            created_by=by,
        )
    )  # fmt: skip
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def notes_of(conn: Connection, accounts: Iterable[Account]) -> list[dict[str, object]]:
    """Notes on any of ``accounts``, newest first."""
    keys = sorted(set(accounts))
    if not keys:
        return []
    n = schema.member_notes
    q = (
        select(n)
        .where(tuple_(n.c.platform, n.c.member_id).in_(keys))
        .order_by(n.c.created_at.desc(), n.c.id.desc())
    )
    return [dict(r._mapping) for r in conn.execute(q)]
