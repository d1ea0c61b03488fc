"""Per-member behaviour counts, per group or over the whole archive.

The building block of layers, KOLs and the member list. "Known" members of a group
are those seen acting in it: a membership event, any message, or a reaction by a
known account. Bots' replies and mentions are not counted as reach (a welcome bot
would otherwise make every newcomer "reached").
"""

from __future__ import annotations

import polars as pl

from shequn.analytics.frame import DAY, Frames

__all__ = [
    "COUNTS",
    "active_day_window",
    "in_window",
    "known_pairs",
    "member_stats",
    "membership_spans",
]

#: Count columns of :func:`member_stats` (0 when nothing happened).
COUNTS = (
    "messages",
    "active_days",
    "forwards",
    "replies_received",
    "distinct_repliers",
    "mentions_received",
    "distinct_mentioners",
    "reach",
    "reactions_received",
    "invites",
    "invites_stayed",
)


def known_pairs(f: Frames) -> pl.DataFrame:
    """Every ``(group_id, member_id)`` seen acting in the group: ``present``, ``last_spoke``.

    ``last_spoke`` is their last message there (null: never). ``present`` is false
    when the member's last membership event is a leave or kick and they have not
    written since.
    """
    seen = pl.concat(
        [
            f.messages.filter(pl.col("member_id").is_not_null()).select("group_id", "member_id"),
            f.memberships.select("group_id", "member_id"),
            f.reactions.filter(pl.col("member_id") != 0).select("group_id", "member_id"),
        ]
    ).unique()
    last_event = (
        f.memberships.sort("ts")
        .group_by("group_id", "member_id")
        .agg(pl.col("action").last().alias("last_action"), pl.col("ts").last().alias("event_ts"))
    )
    last_msg = (
        f.messages.filter(pl.col("member_id").is_not_null() & pl.col("speech"))
        .group_by("group_id", "member_id")
        .agg(pl.col("ts").max().alias("msg_ts"))
    )
    out = seen.join(last_event, on=["group_id", "member_id"], how="left").join(
        last_msg, on=["group_id", "member_id"], how="left"
    )
    gone = pl.col("last_action").is_in(["leave", "kick"]) & (
        pl.col("msg_ts").is_null() | (pl.col("msg_ts") <= pl.col("event_ts"))
    )
    return out.select(
        "group_id",
        "member_id",
        (~gone.fill_null(False)).alias("present"),
        pl.col("msg_ts").alias("last_spoke"),
    )


def membership_spans(f: Frames, *, stay_days: int) -> pl.DataFrame:
    """Each join event with ``left_ts`` (first leave/kick at or after it) and ``stayed``.

    ``stayed``: not gone within ``stay_days`` of joining. Joins too recent to tell
    count as stayed while the invitee is still there.
    """
    joins = (
        f.memberships.filter(pl.col("action") == "join")
        .select("group_id", "member_id", "ts", "actor_id")
        .sort("ts")
    )
    leaves = (
        f.memberships.filter(pl.col("action").is_in(["leave", "kick"]))
        .select("group_id", "member_id", "ts", pl.col("ts").alias("left_ts"))
        .sort("ts")
    )
    spans = joins.join_asof(
        leaves, on="ts", by=["group_id", "member_id"], strategy="forward", check_sortedness=False
    )
    stayed = pl.col("left_ts").is_null() | (pl.col("left_ts") > pl.col("ts") + stay_days * DAY)
    return spans.with_columns(stayed.alias("stayed"))


def in_window(df: pl.DataFrame, since: float | pl.DataFrame | None) -> pl.DataFrame:
    """Rows of ``df`` (with ``ts`` and ``group_id``) inside the window ``since``.

    ``since`` is None (everything), an epoch time (rows after it), or a frame of
    ``group_id, since`` (rows at or after each group's own start; groups not in it
    keep everything).
    """
    if since is None:
        return df
    if isinstance(since, pl.DataFrame):
        return (
            df.join(since, on="group_id", how="left")
            .filter(pl.col("since").is_null() | (pl.col("ts") >= pl.col("since")))
            .drop("since")
        )
    return df.filter(pl.col("ts") > since)


