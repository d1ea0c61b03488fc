"""The report's small per-message counts on the query layer (see :mod:`.query` for the engines).

The heatmap, the daily counts, the message summary's kinds and the concentration
figures each read every message once for a table of a handful of rows (a day, an
hour, a kind, a ``(group, member)`` pair): :class:`Counts` holds those tables, and
the report's JSON is built from them on the driver whatever the engine
(:func:`.activity.heatmap`, :func:`.activity.daily_counts`,
:func:`.tables.message_summary`, :func:`.concentration.concentration`; the UGC share
and the per-group counts come from the groups' figures, :func:`.health.group_figures`
/ :func:`.query_more.group_activity`). Each expression gives the same rows as the
Polars function it names (the reference, ``engine="polars"``;
``tests/analytics/test_query_counts.py`` checks that and DuckDB = Spark).

Local time: :func:`shequn.analytics.frame.load` computes each message's ``day``,
``weekday`` (1 = Monday) and ``hour`` in the settings' zone, and the engine reads
those columns (:func:`.query.query_frames`) rather than converting zones itself,
so every engine buckets a message exactly as Polars does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from shequn.analytics import activity, concentration, tables
from shequn.analytics.frame import Frames

__all__ = [
    "Counts",
    "counts",
    "kind_counts",
    "polars_counts",
    "talk_cells",
    "talk_days",
    "ugc_counts",
]


@dataclass(frozen=True, slots=True)
class Counts:
    """The report's small per-message count tables (none is message-sized)."""

    kinds: pl.DataFrame  #: ``kind, messages``: every message, service ones too
    cells: pl.DataFrame  #: ``weekday, hour, messages``: speech by anyone but bots
    days: pl.DataFrame  #: ``day`` (a date), ``messages``: speech by anyone but bots
    ugc: pl.DataFrame  #: ``group_id, member_id, messages``: member content, known senders


def kind_counts(t: dict[str, Any]) -> Any:
    """``kind, messages`` over every message (:func:`.tables.kind_counts`)."""
    m = t["messages"]
    return m.group_by("kind").aggregate(messages=m.count()).order_by("kind")


def _talk(t: dict[str, Any]) -> Any:
    m = t["messages"]
    return m.filter(m.speech & ~m.is_bot)


def talk_cells(t: dict[str, Any]) -> Any:
    """``weekday, hour, messages`` of speech by anyone but bots (:func:`.activity.talk_cells`)."""
    m = _talk(t)
    return (
        m.group_by(["weekday", "hour"]).aggregate(messages=m.count()).order_by(["weekday", "hour"])
    )


def talk_days(t: dict[str, Any]) -> Any:
    """``day`` (the engine's ``YYYY-MM-DD`` string), ``messages``: speech by anyone but bots
    per local day (:func:`.activity.talk_days`)."""
    m = _talk(t)
    return m.group_by("day").aggregate(messages=m.count()).order_by("day")


def ugc_counts(t: dict[str, Any]) -> Any:
    """``group_id, member_id, messages``: member content per known sender and group
    (:func:`.concentration.ugc_counts`)."""
    m = t["messages"]
    m = m.filter(m.ugc & m.member_id.notnull())
    return (
        m.group_by(["group_id", "member_id"])
        .aggregate(messages=m.count())
        .order_by(["group_id", "member_id"])
    )


def counts(t: dict[str, Any], rows: Callable[[Any], pl.DataFrame]) -> Counts:
    """:class:`Counts` on an engine: ``rows`` runs an expression into a Polars frame."""
    days = rows(talk_days(t))
    return Counts(
        kinds=_typed(rows(kind_counts(t))),
        cells=_typed(rows(talk_cells(t))),
        days=_typed(days.with_columns(pl.col("day").cast(pl.String).str.to_date())),
        ugc=_typed(rows(ugc_counts(t))),
    )


def polars_counts(f: Frames) -> Counts:
    """:class:`Counts` in Polars, from the frames (the reference)."""
    return Counts(
        kinds=_typed(tables.kind_counts(f)),
        cells=_typed(activity.talk_cells(f)),
        days=_typed(activity.talk_days(f)),
        ugc=_typed(concentration.ugc_counts(f)),
    )


#: The count tables' small columns, the same type whichever engine made them.
_TYPES = {"messages": pl.Int64, "weekday": pl.Int8, "hour": pl.Int8}


def _typed(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(pl.col(c).cast(d) for c, d in _TYPES.items() if c in df.columns)
