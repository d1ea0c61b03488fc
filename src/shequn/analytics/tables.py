"""The report's record lists: ``members``, ``groups``, ``lurkers`` and the ``messages`` summary.

These join what the analysis modules computed into the rows of the contract in
``docs/report-json.md``; they decide no thresholds of their own.
"""

from __future__ import annotations

from typing import Any

import orjson
import polars as pl

from shequn.analytics.activity import daily_counts
from shequn.analytics.frame import DAY, Frames, iso_expr
from shequn.analytics.health import group_figures

__all__ = [
    "group_records", "kind_counts", "lurker_records", "member_records", "message_summary", "records",
]  # fmt: skip

_MEMBER_COLS = [
    "id", "platform", "platform_id", "name", "names", "is_operator", "is_bot", "groups",
    "messages", "active_days", "first_ts", "last_ts", "joined_ts", "replies_received",
    "mentions_received", "distinct_repliers", "reactions_received", "invites",
    "invites_stayed", "layer", "layer_reasons", "pagerank", "reach", "forwards",
    "distinct_mentioners", "layer_group_id",
]  # fmt: skip


def records(df: pl.DataFrame) -> list[dict[str, Any]]:
    """``df.to_dicts()``, five times faster: Polars writes JSON in Rust, orjson reads it."""
    if df.height == 0:
        return []
    return orjson.loads(df.write_json())


def member_records(
    f: Frames,
    stats: pl.DataFrame,
    known: pl.DataFrame,
    layers: pl.DataFrame,
    ranks: pl.DataFrame,
) -> list[dict[str, Any]]:
    """One record per archive member, most messages first (then lowest id)."""
    names = (
        f.names.sort(["member_id", "first_ts", "name"], nulls_last=True)
        .group_by("member_id", maintain_order=True)
        .agg(pl.col("name").alias("names"))
    )
    groups = known.group_by("member_id").agg(pl.col("group_id").sort().alias("groups"))
    rows = (
        f.members.join(stats, on="member_id", how="left")
        .join(names, on="member_id", how="left")
        .join(groups, on="member_id", how="left")
        .join(layers, on="member_id", how="left")
        .join(ranks, on="member_id", how="left")
        .with_columns(
            pl.col("names").fill_null(pl.concat_list(pl.col("name"))),
            pl.col("groups").fill_null(pl.lit([], pl.List(pl.Int32))),
            pl.col("pagerank").fill_null(0.0).round(6),
            iso_expr("first_ts"),
            iso_expr("last_ts"),
            iso_expr("joined_ts"),
        )
        .rename({"member_id": "id"})
        .sort(["messages", "id"], descending=[True, False])
    )
    return records(rows.select(_MEMBER_COLS))


def lurker_records(f: Frames, known: pl.DataFrame, days: int) -> list[dict[str, Any]]:
    """Present members (not staff or bots) who never spoke in a group or not in ``days``.

    Sorted by group, never-spoke first, then longest silent, then member id.
    """
    staff = f.members.filter(pl.col("is_bot") | pl.col("is_operator")).select("member_id")
    quiet = known.filter(
        pl.col("present")
        & (pl.col("last_spoke").is_null() | (pl.col("last_spoke") <= f.now - days * DAY))
    ).join(staff, on="member_id", how="anti")
    rows = (
        quiet.join(f.members.select("member_id", "name"), on="member_id", how="left")
        .sort(["group_id", "last_spoke", "member_id"], nulls_last=False)
        .select("member_id", "name", "group_id", pl.col("last_spoke").alias("last_ts"))
        .with_columns(iso_expr("last_ts"))
    )
    return records(rows)


def group_records(
    f: Frames,
    ad: pl.Series | None,
    known: pl.DataFrame,
    health: list[dict[str, Any]],
    figures: pl.DataFrame | None = None,
) -> list[dict[str, Any]]:
    """One record per group, most messages first (then lowest id).

    ``figures`` is :func:`~shequn.analytics.health.group_figures` when computed already
    (``ad``, the ad flags, is read only to compute them: None when they are given).
    """
    if figures is None:
        if ad is None:
            raise ValueError("the ad flags are needed where an engine's figures are not given")
        figures = group_figures(f, ad)
    # every known account, bots too, so that the layer counts of a group add up to it
    sizes = known.group_by("group_id").agg(pl.len().alias("members"))
    rows = (
        f.groups.join(
            figures.select("group_id", "messages", "ads", "ugc", "first_ts", "last_ts"),
            on="group_id",
            how="left",
        )
        .join(sizes, on="group_id", how="left")
        .with_columns(pl.col("messages", "ads", "ugc", "members").fill_null(0))
        .with_columns(
            pl.when(pl.col("messages") > 0)
            .then((pl.col("ads") / pl.col("messages")).round(4))
            .otherwise(0.0)
            .alias("ad_share"),
            pl.when(pl.col("messages") > 0)
            .then((pl.col("ugc") / pl.col("messages")).round(4))
            .otherwise(None)
            .alias("ugc_share"),
            iso_expr("first_ts"),
            iso_expr("last_ts"),
        )
        .sort(["messages", "group_id"], descending=[True, False])
    )
    by_id = {h["group_id"]: h for h in health}
    out: list[dict[str, Any]] = []
    for r in rows.iter_rows(named=True):
        h = by_id.get(r["group_id"], {})
        out.append(
            {
                "id": r["group_id"],
                "platform": r["platform"],
                "platform_id": r["platform_id"],
                "name": r["name"],
                "kind": r["kind"],
                "members": r["members"],
                "messages": r["messages"],
                "active_members_30d": h.get("active_members_30d", 0),
                "newcomers_30d": h.get("newcomers_30d", 0),
                "first_ts": r["first_ts"],
                "last_ts": r["last_ts"],
                "ad_share": r["ad_share"],
                "ugc_share": r["ugc_share"],
                "stage": h.get("stage"),
                "at_risk": h.get("at_risk", False),
            }
        )
    return out


def kind_counts(f: Frames) -> pl.DataFrame:
    """``kind, messages`` over every message, service ones too (on an engine:
    :func:`.query_counts.kind_counts`)."""
    return f.messages.group_by("kind").agg(pl.len().alias("messages")).sort("kind")


def message_summary(
    kinds: pl.DataFrame, figures: pl.DataFrame, days: pl.DataFrame
) -> dict[str, Any]:
    """``total, member, operator, system, by_kind, by_group, daily`` from
    :func:`kind_counts`, the groups' figures (:func:`~shequn.analytics.health.group_figures`:
    speech ``messages`` and member content ``ugc`` per group) and
    :func:`~shequn.analytics.activity.talk_days`.

    ``member`` + ``operator`` + ``system`` = ``total``; messages without a known
    sender count as member messages; ``by_group`` and ``daily`` count speech only.
    """
    by_kind = {k: n for k, n in kinds.sort("kind").select("kind", "messages").iter_rows()}
    total = sum(by_kind.values())
    system = by_kind.get("system", 0)
    member = int(figures["ugc"].sum()) if figures.height else 0
    spoken = figures.filter(pl.col("messages") > 0).sort("group_id")
    return {
        "total": total,
        "member": member,
        "operator": total - system - member,
        "system": system,
        "by_kind": by_kind,
        "by_group": {str(g): n for g, n in spoken.select("group_id", "messages").iter_rows()},
        "daily": daily_counts(days),
    }
