"""More of the report's inputs on the query layer (see :mod:`.query` for the engines).

Each expression here gives the same rows as a Polars function of the analytics
(``tests/analytics/test_query_engines.py`` checks both that and DuckDB = Spark):

* :func:`known_pairs` — :func:`shequn.analytics.stats.known_pairs`;
* :func:`interaction_edges` — :func:`shequn.analytics.kol.interaction_edges`, and
  :func:`pagerank` — :func:`shequn.analytics.kol.pagerank` as rounds of join + grouped
  sum, each round a table in the engine;
* :func:`weekly_health` — the weekly trend inputs of :mod:`shequn.analytics.health`
  (``_weekly``), shaped by :func:`weekly_series`;
* :func:`group_activity` — :func:`shequn.analytics.health.group_figures` (the groups'
  message, ad and UGC counts, 30-day and 4-week figures, first and last event);
* :func:`active_day_window` — :func:`shequn.analytics.stats.active_day_window` without
  a rank (a self-join counting later days), which :func:`shequn.analytics.query.member_stats`
  takes as ``since`` for the member layers' window.

The same rule as :mod:`.query`: joins, filters and grouped aggregates only.
"""

from __future__ import annotations

import itertools
from typing import Any

import ibis

from shequn.analytics.frame import DAY
from shequn.analytics.query import _pairs, _seen

__all__ = [
    "active_day_window",
    "group_activity",
    "interaction_edges",
    "known_pairs",
    "pagerank",
    "weekly_health",
    "weekly_series",
]

WEEK = 7 * DAY
_KEYS = ["group_id", "member_id"]
_GONE = ["leave", "kick"]


def known_pairs(t: dict[str, Any]) -> Any:
    """Every ``(group_id, member_id)`` seen acting in the group: ``present``, ``last_spoke``.

    As :func:`shequn.analytics.stats.known_pairs`: ``last_spoke`` is the last message
    there (null: never); ``present`` is false when the last membership event is a
    leave or kick and no message came after it. The last event is the one at the
    latest time; several at that same second are taken in archive order (``seq``, the
    order the Polars sort keeps), e.g. an IRC join and part within one second.
    """
    msg, ms = t["messages"], t["memberships"]
    last = ms.group_by(_KEYS).aggregate(event_ts=ms.ts.max())
    at_last = ms.join(last, _KEYS).filter(lambda r: r.ts == r.event_ts)
    last_seq = at_last.group_by([*_KEYS, "event_ts"]).aggregate(seq=at_last.seq.max())
    events = at_last.join(last_seq, [*_KEYS, "seq"]).select(
        *_KEYS, "event_ts", gone=at_last.action.isin(_GONE)
    )
    speech = msg.filter(msg.member_id.notnull() & msg.speech)
    spoke = speech.group_by(_KEYS).aggregate(msg_ts=speech.ts.max())
    out = _seen(t).left_join(events, _KEYS).drop("group_id_right", "member_id_right")
    out = out.left_join(spoke, _KEYS).drop("group_id_right", "member_id_right")
    gone = out.gone & (out.msg_ts.isnull() | (out.msg_ts <= out.event_ts))
    return out.select(*_KEYS, present=~gone.fill_null(False), last_spoke=out.msg_ts).order_by(_KEYS)


def interaction_edges(t: dict[str, Any]) -> Any:
    """``source, target, weight``: replies and mentions between distinct non-bot members,
    over the whole archive (as :func:`shequn.analytics.kol.interaction_edges`)."""
    msg, mnt, mem = t["messages"], t["mentions"], t["members"]
    replies = msg.filter(
        msg.speech & ~msg.is_bot & msg.member_id.notnull() & msg.reply_member_id.notnull()
    ).select(source=msg.member_id, target=msg.reply_member_id)
    mentions = mnt.filter(mnt.author_id.notnull()).select(
        source=mnt.author_id, target=mnt.member_id
    )
    both = replies.union(mentions, distinct=False)
    bots = mem.filter(mem.is_bot).member_id
    edges = both.filter(
        (both.source != both.target) & ~both.source.isin(bots) & ~both.target.isin(bots)
    )
    return (
        edges.group_by(["source", "target"])
        .aggregate(weight=edges.count().cast("float64"))
        .order_by(["source", "target"])
    )


