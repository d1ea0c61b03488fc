"""Keeping the search index up to date: catch up by message id, restart-safe.

Imports and the live bot add messages through their own paths; the index follows them
from the outside. :func:`catch_up` tokenises the messages that have no ``search_docs``
row yet, oldest id first, in batches that each commit on their own, so a crash or a
restart loses at most one batch of work and never indexes a message twice. It looks
only at ids above the highest indexed id minus :data:`LOOKBACK` (an anti-join on the
primary key, cheap at any archive size); the margin catches PostgreSQL rows whose
transaction took an id early and committed late. :func:`repair` does the full pass:
every unindexed message, rows whose text changed (an edit, a privacy erase) and rows
whose message is gone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, text

from shequn.features.search.tokens import index_tokens
from shequn.store import Store, schema

__all__ = ["BATCH", "LOOKBACK", "catch_up", "pending", "repair", "tick"]

BATCH = 2000
LOOKBACK = 100_000

_m = schema.messages
_d = schema.search_docs


def _floor(conn: Connection) -> int:
    top = conn.execute(select(func.max(_d.c.message_id))).scalar()
    return max(0, int(top or 0) - LOOKBACK)


def _unindexed(floor: int) -> Any:
    return (
        select(_m.c.id, _m.c.group_id, _m.c.member_id, _m.c.ts, _m.c.kind, _m.c.text)
        .outerjoin(_d, _d.c.message_id == _m.c.id)
        .where(_m.c.id > floor, _d.c.message_id.is_(None))
        .order_by(_m.c.id)
    )


def pending(conn: Connection) -> int:
    """How many messages :func:`catch_up` would still index."""
    q = _unindexed(_floor(conn)).with_only_columns(func.count()).order_by(None)
    return int(conn.execute(q).scalar_one())


def _fts_insert(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if conn.dialect.name == "sqlite" and rows:
        conn.execute(
            text("INSERT INTO search_fts(rowid, tokens) VALUES (:message_id, :tokens)"),
            [{"message_id": r["message_id"], "tokens": r["tokens"]} for r in rows],
        )


def _fts_delete(conn: Connection, ids: Iterable[int]) -> None:
    """Drop ``search_docs`` rows (and their FTS5 entries, which need the old tokens)."""
    ids = list(ids)
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        if conn.dialect.name == "sqlite":
            old = conn.execute(
                select(_d.c.message_id, _d.c.tokens).where(_d.c.message_id.in_(chunk))
            ).all()
            if old:
                conn.execute(
                    text(
                        "INSERT INTO search_fts(search_fts, rowid, tokens) "
                        "VALUES ('delete', :id, :tokens)"
                    ),
                    [{"id": r.message_id, "tokens": r.tokens} for r in old],
                )
        conn.execute(delete(_d).where(_d.c.message_id.in_(chunk)))


def _docs(rows: Iterable[Any]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        body = r.text or ""
        out.append(
            {
                "message_id": r.id,
                "group_id": r.group_id,
                "member_id": r.member_id,
                "ts": r.ts,
                "kind": r.kind,
                "text_len": len(body),
                # an empty message still gets a row, so it is not looked at again
                "tokens": " ".join(index_tokens(body)) if body else "",
            }
        )
    return out


def _write(conn: Connection, docs: list[dict[str, Any]]) -> None:
    if docs:
        conn.execute(insert(_d), docs)
        _fts_insert(conn, [d for d in docs if d["tokens"]])


def index_batch(conn: Connection, limit: int = BATCH, *, floor: int | None = None) -> int:
    """Index up to ``limit`` unindexed messages in ``conn``'s transaction; how many."""
    q = _unindexed(_floor(conn) if floor is None else floor).limit(limit)
    docs = _docs(conn.execute(q))
    _write(conn, docs)
    return len(docs)


def catch_up(store: Store, limit: int | None = None, *, batch: int = BATCH) -> int:
    """Index new messages, one committed batch at a time; at most ``limit`` of them."""
    done = 0
    while limit is None or done < limit:
        size = batch if limit is None else min(batch, limit - done)
        with store.engine.begin() as conn:
            n = index_batch(conn, size)
        done += n
        if n < size:
            break
    return done


def repair(store: Store, *, batch: int = BATCH) -> dict[str, int]:
    """The full pass: stale and orphaned rows out, every unindexed message in."""
    with store.engine.begin() as conn:
        gone = conn.execute(
            select(_d.c.message_id)
            .outerjoin(_m, _m.c.id == _d.c.message_id)
            .where(_m.c.id.is_(None))
        ).scalars()
        stale = conn.execute(
            select(_d.c.message_id)
            .join(_m, _m.c.id == _d.c.message_id)
            .where(_d.c.text_len != func.length(_m.c.text))
        ).scalars()
        orphans, changed = list(gone), list(stale)
        _fts_delete(conn, orphans + changed)
    added = 0
    while True:
        with store.engine.begin() as conn:
            n = index_batch(conn, batch, floor=0)
        added += n
        if n < batch:
            break
    return {"removed": len(orphans), "reindexed": len(changed), "added": added}


def tick(conn: Connection, _platforms: object, _settings: object, now: float) -> None:
    """A pipeline tick job: index one batch of new messages (register as ``search.index``)."""
    index_batch(conn, BATCH)


def match_filter(conn: Connection) -> Any:
    """Rows whose indexed text is still the message's text (see ``text_len``)."""
    return and_(_m.c.id == _d.c.message_id, _d.c.text_len == func.length(_m.c.text))