def active_day_window(f: Frames, days: int) -> pl.DataFrame:
    """``group_id, since``: the first message time of each group's ``days``-th most
    recent day with messages (groups with fewer active days are left out: all counts)."""
    per_day = (
        f.messages.filter(pl.col("speech"))
        .group_by("group_id", "day")
        .agg(pl.col("ts").min().alias("since"))
    )
    ranked = per_day.with_columns(
        pl.col("day").rank("ordinal", descending=True).over("group_id").alias("n")
    )
    return ranked.filter(pl.col("n") == days).select("group_id", "since")


def member_stats(
    f: Frames,
    *,
    by_group: bool,
    since: float | pl.DataFrame | None = None,
    stay_days: int = 30,
    known: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Behaviour counts per member (and group when ``by_group``) in the window ``since``
    (see :func:`in_window`).

    One row per known ``(group_id, member_id)`` pair, or per archive member when not
    ``by_group``, with :data:`COUNTS`, ``first_ts`` / ``last_ts`` (first and last
    message, null when silent) and ``joined_ts`` (earliest join event, any time).
    Distinct counts over the whole archive are distinct across groups too.
    ``known`` passes :func:`known_pairs` when the caller has it already.
    """
    keys = ["group_id", "member_id"] if by_group else ["member_id"]
    tkeys = ["group_id", "target"] if by_group else ["target"]

    def window(df: pl.DataFrame) -> pl.DataFrame:
        return in_window(df, since)

    speech = window(f.messages).filter(pl.col("speech") & pl.col("member_id").is_not_null())
    msg = speech.group_by(keys).agg(
        pl.len().alias("messages"),
        pl.col("day").n_unique().alias("active_days"),
        pl.col("forwarded").sum().alias("forwards"),
        pl.col("ts").min().alias("first_ts"),
        pl.col("ts").max().alias("last_ts"),
    )
    replies = speech.filter(
        ~pl.col("is_bot")
        & pl.col("reply_member_id").is_not_null()
        & (pl.col("reply_member_id") != pl.col("member_id"))
    ).select(
        "group_id", pl.col("reply_member_id").alias("target"), pl.col("member_id").alias("source")
    )
    bots = f.members.filter(pl.col("is_bot")).select(pl.col("member_id").alias("source"))
    mentions = (
        window(f.mentions)
        .filter(pl.col("author_id").is_not_null() & (pl.col("author_id") != pl.col("member_id")))
        .select(
            "group_id", pl.col("member_id").alias("target"), pl.col("author_id").alias("source")
        )
        .join(bots, on="source", how="anti")
    )
    rep = replies.group_by(tkeys).agg(
        pl.len().alias("replies_received"), pl.col("source").n_unique().alias("distinct_repliers")
    )
    men = mentions.group_by(tkeys).agg(
        pl.len().alias("mentions_received"),
        pl.col("source").n_unique().alias("distinct_mentioners"),
    )
    reach = (
        pl.concat([replies, mentions])
        .group_by(tkeys)
        .agg(pl.col("source").n_unique().alias("reach"))
    )
    reactions = (
        window(f.reactions)
        .filter(pl.col("author_id").is_not_null() & (pl.col("member_id") != pl.col("author_id")))
        .group_by([*keys[:-1], "author_id"])
        .agg(pl.col("count").sum().alias("reactions_received"))
        .rename({"author_id": "member_id"})
    )
    spans = membership_spans(f, stay_days=stay_days)
    joined = spans.group_by(keys).agg(pl.col("ts").min().alias("joined_ts"))
    invited = window(spans).filter(
        pl.col("actor_id").is_not_null() & (pl.col("actor_id") != pl.col("member_id"))
    )
    invites = (
        invited.group_by([*keys[:-1], "actor_id"])
        .agg(pl.len().alias("invites"), pl.col("stayed").sum().alias("invites_stayed"))
        .rename({"actor_id": "member_id"})
    )

    if by_group:
        base = (known if known is not None else known_pairs(f)).select("group_id", "member_id")
    else:
        base = f.members.select("member_id")
    out = base
    for part in (msg, rep.rename({"target": "member_id"}), men.rename({"target": "member_id"})):
        out = out.join(part, on=keys, how="left")
    for part in (reach.rename({"target": "member_id"}), reactions, invites, joined):
        out = out.join(part, on=keys, how="left")
    return out.with_columns(pl.col(c).fill_null(0).cast(pl.Int64) for c in COUNTS)
