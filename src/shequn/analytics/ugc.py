"""Member content against operator content (UGC vs PGC, playbook §7.2).

Speech by staff (operators and bots) is operator content; speech by everyone else
(including messages without a known sender) is member content. A healthy community
moves from PGC early to UGC later (playbook §2.3).
"""

from __future__ import annotations

from typing import Any

import polars as pl

__all__ = ["ugc_summary"]


def _share(member: int, operator: int) -> float | None:
    total = member + operator
    return round(member / total, 4) if total else None


def ugc_summary(figures: pl.DataFrame) -> dict[str, Any]:
    """``member_messages, operator_messages, ugc_share, by_group {group_id: ugc_share}``
    from the groups' figures (:func:`.health.group_figures`: speech ``messages`` and
    ``ugc`` per group; groups without speech are left out)."""
    per = (
        figures.filter(pl.col("messages") > 0)
        .select(
            "group_id",
            pl.col("ugc").alias("member"),
            (pl.col("messages") - pl.col("ugc")).alias("operator"),
        )
        .sort("group_id")
    )
    member = int(per["member"].sum()) if per.height else 0
    operator = int(per["operator"].sum()) if per.height else 0
    return {
        "member_messages": member,
        "operator_messages": operator,
        "ugc_share": _share(member, operator),
        "by_group": {str(g): _share(m, o) for g, m, o in per.iter_rows()},
    }
