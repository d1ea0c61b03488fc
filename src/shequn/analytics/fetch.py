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
    "fetch_chunks",
]

_CHUNK = 100_000


@dataclass(frozen=True, slots=True)
class Query:
    """``SELECT <columns> FROM <source>``, driven by ``table`` (aliased ``alias``)."""

    columns: tuple[tuple[str, str, Any], ...]  # (name, SQL expression, Polars dtype)
    source: str
    table: str
    alias: str
    #: An integer column of ``source`` to cut the rows into ranges by (PostgreSQL
    #: chunks, :func:`fetch_chunks`), and the table it is the key of.
    key: str = "id"
    key_table: str = ""

    @property
    def schema(self) -> dict[str, Any]:
        return {name: dtype for name, _, dtype in self.columns}

    def sql(self, where: str = "") -> str:
        cols = ", ".join(expr for _, expr, _ in self.columns)
        return f"SELECT {cols} FROM {self.source}" + (f" WHERE {where}" if where else "")

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
        ("seq", "m.id", pl.Int64),  # archive order (ties of equal times)
    ),
    "messages m LEFT JOIN messages p ON p.group_id = m.group_id AND p.platform_id = m.reply_to",
    "messages",
    "m",
    "m.id",
    "messages",
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
    "m.id",  # mentions have no key of their own: ranges of their messages
    "messages",
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
    "m.id",
    "messages",
)
MEMBERSHIPS = Query(
    (
        ("group_id", "group_id", pl.Int32),
        ("member_id", "member_id", pl.Int32),
        ("ts", "ts", pl.Float64),
        ("action", "action", pl.String),
        ("method", "method", pl.String),
        ("actor_id", "actor_id", pl.Int32),
        ("seq", "id", pl.Int64),  # archive order (ties of equal times)
    ),
    "membership_events",
    "membership_events",
    "membership_events",
    "id",
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


def _copy(dbapi: Any, q: Query, where: str = "") -> pl.DataFrame:
    buf = bytearray()
    sql = f"COPY ({q.sql(where)}) TO STDOUT WITH (FORMAT csv)"
    with dbapi.cursor() as cur, cur.copy(sql) as copy:
        for data in copy:
            buf += data
    if not buf:
        return pl.DataFrame(schema=q.schema)
    return pl.read_csv(io.BytesIO(buf), has_header=False, schema=q.schema)


def _copy_chunks(dbapi: Any, q: Query, size: int) -> Iterator[pl.DataFrame]:
    if not q.key_table:
        yield _copy(dbapi, q)
        return
    with dbapi.cursor() as cur:
        low, high = cur.execute(f"SELECT MIN(id), MAX(id) FROM {q.key_table}").fetchone()
    for start in range(low or 0, (high or -1) + 1, size):
        chunk = _copy(dbapi, q, f"{q.key} >= {int(start)} AND {q.key} < {int(start + size)}")
        if chunk.height:
            yield chunk


def _json_chunks(dbapi: Any, q: Query, size: int) -> Iterator[pl.DataFrame]:
    names = [name for name, _, _ in q.columns]
    wire = {n: pl.Int64 if t == pl.Float64 else t for n, t in q.schema.items()}
    cur = dbapi.cursor()
    try:
        low, high = cur.execute(f"SELECT MIN(rowid), MAX(rowid) FROM {q.table}").fetchone()
        sql = q.json_sql()
        for start in range(low or 0, (high or -1) + 1, size):
            row = cur.execute(sql, (start, start + size)).fetchone()
            if row[0] == "[]":
                continue  # a gap in the rowids (deleted rows)
            chunk = pl.DataFrame(
                [[v] for v in row], schema=dict.fromkeys(names, pl.String), orient="col"
            )
            yield (
                chunk.select(pl.col(n).str.json_decode(pl.List(wire[n])) for n in names)
                .explode(names)
                .with_columns(
                    (pl.col(n) / 1_000_000).alias(n) for n, t in q.schema.items() if t == pl.Float64
                )
            )
    finally:
        cur.close()


def _row_chunks(dbapi: Any, q: Query, size: int) -> Iterator[pl.DataFrame]:
    cur = dbapi.cursor()
    try:
        cur.execute(q.sql())
        while rows := cur.fetchmany(size):
            yield pl.DataFrame(rows, schema=q.schema, orient="row")
    finally:
        cur.close()


def has_json(conn: Any) -> bool:
    """Whether this SQLite has the JSON functions (built in since 3.38)."""
    try:
        conn.connection.dbapi_connection.execute("SELECT json_group_array(1)").fetchall()
    except Exception:  # sqlite3.OperationalError: no such function
        return False
    return True


def fetch_chunks(
    conn: Any, q: Query, transport: str, *, size: int = _CHUNK
) -> Iterator[pl.DataFrame]:
    """The rows of ``q`` a part at a time (about ``size`` rows of its driving table
    each), so that a caller writing them out never holds the whole table."""
    dbapi = conn.connection.dbapi_connection
    if transport == "copy":
        return _copy_chunks(dbapi, q, size)
    if transport == "json":
        return _json_chunks(dbapi, q, size)
    return _row_chunks(dbapi, q, size)


def fetch(conn: Any, q: Query, transport: str) -> pl.DataFrame:
    """Run ``q`` on the SQLAlchemy connection ``conn``: ``transport`` is "copy"
    (PostgreSQL), "json" (SQLite) or "rows" (anything)."""
    if transport == "copy":  # one COPY: the fastest way to read a whole table
        return _copy(conn.connection.dbapi_connection, q)
    parts = list(fetch_chunks(conn, q, transport))
    if not parts:
        return pl.DataFrame(schema=q.schema)
    return pl.concat(parts, rechunk=True)


def transport_for(conn: Any, dialect: str) -> str:
    """The fastest transport this connection supports."""
    if dialect == "postgresql":
        return "copy"
    if dialect == "sqlite" and has_json(conn):
        return "json"
    return "rows"
