"""Member layers (用户分层, playbook §4): six layers from behaviour, with reasons.

Rules are checked in rank order on each known ``(group, member)`` pair over the
group's last ``layer_window_days`` active days (days with messages, see the
setting's rationale); the first that holds is the layer. Rank rules compare
a member with the group's *speakers* (non-bot members with a message in the
window): "top p" means a rank (1 = best, ties share the best rank) of at most
p × speakers, or rank 1: a group's best always qualifies for the rank part.

1. opinion leader (意见领袖): top ``leader_top_share`` by reach, reach ≥
   ``leader_min_reach``, active on ≥ ``leader_min_days`` days (Orbit level 1).
2. co-opinion leader (联合意见领袖): the same with the ``co_leader_*`` values.
3. spreader (传播者): ≥ ``spreader_min_invites`` invitees who stayed, or ≥
   ``spreader_min_forwards`` forwarded messages.
4. active (活跃者): top ``active_top_share`` by messages with ≥
   ``active_min_messages`` messages on ≥ ``active_min_days`` days, or speaking on ≥
   ``active_habit_days`` days (a habit, after Discourse TL3).
5. participant (参与者): ≥ ``participant_min_messages`` messages.
6. bystander (旁观者): everyone else, and bots.

A member's layer is their best over all groups (fewest rank, then most messages).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from shequn.analytics.layer_texts import ACTIONS, LAYERS, layer_definitions
from shequn.analytics.settings import AnalyticsSettings
from shequn.analytics.texts import tr, tr_expr

__all__ = ["LAYERS", "assign_layers", "layer_definitions", "layer_summary", "member_layers"]


def _top(rank: str, share: float) -> pl.Expr:
    """Within the top ``share`` of the group's speakers, or the group's best.

    Compared in whole percent so that 0.29 × 100 speakers is 29, not 28.999...
    """
    percent = round(share * 100, 6)
    return (pl.col(rank) * 100 <= percent * pl.col("speakers")) | (pl.col(rank) == 1)


def assign_layers(
    window_stats: pl.DataFrame, members: pl.DataFrame, s: AnalyticsSettings
) -> pl.DataFrame:
    """The layer of every known pair in ``window_stats`` (per group, see :mod:`.stats`).

    Adds ``speakers`` (group speakers), ``reach_rank`` / ``msg_rank`` (1 = best,
    null for non-speakers), ``leader`` ... ``participant`` rule flags, and ``layer``.
    """
    bots = members.select("member_id", "is_bot")
    st = window_stats.join(bots, on="member_id", how="left").with_columns(
        pl.col("is_bot").fill_null(False)
    )
    ranks = st.filter((pl.col("messages") > 0) & ~pl.col("is_bot")).select(
        "group_id",
        "member_id",
        pl.len().over("group_id").alias("speakers"),
        pl.col("reach").rank("min", descending=True).over("group_id").alias("reach_rank"),
        pl.col("messages").rank("min", descending=True).over("group_id").alias("msg_rank"),
    )
    st = st.join(ranks, on=["group_id", "member_id"], how="left")
    speaking = pl.col("speakers").is_not_null() & ~pl.col("is_bot")
    leader = (
        speaking
        & _top("reach_rank", s.leader_top_share)
        & (pl.col("reach") >= s.leader_min_reach)
        & (pl.col("active_days") >= s.leader_min_days)
    )
    co_leader = (
        speaking
        & _top("reach_rank", s.co_leader_top_share)
        & (pl.col("reach") >= s.co_leader_min_reach)
        & (pl.col("active_days") >= s.co_leader_min_days)
    )
    spreader = ~pl.col("is_bot") & (
        (pl.col("invites_stayed") >= s.spreader_min_invites)
        | (pl.col("forwards") >= s.spreader_min_forwards)
    )
    active_top = (
        speaking
        & _top("msg_rank", s.active_top_share)
        & (pl.col("messages") >= s.active_min_messages)
        & (pl.col("active_days") >= s.active_min_days)
    )
    habit = speaking & (pl.col("active_days") >= s.active_habit_days)
    participant = speaking & (pl.col("messages") >= s.participant_min_messages)
    st = st.with_columns(
        leader.fill_null(False).alias("leader"),
        co_leader.fill_null(False).alias("co_leader"),
        spreader.fill_null(False).alias("spreader"),
        active_top.fill_null(False).alias("active_top"),
        habit.fill_null(False).alias("habit"),
        participant.fill_null(False).alias("participant"),
    )
    layer = (
        pl.when("leader")
        .then(0)
        .when("co_leader")
        .then(1)
        .when("spreader")
        .then(2)
        .when(pl.col("active_top") | pl.col("habit"))
        .then(3)
        .when("participant")
        .then(4)
        .otherwise(5)
    )
    return st.with_columns(layer.cast(pl.Int8).alias("layer"))


def _pct(rank: str) -> pl.Expr:
    """The "top x%" shown for a rank: 100 × rank / speakers, rounded up, at least 1."""
    return (100 * pl.col(rank) / pl.col("speakers")).ceil().clip(lower_bound=1).cast(pl.Int64)


def _reason_exprs(s: AnalyticsSettings, lang: str) -> dict[int, list[pl.Expr]]:
    """Per layer index, the reason strings naming the numbers of the rule that fired
    (null entries are dropped)."""
    d = s.layer_window_days
    c = pl.col

    def when(cond: pl.Expr, key: str, **params: object) -> pl.Expr:
        return pl.when(cond).then(tr_expr(key, lang, **params))

    lead = [
        tr_expr(
            "reach",
            lang,
            n=c("reach"),
            days=d,
            rank=c("reach_rank"),
            total=c("speakers"),
            pct=_pct("reach_rank"),
        ),
        tr_expr("days", lang, n=c("active_days")),
        tr_expr("replies", lang, n=c("replies_received")),
        when(c("reactions_received") > 0, "reactions", n=c("reactions_received")),
    ]
    return {
        0: lead,
        1: lead,
        2: [
            when(
                c("invites_stayed") >= s.spreader_min_invites,
                "invites",
                n=c("invites_stayed"),
                total=c("invites"),
            ),
            when(c("forwards") >= s.spreader_min_forwards, "forwards", n=c("forwards")),
            tr_expr("messages", lang, n=c("messages"), days=d),
        ],
        3: [
            when(
                c("active_top"),
                "messages_top",
                n=c("messages"),
                days=d,
                rank=c("msg_rank"),
                total=c("speakers"),
                pct=_pct("msg_rank"),
            ),
            when(c("active_top"), "days", n=c("active_days")),
            when(c("habit"), "habit", n=c("active_days"), days=d),
        ],
        4: [
            tr_expr("messages", lang, n=c("messages"), days=d),
            tr_expr("days", lang, n=c("active_days")),
        ],
        5: [
            pl.when(c("messages") == 0)
            .then(tr_expr("silent", lang, days=d))
            .otherwise(
                tr_expr("few", lang, n=c("messages"), days=d, min=s.participant_min_messages)
            )
        ],
    }


def member_layers(
    pairs: pl.DataFrame,
    members: pl.DataFrame,
    groups: pl.DataFrame,
    s: AnalyticsSettings,
    lang: str,
) -> pl.DataFrame:
    """Each archive member's best layer over their groups: ``member_id, layer, layer_group_id,
    layer_reasons`` (members never seen in a group are bystanders).

    A member in several groups gets a first reason naming the group the layer is from.
    """
    best = pairs.sort(
        ["member_id", "layer", "messages", "group_id"], descending=[False, False, True, False]
    ).unique("member_id", keep="first", maintain_order=True)
    n_groups = pairs.group_by("member_id").agg(pl.len().alias("n_groups"))
    best = best.join(n_groups, on="member_id").join(
        groups.select("group_id", pl.col("name").alias("group_name")), on="group_id", how="left"
    )
    where = pl.when(pl.col("n_groups") > 1).then(
        tr_expr("in_group", lang, name=pl.col("group_name"))
    )
    # Each layer's rows get only their own reasons: evaluating every sentence for
    # every row and dropping most would cost ten times more.
    parts = [(best.filter(pl.col("is_bot")), [pl.lit(tr("bot", lang))])]
    people = best.filter(~pl.col("is_bot"))
    for index, exprs in _reason_exprs(s, lang).items():
        parts.append((people.filter(pl.col("layer") == index), exprs))
    seen = pl.concat(
        [
            part.select(
                "member_id",
                pl.col("layer").replace_strict(
                    list(range(len(LAYERS))), list(LAYERS), return_dtype=pl.String
                ),
                pl.col("group_id").alias("layer_group_id"),
                pl.concat_list(where, *exprs).list.drop_nulls().alias("layer_reasons"),
            )
            for part, exprs in parts
        ]
    )
    unseen = members.join(seen, on="member_id", how="anti").select(
        "member_id",
        pl.lit("bystander").alias("layer"),
        pl.lit(None, pl.Int32).alias("layer_group_id"),
        pl.when(pl.col("is_bot"))
        .then(pl.concat_list(pl.lit(tr("bot", lang))))
        .otherwise(pl.concat_list(pl.lit(tr("unseen", lang))))
        .alias("layer_reasons"),
    )
    return pl.concat([seen, unseen])


def layer_summary(
    pairs: pl.DataFrame, per_member: pl.DataFrame, s: AnalyticsSettings
) -> dict[str, Any]:
    """The report's ``layers`` object: definitions, counts, by_group, actions."""
    counts = {k: 0 for k in LAYERS}
    for key, n in per_member.group_by("layer").len().iter_rows():
        counts[key] = n
    by_group: dict[str, dict[str, int]] = {}
    for gid, layer, n in pairs.group_by("group_id", "layer").len().sort("group_id").iter_rows():
        by_group.setdefault(str(gid), {k: 0 for k in LAYERS})[LAYERS[layer]] = n
    return {
        "definitions": layer_definitions(s),
        "counts": counts,
        "by_group": by_group,
        "actions": {k: {"zh": ACTIONS[k][0], "en": ACTIONS[k][1]} for k in LAYERS},
    }
