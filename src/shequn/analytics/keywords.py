"""What each group talks about: top words of recent member messages.

Chinese is cut with jieba (dictionary mode, no HMM new-word discovery: a third
faster and the dictionary words are the ones operators plan topics with); Latin
script with a simple word pattern. Both drop the stopwords in ``lexicons/``, URLs,
@handles, numbers and one-character words.

To stay fast on large archives only a sample is read: the most recent
``keyword_sample_per_group`` member text messages of each group, and at most
``keyword_sample_total`` in all (each group gets an even share, at least 100).
A word's weight is the share of sampled messages of the group that contain it.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from importlib import resources
from typing import Any

import polars as pl

from shequn.analytics.frame import Frames
from shequn.analytics.settings import AnalyticsSettings

__all__ = ["keyword_sample", "keywords", "stopwords", "tokens"]

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[a-z][a-z0-9'+#_-]*[a-z0-9+#]")
_NOISE = re.compile(r"https?://\S+|www\.\S+|@\S+|\d+(?:[.,:]\d+)*")


@cache
def stopwords() -> frozenset[str]:
    """Chinese and English stopwords from the packaged lists."""
    words: set[str] = set()
    for name in ("stopwords_zh.txt", "stopwords_en.txt"):
        text = resources.files("shequn.analytics").joinpath(f"lexicons/{name}").read_text("utf-8")
        words.update(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#"))
    return frozenset(words)


@cache
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)  # it announces its dictionary on stderr otherwise
    jieba.initialize()
    return jieba


def tokens(text: str) -> set[str]:
    """The distinct keywords of one message (lower-cased Latin words, jieba words)."""
    stop = stopwords()
    text = _NOISE.sub(" ", text.lower())
    out = {w for w in _LATIN.findall(text) if w not in stop}
    if _CJK.search(text):
        for w in _jieba().lcut(text, HMM=False):
            if len(w) >= 2 and _CJK.search(w) and w not in stop:
                out.add(w)
    return out


def keyword_sample(f: Frames, s: AnalyticsSettings) -> pl.DataFrame:
    """``group_id, text`` of the most recent member text messages, capped per group
    (messages at the same second in archive order), in archive order.

    The engines' version is :func:`shequn.analytics.query_texts.keyword_sample`."""
    texts = (
        f.with_text()
        .filter(
            pl.col("ugc")
            & pl.col("kind").is_in(["text", "link"])
            & (pl.col("text").str.len_chars() >= 2)
        )
        .select("seq", "group_id", "ts", "text")
        .collect()
    )
    n_groups = texts["group_id"].n_unique() if texts.height else 0
    if n_groups == 0:
        return texts.select("group_id", "text")
    per_group = min(s.keyword_sample_per_group, max(100, s.keyword_sample_total // n_groups))
    return (
        texts.sort(["group_id", "ts", "seq"], descending=[False, True, False])
        .group_by("group_id", maintain_order=True)
        .head(per_group)
        .sort("seq")
        .select("group_id", "text")
    )


def keywords(sample: pl.DataFrame, s: AnalyticsSettings) -> dict[str, list[list[Any]]]:
    """``{group_id: [[word, weight], ...]}``: the top ``keyword_top`` words per group,
    weight = share of the group's sampled messages containing the word."""
    counts: dict[int, dict[str, int]] = {}
    sizes: dict[int, int] = {}
    for gid, text in sample.iter_rows():
        sizes[gid] = sizes.get(gid, 0) + 1
        bag = counts.setdefault(gid, {})
        for w in tokens(text):
            bag[w] = bag.get(w, 0) + 1
    out: dict[str, list[list[Any]]] = {}
    for gid in sorted(counts):
        ranked = sorted(
            ((w, n) for w, n in counts[gid].items() if n >= s.keyword_min_count),
            key=lambda wn: (-wn[1], wn[0]),
        )[: s.keyword_top]
        out[str(gid)] = [[w, round(n / sizes[gid], 4)] for w, n in ranked]
    return out