_round = itertools.count()


def pagerank(
    con: Any, edges: Any, *, alpha: float = 0.85, max_iter: int = 100, tol: float = 1e-6
) -> Any:
    """PageRank of every node of ``edges`` (:func:`interaction_edges`): ``member_id, pagerank``.

    The power iteration of :func:`shequn.analytics.kol.pagerank` (uniform teleport,
    dangling nodes spread uniformly, stop when the L1 change is below ``N × tol``),
    one round = a join of the scores onto the normalised edges and a grouped sum.
    Each round's scores are written as a table of ``con`` so that the next round's
    plan stays one join deep; only the dangling nodes' total and the round's L1 change
    come back to Python. The result reads the last round's table
    (``shequn_pagerank_<n>``, left in ``con``). Scores agree with the Polars ones to
    ~1e-17 (sums in another order), not bit for bit, on any engine.
    """
    fixed: list[str] = []
    rounds: list[str] = []

    def table(expr: Any, names: list[str]) -> Any:
        names.append(f"shequn_pagerank_{next(_round)}")
        return con.create_table(names[-1], expr, overwrite=True)

    def keep(expr: Any) -> Any:  # a round's scores; the one before the last is dropped
        out = table(expr, rounds)
        if len(rounds) > 2:
            con.drop_table(rounds.pop(0), force=True)
        return out

    e = edges
    out_w = e.group_by("source").aggregate(out_weight=e.weight.sum())
    # the normalised edges and the nodes are computed once, not in every round
    norm = e.join(out_w, "source").select("source", "target", w=e.weight / out_w.out_weight)
    nodes = e.select(member_id=e.source).union(e.select(member_id=e.target)).distinct()
    nodes = nodes.left_join(out_w, nodes.member_id == out_w.source).select(
        "member_id", dangling=out_w.source.isnull()
    )
    norm, nodes = table(norm, fixed), table(nodes, fixed)
    n = int(nodes.count().execute())
    x = keep(nodes.select("member_id", "dangling", pr=ibis.literal(1 / n if n else 0.0)))
    if n == 0:
        max_iter = 0
    for _ in range(max_iter):
        flow = norm.join(x, norm.source == x.member_id)
        inflow = flow.group_by("target").aggregate(s=(flow.pr * flow.w).sum())
        spread = float(x.filter(x.dangling).pr.sum().fill_null(0.0).execute()) / n
        new = x.left_join(inflow, x.member_id == inflow.target)
        pr = alpha * (new.s.fill_null(0.0) + spread) + (1 - alpha) / n
        last = x
        x = keep(new.select("member_id", "dangling", pr=pr))
        change = x.join(last, "member_id")
        if float(((change.pr - change.pr_right).abs().sum()).execute()) < n * tol:
            break
    result = x.select("member_id", pagerank=x.pr).order_by("member_id")
    for name in [*fixed, *rounds[:-1]]:
        con.drop_table(name, force=True)
    return result


def weekly_health(t: dict[str, Any], now: float, weeks: int) -> Any:
    """Per group and week (0 = the last 7 days before ``now``, up to ``weeks - 1``):
    ``messages``, ``active_members`` (non-bot senders), ``ads`` (ad-like messages) and
    ``newcomers`` (retention join times in that week) — the inputs of the health trend.

    Needs the messages' ``ad`` column (:func:`shequn.analytics.query.export_parquet`
    with ``ad``). :func:`weekly_series` turns the rows into the health module's lists.
    """
    msg = t["messages"]
    speech = msg.filter(msg.speech)
    speech = speech.mutate(bucket=((now - speech.ts) / WEEK).floor().cast("int32"))
    speech = speech.filter(speech.bucket < weeks)
    agg = speech.group_by(["group_id", "bucket"]).aggregate(
        messages=speech.count(),
        active_members=speech.member_id.nunique(where=~speech.is_bot),
        ads=speech.ad.cast("int64").sum(),
    )
    joins = _pairs(t)
    joins = joins.mutate(bucket=((now - joins.join_ts) / WEEK).floor().cast("int32"))
    joins = joins.filter(joins.bucket < weeks)
    new = joins.group_by(["group_id", "bucket"]).aggregate(newcomers=joins.count())
    both = agg.outer_join(new, ["group_id", "bucket"])
    zero = {c: both[c].fill_null(0).cast("int64") for c in ("messages", "active_members", "ads")}
    return both.select(
        group_id=both.group_id.coalesce(both.group_id_right),
        bucket=both.bucket.coalesce(both.bucket_right),
        **zero,
        newcomers=both.newcomers.fill_null(0).cast("int64"),
    ).order_by(["group_id", "bucket"])


