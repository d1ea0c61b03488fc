"""How concentrated the talk is (二八法则, playbook §4.3).

Computed over member messages (speech by members who are not staff or bots) of
members who spoke at least once; silent members are counted by the layers and
lurker lists, not here (a Gini over thousands of zeros says only "big group").

* ``top20_share``: share of messages written by the top 20% of speakers (rounded
  up, at least one speaker).
* ``speakers_for_80pct``: fewest top speakers who wrote 80% of the messages.
* ``gini``: the Gini coefficient of messages per speaker (0 = all equal).
* ``absence_factor``: fewest top speakers whose absence removes half the messages
  — the group's "bus factor": 1 means one person carries half the talk.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl

from shequn.analytics.frame import Frames

__all__ = ["concentration", "concentration_of", "ugc_counts"]


def concentration_of(counts: np.ndarray[Any, Any] | list[int]) -> dict[str, Any]:
    """The four measures for one list of per-speaker message counts."""
    x = np.sort(np.asarray(counts, dtype=np.float64))[::-1]
    x = x[x > 0]
    n = len(x)
    total = float(x.sum())
    if n == 0:
        return {
            "speakers": 0,
            "top20_share": None,
            "speakers_for_80pct": 0,
            "gini": None,
            "absence_factor": 0,
        }
    cum = np.cumsum(x)
    top = max(1, math.ceil(0.2 * n))
    # cumulative sums are exact in float64 for message counts, so >= is safe
    for_80 = int(np.searchsorted(cum, 0.8 * total, side="left")) + 1
    half = int(np.searchsorted(cum, 0.5 * total, side="left")) + 1
    asc = x[::-1]
    i = np.arange(1, n + 1)
    gini = float(((2 * i - n - 1) * asc).sum() / (n * total))
    return {
        "speakers": n,
        "top20_share": round(float(cum[top - 1]) / total, 4),
        "speakers_for_80pct": for_80,
        "gini": round(gini, 4),
        "absence_factor": half,
    }


def ugc_counts(f: Frames) -> pl.DataFrame:
    """``group_id, member_id, messages``: member content per known sender and group
    (on an engine: :func:`.query_counts.ugc_counts`)."""
    ugc = f.messages.filter(pl.col("ugc") & pl.col("member_id").is_not_null())
    return (
        ugc.group_by("group_id", "member_id")
        .agg(pl.len().alias("messages"))
        .sort("group_id", "member_id")
    )


def concentration(counts: pl.DataFrame) -> dict[str, Any]:
    """The report's ``concentration`` object from :func:`ugc_counts`: archive-wide
    measures (a member's messages summed over their groups) and ``by_group``."""
    overall = concentration_of(
        counts.group_by("member_id").agg(pl.col("messages").sum())["messages"].to_numpy()
    )
    per = counts.group_by("group_id").agg(pl.col("messages")).sort("group_id")
    by_group: dict[str, dict[str, Any]] = {}
    for gid, messages in per.iter_rows():
        c = concentration_of(messages)
        by_group[str(gid)] = {
            "top20_share": c["top20_share"],
            "gini": c["gini"],
            "absence_factor": c["absence_factor"],
            "speakers": c["speakers"],
            "speakers_for_80pct": c["speakers_for_80pct"],
        }
    return {**overall, "by_group": by_group}
