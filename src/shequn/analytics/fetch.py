"""The archive queries and the fastest way to bring each backend's rows into Polars.

Every query is one plain ``SELECT`` over the archive tables, the same on SQLite and
PostgreSQL. What differs is only how the rows travel, because making a Python
object per value is what costs (a million messages are seven million values):

* **PostgreSQL**: ``COPY (SELECT ...) TO STDOUT`` as CSV, parsed by Polars in Rust.
  NULL is an unquoted empty field and '' a quoted one, which Polars keeps apart;
  float8 prints exactly (extra_float_digits >= 1 since PostgreSQL 12).
* **SQLite**: the rows are folded, 100,000 rowids of the driving table at a time,
  into one JSON array per column (``json_group_array``, in C) and Polars decodes
  the arrays. Times travel as integer microseconds, since SQLite prints JSON reals
  with 15 significant digits.
* **Anything else** (or SQLite without JSON): plain DBAPI rows in chunks — still not
  SQLAlchemy rows, which cost ten times more.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import polars as pl

__all__ = [
    "GROUPS",
    "MEMBERS",
    "MEMBERSHIPS",
    "MENTIONS",
    "MESSAGES",
    "NAMES",
    "REACTIONS",
    "Query",
    "fetch",
]

_CHUNK = 100_000


@dataclass(frozen=True, slots=True)
class Query:
    """``SELECT <columns> FROM <source>``, driven by ``table`` (aliased ``alias``)."""

    columns: tuple[tuple[str, str, Any], ...]  # (name, SQL expression, Polars dtype)
    source: str
    table: str
    alias: str

    @property
    def schema(self) -> dict[str, Any]:
        return {name: dtype for name, _, dtype in self.columns}

    def sql(self) -> str:
        return f"SELECT {', '.join(expr for _, expr, _ in self.columns)} FROM {self.source}"

    def json_sql(self) -> str:
        """One row of JSON arrays for the driving rows with ``? <= rowid < ?``.

        A range of rowids rather than ``GROUP BY rowid / n``: grouping would sort
        the whole result in a temporary B-tree first.
        """
        cols = []
        for _, expr, dtype in self.columns:
            if dtype == pl.Float64:
                expr = f"CAST(ROUND(({expr}) * 1000000) AS INTEGER)"
            cols.append(f"json_group_array({expr})")
        where = f"{self.alias}.rowid >= ? AND {self.alias}.rowid < ?"
        return f"SELECT {', '.join(cols)} FROM {self.source} WHERE {where}"


_ON_MESSAGE = "m.group_id = {t}.group_id AND m.platform_id = {t}.{pid}"

MESSAGES = Query(
    (
        ("group_id", "m.group_id", pl.Int32),
        ("member_id", "m.member_id", pl.Int32),
        ("ts", "m.ts", pl.Float64),
        ("kind", "m.kind", pl.String),
        ("text", "m.text", pl.String),
        ("forwarded", "CAST(m.forwarded AS INTEGER)", pl.Int8),
        ("reply_member_id", "p.member_id", pl.Int32),  # author of the replied-to message
    ),
    "messages m LEFT JOIN messages p ON p.group_id = m.group_id AND p.platform_id = m.reply_to",
    "messages",
    "m",
)
MENTIONS = Query(
    (
        ("group_id", "x.group_id", pl.Int32),
        ("member_id", "x.member_id", pl.Int32),
        ("author_id", "m.member_id", pl.Int32),
        ("ts", "m.ts", pl.Float64),
    ),
    "mentions x JOIN messages m ON " + _ON_MESSAGE.format(t="x", pid="message_pid"),
    "mentions",
    "x",
)
REACTIONS = Query(
    (
        ("group_id", "r.group_id", pl.Int32),
        ("member_id", "r.member_id", pl.Int32),  # 0 = unknown reactor (a count only)
        ("count", "r.count", pl.Int32),
        ("author_id", "m.member_id", pl.Int32),
        ("ts", "m.ts", pl.Float64),
    ),
    "reactions r JOIN messages m ON " + _ON_MESSAGE.format(t="r", pid="message_pid"),
    "reactions",
    "r",
)
MEMBERSHIPS = Query(
    (
        ("group_id", "group_id", pl.Int32),
        ("member_id", "member_id", pl.Int32),
        ("ts", "ts", pl.Float64),
        ("action", "action", pl.String),
        ("method", "method", pl.String),
        ("actor_id", "actor_id", pl.Int32),
    ),
    "membership_events",
    "membership_events",
    "membership_events",
)
MEMBERS = Query(
    (
        ("member_id", "id", pl.Int32),
        ("platform", "platform", pl.String),
        ("platform_id", "platform_id", pl.String),
        ("name", "name", pl.String),
        ("is_bot", "CAST(is_bot AS INTEGER)", pl.Int8),
        ("is_operator", "CAST(is_operator AS INTEGER)", pl.Int8),
    ),
    "members",
    "members",
    "members",
)
NAMES = Query(
    (
        ("member_id", "member_id", pl.Int32),
        ("name", "name", pl.String),
        ("first_ts", "first_ts", pl.Float64),
    ),
    "member_names",
    "member_names",
    "member_names",
)
GROUPS = Query(
    (
        ("group_id", "id", pl.Int32),
        ("platform", "platform", pl.String),
        ("platform_id", "platform_id", pl.String),
        ("name", "name", pl.String),
        ("kind", "kind", pl.String),
    ),
    "groups",
    "groups",
    "groups",
)


def _copy(dbapi: Any, q: Query) -> pl.DataFrame:
    buf = bytearray()
    with dbapi.cursor() as cur, cur.copy(f"COPY ({q.sql()}) TO STDOUT WITH (FORMAT csv)") as copy:
        for data in copy:
            buf += data
    if not buf:
        return pl.DataFrame(schema=q.schema)
    return pl.read_csv(io.BytesIO(buf), has_header=False, schema=q.schema)


def _json(dbapi: Any, q: Query) -> pl.DataFrame:
    names = [name for name, _, _ in q.columns]
    wire = {n: pl.Int64 if t == pl.Float64 else t for n, t in q.schema.items()}
    cur = dbapi.cursor()
    parts = []
    try:
        low, high = cur.execute(f"SELECT MIN(rowid), MAX(rowid) FROM {q.table}").fetchone()
        sql = q.json_sql()
        for start in range(low or 0, (high or -1) + 1, _CHUNK):
            row = cur.execute(sql, (start, start + _CHUNK)).fetchone()
            if row[0] == "[]":
                continue  # a gap in the rowids (deleted rows)
            chunk = pl.DataFrame(
                [[v] for v in row], schema=dict.fromkeys(names, pl.String), orient="col"
            )
            parts.append(
                chunk.select(pl.col(n).str.json_decode(pl.List(wire[n])) for n in names).explode(
                    names
                )
            )
    finally:
        cur.close()
    if not parts:
        return pl.DataFrame(schema=q.schema)
    out = pl.concat(parts, rechunk=True)
    return out.with_columns(
        (pl.col(n) / 1_000_000).alias(n) for n, t in q.schema.items() if t == pl.Float64
    )


def _chunks(dbapi: Any, sql: str) -> Iterator[list[tuple[Any, ...]]]:
    cur = dbapi.cursor()
    try:
        cur.execute(sql)
        while rows := cur.fetchmany(_CHUNK):
            yield rows
    finally:
        cur.close()


def _rows(dbapi: Any, q: Query) -> pl.DataFrame:
    frames = [pl.DataFrame(rows, schema=q.schema, orient="row") for rows in _chunks(dbapi, q.sql())]
    if not frames:
        return pl.DataFrame(schema=q.schema)
    return pl.concat(frames, rechunk=True)


def has_json(conn: Any) -> bool:
    """Whether this SQLite has the JSON functions (built in since 3.38)."""
    try:
        conn.connection.dbapi_connection.execute("SELECT json_group_array(1)").fetchall()
    except Exception:  # sqlite3.OperationalError: no such function
        return False
    return True


def fetch(conn: Any, q: Query, transport: str) -> pl.DataFrame:
    """Run ``q`` on the SQLAlchemy connection ``conn``: ``transport`` is "copy"
    (PostgreSQL), "json" (SQLite) or "rows" (anything)."""
    dbapi = conn.connection.dbapi_connection
    if transport == "copy":
        return _copy(dbapi, q)
    if transport == "json":
        return _json(dbapi, q)
    return _rows(dbapi, q)


def transport_for(conn: Any, dialect: str) -> str:
    """The fastest transport this connection supports."""
    if dialect == "postgresql":
        return "copy"
    if dialect == "sqlite" and has_json(conn):
        return "json"
    return "rows"