def weekly_series(rows: list[dict[str, Any]], weeks: int) -> dict[int, dict[str, list[Any]]]:
    """:func:`weekly_health` rows as the health module's per-group lists, oldest week first."""
    out: dict[int, dict[str, list[Any]]] = {}
    for r in rows:
        g = out.setdefault(
            r["group_id"],
            {
                "active_members": [0] * weeks,
                "messages": [0] * weeks,
                "newcomers": [0] * weeks,
                "ad_share": [0.0] * weeks,
            },
        )
        i = weeks - 1 - r["bucket"]
        g["messages"][i] = r["messages"]
        g["active_members"][i] = r["active_members"]
        g["ad_share"][i] = round(r["ads"] / r["messages"], 4) if r["messages"] else 0.0
        g["newcomers"][i] = r["newcomers"]
    return out


def active_day_window(t: dict[str, Any], days: int) -> Any:
    """``group_id, since``: the first message time of each group's ``days``-th most recent
    day with messages (groups with fewer active days are left out), as
    :func:`shequn.analytics.stats.active_day_window` — the rank of a day is one plus
    the number of the group's active days after it (a self-join and a count, no window).
    """
    msg = t["messages"]
    speech = msg.filter(msg.speech)
    per_day = speech.group_by(["group_id", "day"]).aggregate(since=speech.ts.min())
    later = per_day.view()
    pairs = per_day.left_join(later, [per_day.group_id == later.group_id, per_day.day < later.day])
    ranked = pairs.group_by(["group_id", "day", "since"]).aggregate(n=pairs.day_right.count() + 1)
    return ranked.filter(ranked.n == days).select("group_id", "since").order_by("group_id")


def group_activity(t: dict[str, Any], now: float) -> Any:
    """Per group with any event: the columns of :func:`shequn.analytics.health.group_figures`
    — speech, ad-like and UGC messages, overall and in the last 30 days, distinct
    non-bot speakers in 30 days, the last 4 weeks against the 4 before, and the first
    and last message or membership event. Needs the messages' ``ad`` column."""
    msg, ms = t["messages"], t["memberships"]
    sp = msg.filter(msg.speech)
    recent = sp.ts > now - 30 * DAY
    four = ((now - sp.ts) / (4 * WEEK)).floor()
    person = ~sp.is_bot

    def count(cond: Any) -> Any:
        return cond.cast("int64").sum()

    counts = sp.group_by("group_id").aggregate(
        messages=sp.count(),
        ads=count(sp.ad),
        ugc=count(sp.ugc),
        messages_30d=count(recent),
        ugc_30d=count(recent & sp.ugc),
        ads_30d=count(recent & sp.ad),
        active_30d=sp.member_id.nunique(where=recent & person),
        last4=count(four == 0),
        last4_active=sp.member_id.nunique(where=(four == 0) & person),
        prev4=count(four == 1),
        prev4_active=sp.member_id.nunique(where=(four == 1) & person),
    )
    times = msg.select("group_id", "ts").union(ms.select("group_id", "ts"), distinct=False)
    span = times.group_by("group_id").aggregate(first_ts=times.ts.min(), last_ts=times.ts.max())
    out = span.left_join(counts, "group_id").drop("group_id_right")
    columns = [c for c in counts.columns if c != "group_id"]
    return out.mutate(**{c: out[c].fill_null(0).cast("int64") for c in columns}).order_by(
        "group_id"
    )
