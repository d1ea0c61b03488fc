"""Likely buyers (识别潜在购买用户, playbook §5.1): members whose messages show purchase intent.

Signals come from ``lexicons/purchase_intent.txt`` (``signal<TAB>pattern``), each
signal's patterns OR-ed into one case-insensitive regular expression and matched
over all member messages of the last ``buyer_window_days`` at once with Polars.
A message scores the sum of its signals' weights (``buyer_signal_weights``),
doubled (``buyer_question_weight``) when it is a question: asking the price is
asking to buy, mentioning a price may be anything. A member's score is the sum
over their messages; staff and bots are never leads.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import polars as pl

from shequn.analytics.frame import DAY, Frames, iso
from shequn.analytics.query_texts import pattern
from shequn.analytics.settings import AnalyticsSettings

__all__ = [
    "QUESTION",
    "any_signal",
    "intent_signals",
    "lexicon",
    "likely_buyers",
    "scored_messages",
    "since",
]

#: A question in Chinese (question marks, 吗/呢/么, 多少/几) or English (wh-words,
#: "can I", "do you", "is there", "any"), in the portable regex subset
#: (:func:`shequn.analytics.query_texts.pattern`: ``\b`` an ASCII word boundary).
QUESTION = (
    r"[?？]|吗|呢|么|多少|几"
    r"|(?i:\b(?:how|what|where|when|which|can i|could i|do you|does it|is there|are there|any)\b)"
)
_EVIDENCE_CHARS = 280


@cache
def lexicon() -> dict[str, str]:
    """``{signal: regex}`` from the packaged lexicon, patterns of one signal OR-ed, in
    the portable subset: run them through :func:`shequn.analytics.query_texts.pattern`."""
    text = (
        resources.files("shequn.analytics")
        .joinpath("lexicons/purchase_intent.txt")
        .read_text("utf-8")
    )
    parts: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        signal, pattern = line.split("\t", 1)
        parts.setdefault(signal.strip(), []).append(pattern.strip())
    # \b is an ASCII word boundary (query_texts.pattern): a Unicode \b stops Rust's
    # fast DFA on Chinese text (a hundred times slower), and CJK characters are no
    # word characters in ASCII mode, so "买price" still has a boundary before "price".
    return {sig: "(?i)(?:" + "|".join(pats) + ")" for sig, pats in parts.items()}


def any_signal() -> str:
    """One portable regex matching whatever any signal of :func:`lexicon` matches."""
    return "(?i)(?:" + "|".join(p.removeprefix("(?i)") for p in lexicon().values()) + ")"


def intent_signals(messages: pl.DataFrame, s: AnalyticsSettings) -> pl.DataFrame:
    """Messages with at least one signal: adds a boolean column per signal, ``question``
    and ``score`` (weighted signals, times the question weight)."""
    lex = {sig: pattern(p, "polars") for sig, p in lexicon().items()}
    weights = s.signal_weights()
    # One pass with every pattern keeps the few messages that hit anything; only
    # those are matched signal by signal.
    hits = messages.filter(pl.col("text").str.contains(pattern(any_signal(), "polars")))
    hits = hits.with_columns(pl.col("text").str.contains(p).alias(sig) for sig, p in lex.items())
    base = pl.sum_horizontal(pl.col(sig).cast(pl.Float64) * weights.get(sig, 1.0) for sig in lex)
    question = pl.col("text").str.contains(pattern(QUESTION, "polars"))
    return hits.with_columns(question.alias("question")).with_columns(
        (base * pl.when("question").then(s.buyer_question_weight).otherwise(1.0)).alias("score")
    )


def since(f: Frames, s: AnalyticsSettings) -> float:
    """The start of the buyers' window (exclusive): ``buyer_window_days`` before ``now``."""
    return f.now - s.buyer_window_days * DAY


def scored_messages(f: Frames, s: AnalyticsSettings) -> pl.DataFrame:
    """:func:`intent_signals` of the member messages of the buyers' window, in archive
    order (``seq``, ``member_id``, ``group_id``, ``ts``, ``text``, the signals...)."""
    msgs = (
        f.with_text()
        .filter(pl.col("ugc") & pl.col("member_id").is_not_null() & (pl.col("ts") > since(f, s)))
        .select("seq", "member_id", "group_id", "ts", "text")
        .collect()
    )
    return intent_signals(msgs, s)


def likely_buyers(
    f: Frames,
    s: AnalyticsSettings,
    *,
    top: int,
    lang: str = "en",
    scored: pl.DataFrame | None = None,
) -> list[dict[str, Any]]:
    """Top ``top`` likely buyers: ``member_id, name, score, signals {signal: n}, evidence``.

    ``evidence`` lists up to ``buyer_evidence`` messages, strongest first (then newest),
    each ``{ts, group_id, text, signals, question}``.

    ``scored`` are the :func:`intent_signals` rows of the window's member messages,
    in archive order, when an engine matched them already
    (:func:`shequn.analytics.query_texts.intent_rows`); by default they are matched
    here, in Polars.
    """
    lex = list(lexicon())
    if scored is None:
        scored = scored_messages(f, s)
    if scored.height == 0:
        return []
    per = (
        scored.group_by("member_id")
        .agg(
            pl.col("score").sum().alias("score"),
            pl.col("ts").max().alias("last_ts"),
            pl.col("question").sum().alias("questions"),
            *(pl.col(sig).sum().alias(sig) for sig in lex),
        )
        .filter(pl.col("score") >= s.buyer_min_score)
        .sort(["score", "last_ts", "member_id"], descending=[True, True, False])
        .head(top)
        .join(
            f.members.select("member_id", "name"), on="member_id", how="left", maintain_order="left"
        )
    )
    evidence = (
        scored.join(per.select("member_id"), on="member_id", how="semi")
        .sort(["member_id", "score", "ts"], descending=[False, True, True], maintain_order=True)
        .group_by("member_id", maintain_order=True)
        .head(s.buyer_evidence)
    )
    ev_by: dict[int, list[dict[str, Any]]] = {}
    for r in evidence.iter_rows(named=True):
        ev_by.setdefault(r["member_id"], []).append(
            {
                "ts": iso(r["ts"]),
                "group_id": r["group_id"],
                "text": r["text"][:_EVIDENCE_CHARS],
                "signals": [sig for sig in lex if r[sig]],
                "question": r["question"],
                "score": r["score"],
            }
        )
    out: list[dict[str, Any]] = []
    for r in per.iter_rows(named=True):
        out.append(
            {
                "member_id": r["member_id"],
                "name": r["name"],
                "score": round(r["score"], 2),
                "signals": {sig: r[sig] for sig in lex if r[sig]},
                "questions": r["questions"],
                "last_ts": iso(r["last_ts"]),
                "evidence": ev_by.get(r["member_id"], []),
            }
        )
    return out
