"""Group health and lifecycle (playbook §0, §7): weekly trends, stage, risk, score.

Weeks are rolling 7-day windows ending at ``now`` (week 0 = the last 7 days), not
calendar weeks, so the newest week is never a partial one that looks like a drop.
Stages, checked in this order (the first that holds):

* **new**: the group's first event is less than ``new_group_days`` old.
* **dead**: fewer than ``dead_max_messages`` member messages in 30 days (热寂).
* **flooded**: ad-like messages (:mod:`.ads`) are ≥ ``flooded_ad_share`` of the last
  30 days' messages, of which there are ≥ ``trend_min_messages`` (广告泛滥).
* **declining**: the last 4 weeks carried ≤ ``decline_ratio`` of the messages, or of
  the active members, of the 4 weeks before (when those had ≥
  ``trend_min_messages`` messages).
* **growing**: ≥ ``growth_ratio`` times the messages of the 4 weeks before, or
  newcomers in 30 days ≥ ``growth_newcomer_share`` of known members (bots left
  out).
* **active**: otherwise.

``at_risk``: declining, flooded or dead, or a fast drop (the last week ≤
``drop_fast_ratio`` of the previous four weeks' mean). ``score`` (0..100) =
40 × participation (30-day active members against a quarter of the known people,
capped at 1) + 30 × trend (last 4 weeks / previous 4, capped at 1; 1 when there is
nothing to compare) + 20 × cleanliness (1 − ad share / flooded threshold) + 10 ×
UGC share of the last 30 days.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from shequn.analytics.frame import DAY, Frames
from shequn.analytics.settings import AnalyticsSettings
from shequn.analytics.texts import tr

__all__ = ["FIGURES", "group_figures", "group_health"]

WEEK = 7 * DAY
#: The count columns of :func:`group_figures` after ``group_id`` (0 when nothing).
FIGURES = (
    "messages", "ads", "ugc", "messages_30d", "ugc_30d", "ads_30d", "active_30d",
    "last4", "last4_active", "prev4", "prev4_active",
)  # fmt: skip
_RECENT = FIGURES[3:]


def _needed(ad: pl.Series | None) -> pl.Series:
    if ad is None:
        raise ValueError("the ad flags are needed where an engine's figures are not given")
    return ad


def group_figures(f: Frames, ad: pl.Series) -> pl.DataFrame:
    """Per group with any event: speech ``messages`` (``ads``, ``ugc``), the same in the
    last 30 days with ``active_30d`` (distinct non-bot speakers), ``last4`` /
    ``prev4`` (messages in the last 4 weeks and the 4 before, with their active
    members), and ``first_ts`` / ``last_ts`` (any message or membership event)."""
    now = f.now
    speech = f.messages.with_columns(ad).filter(pl.col("speech"))
    recent = pl.col("ts") > now - 30 * DAY
    four = ((now - pl.col("ts")) / (4 * WEEK)).floor()

    def active(when: pl.Expr) -> pl.Expr:
        return pl.col("member_id").filter(when & ~pl.col("is_bot")).drop_nulls().n_unique()

    counts = speech.group_by("group_id").agg(
        pl.len().alias("messages"),
        pl.col("ad").sum().alias("ads"),
        pl.col("ugc").sum().alias("ugc"),
        recent.sum().alias("messages_30d"),
        (recent & pl.col("ugc")).sum().alias("ugc_30d"),
        (recent & pl.col("ad")).sum().alias("ads_30d"),
        active(recent).alias("active_30d"),
        (four == 0).sum().alias("last4"),
        active(four == 0).alias("last4_active"),
        (four == 1).sum().alias("prev4"),
        active(four == 1).alias("prev4_active"),
    )
    span = (
        pl.concat([f.messages.select("group_id", "ts"), f.memberships.select("group_id", "ts")])
        .group_by("group_id")
        .agg(pl.col("ts").min().alias("first_ts"), pl.col("ts").max().alias("last_ts"))
    )
    return span.join(counts, on="group_id", how="left").with_columns(
        pl.col(c).fill_null(0).cast(pl.Int64) for c in FIGURES
    )


def _weekly(
    m: pl.DataFrame, joins: pl.DataFrame, now: float, weeks: int
) -> dict[int, dict[str, list[Any]]]:
    bucket = ((now - pl.col("ts")) / WEEK).floor().cast(pl.Int32).alias("bucket")
    speech = m.filter(pl.col("speech")).with_columns(bucket).filter(pl.col("bucket") < weeks)
    agg = speech.group_by("group_id", "bucket").agg(
        pl.len().alias("messages"),
        pl.col("member_id")
        .filter(~pl.col("is_bot"))
        .drop_nulls()
        .n_unique()
        .alias("active_members"),
        pl.col("ad").sum().alias("ads"),
    )
    new = (
        joins.with_columns(
            ((now - pl.col("join_ts")) / WEEK).floor().cast(pl.Int32).alias("bucket")
        )
        .filter(pl.col("bucket") < weeks)
        .group_by("group_id", "bucket")
        .agg(pl.len().alias("newcomers"))
    )
    out: dict[int, dict[str, list[Any]]] = {}
    for name, frame in (("weekly", agg), ("new", new)):
        for r in frame.iter_rows(named=True):
            g = out.setdefault(
                r["group_id"],
                {
                    "active_members": [0] * weeks,
                    "messages": [0] * weeks,
                    "newcomers": [0] * weeks,
                    "ad_share": [0.0] * weeks,
                },
            )
            i = weeks - 1 - r["bucket"]  # oldest first
            if name == "weekly":
                g["messages"][i] = r["messages"]
                g["active_members"][i] = r["active_members"]
                g["ad_share"][i] = round(r["ads"] / r["messages"], 4) if r["messages"] else 0.0
            else:
                g["newcomers"][i] = r["newcomers"]
    return out


def group_health(
    f: Frames,
    ad: pl.Series | None,
    joins: pl.DataFrame,
    known: pl.DataFrame,
    s: AnalyticsSettings,
    *,
    lang: str = "en",
    weekly: dict[int, dict[str, list[Any]]] | None = None,
    figures: pl.DataFrame | None = None,
) -> list[dict[str, Any]]:
    """The report's ``health`` list (at-risk first, then lowest score), one per group.

    ``ad`` is :func:`~shequn.analytics.ads.ad_flags` (read only to compute ``weekly``
    or ``figures`` when they are not given: None then), ``joins`` the retention
    :func:`~shequn.analytics.retention.join_times`, ``known`` the known pairs;
    ``weekly`` the trend series when an engine computed them already
    (:func:`shequn.analytics.query_more.weekly_series`), ``figures`` the
    :func:`group_figures` (or :func:`shequn.analytics.query_more.group_activity`).
    """
    now = f.now
    weeks = max(s.health_weeks, 8)
    if figures is None:
        figures = group_figures(f, _needed(ad))
    per = f.groups.select("group_id", "name")
    parts = [
        figures.select("group_id", *_RECENT, "first_ts"),
        joins.filter(pl.col("join_ts") > now - 30 * DAY)
        .group_by("group_id")
        .agg(pl.len().alias("new_30d")),
        known.join(f.members.select("member_id", "is_bot"), on="member_id", how="left")
        .group_by("group_id")
        .agg(pl.len().alias("members"), (~pl.col("is_bot")).sum().alias("people")),
    ]
    for part in parts:
        per = per.join(part, on="group_id", how="left")
    per = per.with_columns(pl.exclude("group_id", "name", "first_ts").fill_null(0))
    if weekly is None:
        weekly = _weekly(f.messages.with_columns(_needed(ad)), joins, now, weeks)
    out: list[dict[str, Any]] = []
    for r in per.iter_rows(named=True):
        gid = r["group_id"]
        trend = weekly.get(gid) or {
            "active_members": [0] * weeks,
            "messages": [0] * weeks,
            "newcomers": [0] * weeks,
            "ad_share": [0.0] * weeks,
        }
        stage, reasons, at_risk, score = _judge(r, trend["messages"], now, s, lang)
        keep = s.health_weeks
        out.append(
            {
                "group_id": gid,
                "name": r["name"],
                "stage": stage,
                "at_risk": at_risk,
                "score": score,
                "reasons": reasons,
                "trend": {k: v[-keep:] for k, v in trend.items()},
                "members": r["members"],
                "messages_30d": r["messages_30d"],
                "member_messages_30d": r["ugc_30d"],
                "active_members_30d": r["active_30d"],
                "newcomers_30d": r["new_30d"],
                "ad_share_30d": round(r["ads_30d"] / r["messages_30d"], 4)
                if r["messages_30d"]
                else 0.0,
            }
        )
    out.sort(key=lambda h: (not h["at_risk"], h["score"], h["group_id"]))
    return out


def _judge(
    r: dict[str, Any], messages: list[int], now: float, s: AnalyticsSettings, lang: str
) -> tuple[str, list[str], bool, int]:
    pct = lambda x: round(100 * x)  # noqa: E731
    ad_share = r["ads_30d"] / r["messages_30d"] if r["messages_30d"] else 0.0
    comparable = r["prev4"] >= s.trend_min_messages
    ratio = r["last4"] / r["prev4"] if r["prev4"] else None
    active_ratio = r["last4_active"] / r["prev4_active"] if r["prev4_active"] else None
    members = max(r["people"], 1)  # bots neither join in nor count as the audience
    reasons: list[str] = []
    first = r["first_ts"]
    if first is not None and now - first < s.new_group_days * DAY:
        stage = "new"
        reasons.append(tr("stage_new", lang, days=s.new_group_days))
    elif r["ugc_30d"] < s.dead_max_messages:
        stage = "dead"
        reasons.append(tr("stage_dead", lang, n=r["ugc_30d"], min=s.dead_max_messages))
    elif ad_share >= s.flooded_ad_share and r["messages_30d"] >= s.trend_min_messages:
        stage = "flooded"
        reasons.append(tr("stage_flooded", lang, share=pct(ad_share), min=pct(s.flooded_ad_share)))
    elif comparable and ratio is not None and ratio <= s.decline_ratio:
        stage = "declining"
        what = tr("what_messages", lang)
        reasons.append(tr("stage_declining", lang, what=what, ratio=pct(ratio)))
    elif comparable and active_ratio is not None and active_ratio <= s.decline_ratio:
        stage = "declining"
        what = tr("what_active", lang)
        reasons.append(tr("stage_declining", lang, what=what, ratio=pct(active_ratio)))
    elif comparable and ratio is not None and ratio >= s.growth_ratio:
        stage = "growing"
        reasons.append(tr("stage_growing_msgs", lang, ratio=pct(ratio)))
    elif r["new_30d"] >= s.growth_newcomer_share * members and r["new_30d"] > 0:
        stage = "growing"
        share = pct(r["new_30d"] / members)
        reasons.append(tr("stage_growing_new", lang, n=r["new_30d"], share=share))
    else:
        stage = "active"
        reasons.append(tr("stage_active", lang, n=r["active_30d"], m=r["messages_30d"]))
    last, before = messages[-1], messages[-5:-1]
    drop_fast = False
    if sum(before) >= s.trend_min_messages:
        mean = sum(before) / len(before)
        if last <= s.drop_fast_ratio * mean:
            drop_fast = True
            reasons.append(tr("drop_fast", lang, n=last, ratio=pct(last / mean)))
    at_risk = stage in ("declining", "flooded", "dead") or drop_fast
    participation = min(1.0, r["active_30d"] / (0.25 * members))
    trend = 1.0 if not comparable or ratio is None else min(1.0, ratio)
    clean = 1.0 - min(1.0, ad_share / s.flooded_ad_share) if s.flooded_ad_share else 1.0
    ugc = r["ugc_30d"] / r["messages_30d"] if r["messages_30d"] else 0.0
    score = round(100 * (0.4 * participation + 0.3 * trend + 0.2 * clean + 0.1 * ugc))
    return stage, reasons, at_risk, score
