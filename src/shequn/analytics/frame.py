"""Reading the archive once into Polars frames that every analysis shares.

One pass of plain SQL through the store's engine, the same queries on SQLite and
PostgreSQL (see :mod:`.fetch` for the queries and how their rows travel).

Replies are resolved to the replied-to member in SQL with a self-join on the unique
``(group_id, platform_id)`` key, mentions and reactions to the author of their
message the same way. Everything after :func:`load` is vectorised Polars.

Times stay UTC epoch seconds (``ts``); :func:`load` adds the local ``day``,
``weekday`` (1 = Monday) and ``hour`` of each message in the settings' zone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from shequn.analytics import fetch
from shequn.store import Store

__all__ = [
    "DAY",
    "REPEAT_SPACES",
    "Frames",
    "derive",
    "iso",
    "iso_expr",
    "load",
    "local_time",
    "member_flags",
]

DAY = 86400.0

_RENAMES_MAX = "SELECT MAX(ts) FROM renames"


@dataclass(frozen=True, slots=True)
class Frames:
    """The archive as frames, cut at ``now`` (nothing later is kept).

    ``messages`` carries, besides the stored columns but ``text`` (kept apart in
    ``text``, row for row, see :meth:`with_text`), ``reply_member_id`` (author of
    the replied-to message), ``is_bot`` / ``is_operator`` of the sender, ``speech``
    (not a service message), ``staff`` (operator or bot), ``ugc`` (speech by a
    member who is not staff), the local ``day`` / ``weekday`` / ``hour`` and the
    text's repeat key ``text_key`` / ``text_len`` (see :func:`derive`).
    """

    groups: pl.DataFrame
    members: pl.DataFrame
    names: pl.DataFrame
    messages: pl.DataFrame
    mentions: pl.DataFrame
    reactions: pl.DataFrame
    memberships: pl.DataFrame
    text: pl.Series
    now: float
    start: float | None
    end: float | None
    tz: str

    def with_text(self) -> pl.LazyFrame:
        """``messages`` with their ``text``, lazily: filter and select before collecting
        so that only the texts needed are copied (they are most of the memory)."""
        return self.messages.with_columns(self.text).lazy()


def _max(*values: float | None) -> float | None:
    present = [v for v in values if v is not None and not math.isnan(v)]
    return max(present) if present else None


def _min(*values: float | None) -> float | None:
    present = [v for v in values if v is not None and not math.isnan(v)]
    return min(present) if present else None


def _col_max(df: pl.DataFrame, col: str) -> float | None:
    return df[col].max() if df.height else None  # type: ignore[return-value]


def _col_min(df: pl.DataFrame, col: str) -> float | None:
    return df[col].min() if df.height else None  # type: ignore[return-value]


def load(store: Store, *, now: float | None = None, tz: str = "Asia/Shanghai") -> Frames:
    """Read the whole archive once; keep only what happened at or before ``now``.

    ``now`` defaults to the newest event (message, membership change or rename), so
    an old export is described as it was when exported.
    """
    with store.engine.connect() as conn:
        how = fetch.transport_for(conn, store.dialect)
        groups = fetch.fetch(conn, fetch.GROUPS, how)
        members = fetch.fetch(conn, fetch.MEMBERS, how)
        names = fetch.fetch(conn, fetch.NAMES, how)
        memberships = fetch.fetch(conn, fetch.MEMBERSHIPS, how)
        mentions = fetch.fetch(conn, fetch.MENTIONS, how)
        reactions = fetch.fetch(conn, fetch.REACTIONS, how)
        messages = fetch.fetch(conn, fetch.MESSAGES, how)
        renamed = conn.exec_driver_sql(_RENAMES_MAX).scalar()
        conn.rollback()  # read-only: end the transaction (and the server-side cursors)
    newest = _max(_col_max(messages, "ts"), _col_max(memberships, "ts"), renamed)
    oldest = _min(_col_min(messages, "ts"), _col_min(memberships, "ts"))
    if now is None:
        now = newest if newest is not None else datetime.now(UTC).timestamp()
    else:
        messages = messages.filter(pl.col("ts") <= now)
        mentions = mentions.filter(pl.col("ts") <= now)
        reactions = reactions.filter(pl.col("ts") <= now)
        memberships = memberships.filter(pl.col("ts") <= now)
        newest = _max(_col_max(messages, "ts"), _col_max(memberships, "ts"))
        oldest = _min(_col_min(messages, "ts"), _col_min(memberships, "ts"))
    members = member_flags(members)
    messages = derive(messages, members, tz)
    text = messages["text"]
    messages = messages.drop("text")
    return Frames(
        text=text,
        groups=groups,
        members=members,
        names=names,
        messages=messages,
        mentions=mentions,
        reactions=reactions,
        memberships=memberships,
        now=float(now),
        start=oldest,
        end=newest,
        tz=tz,
    )


def member_flags(members: pl.DataFrame) -> pl.DataFrame:
    """The fetched members with ``is_bot`` / ``is_operator`` as booleans."""
    return members.with_columns(
        pl.col("is_bot").cast(pl.Boolean), pl.col("is_operator").cast(pl.Boolean)
    )


def derive(messages: pl.DataFrame, members: pl.DataFrame, tz: str) -> pl.DataFrame:
    """The fetched messages (any part of them) with the sender's flags and the derived
    columns :class:`Frames` documents: ``speech``, ``staff``, ``ugc``, local ``day``,
    ``weekday``, ``hour``."""
    flags = members.select("member_id", "is_bot", "is_operator")
    local = local_time(pl.col("ts"), tz)
    return (
        messages.join(flags, on="member_id", how="left")
        .with_columns(
            pl.col("is_bot").fill_null(False),
            pl.col("is_operator").fill_null(False),
            pl.col("forwarded").cast(pl.Boolean),
            (pl.col("kind") != "system").alias("speech"),
        )
        .with_columns(
            (pl.col("is_bot") | pl.col("is_operator")).alias("staff"),
            local.dt.date().alias("day"),
            local.dt.weekday().alias("weekday"),
            local.dt.hour().alias("hour"),
        )
        .with_columns((pl.col("speech") & ~pl.col("staff")).alias("ugc"), *_repeat_key())
    )


#: Removed (with case) before texts are compared for repeats (the ad rule of
#: :mod:`.ads`): copy-paste campaigns vary spacing, not words.
REPEAT_SPACES = (" ", "\t", "\r", "\n", "\u3000", "\u00a0")


def _repeat_key() -> tuple[pl.Expr, pl.Expr]:
    """``text_key`` (a 64-bit hash of the text lower-cased, :data:`REPEAT_SPACES`
    removed; signed, which every engine reads) and ``text_len`` (its length in
    characters): computed once here, so that engines group repeats by a number,
    not by a million normalised strings (several times slower on DuckDB)."""
    norm = (
        pl.col("text")
        .str.to_lowercase()
        .str.replace_many(list(REPEAT_SPACES), [""] * len(REPEAT_SPACES))
    )
    return (
        norm.hash().reinterpret(signed=True).alias("text_key"),
        norm.str.len_chars().cast(pl.Int32).alias("text_len"),
    )


def local_time(ts: pl.Expr, tz: str) -> pl.Expr:
    """Epoch seconds as an aware datetime in ``tz``."""
    micros = (ts * 1_000_000).round(0).cast(pl.Int64)
    return (
        pl.from_epoch(micros, time_unit="us").dt.replace_time_zone("UTC").dt.convert_time_zone(tz)
    )


def iso(ts: float | None) -> str | None:
    """``"2024-01-02T03:04:05Z"`` for an epoch time (None stays None)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(math.floor(ts), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_expr(col: str) -> pl.Expr:
    """The vectorised :func:`iso` (nulls stay null)."""
    return (
        pl.from_epoch(pl.col(col).floor().cast(pl.Int64), time_unit="s")
        .dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        .alias(col)
    )
