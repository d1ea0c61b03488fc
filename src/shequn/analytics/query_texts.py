"""The parts of the report that read message texts, as Ibis expressions.

Ad flags (:func:`ad_messages`), buyers' intent signals (:func:`intent_rows`) and the
keyword sample (:func:`keyword_sample`) run on the query layer's engine like the
other reductions, so that with ``engine="duckdb"`` or ``"spark"`` the driver reads
no message text but the few that come back: the intent hits and the keyword sample.
The Polars functions of :mod:`.ads`, :mod:`.buyers` and :mod:`.keywords` are the
reference, and ``tests/analytics/test_query_texts.py`` requires the same rows.

**One pattern, three regex engines.** Polars matches with Rust's ``regex``, DuckDB
with RE2, Spark with ``java.util.regex``. The patterns of :mod:`.ads`,
:mod:`.buyers` and ``lexicons/purchase_intent.txt`` are written in their common
subset — explicit classes for digits (``[0-9０-９]``: ASCII and full-width, the same
everywhere, where Rust's ``\\d`` would take every script's digits and RE2's and
Java's ASCII only) and for spaces (:data:`SPACE`), never ``\\d``, ``\\s`` or ``\\w`` —
and :func:`pattern` translates what is left per engine:

* ``\\b`` means an ASCII word boundary (``[0-9A-Za-z_]`` on one side only), so that
  "买price" has a boundary before "price": Rust ``(?-u:\\b)``, RE2's own ``\\b``
  (ASCII already), and in Java, whose ``\\b`` counts CJK characters as word
  characters, look-arounds over the ASCII class (case-sensitive, so that case
  folding cannot widen the class);
* ``(?i)`` folds case by Unicode's rules in Rust and RE2; Java needs ``(?iu)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from shequn.analytics.frame import REPEAT_SPACES
from shequn.analytics.settings import AnalyticsSettings

__all__ = [
    "DIGIT",
    "NON_DIGIT",
    "SPACE",
    "SPACES",
    "ad_messages",
    "intent_rows",
    "keyword_sample",
    "pattern",
]

RegexEngine = Literal["polars", "duckdb", "spark"]

#: The characters removed when texts are compared for repeats (and :data:`SPACE`).
SPACES = REPEAT_SPACES
#: A digit: ASCII or full-width (one class for every engine).
DIGIT = "[0-9\uff10-\uff19]"
#: Anything but a :data:`DIGIT`.
NON_DIGIT = "[^0-9\uff10-\uff19]"
#: A space: the :data:`SPACES` (one class for every engine).
SPACE = "[ \t\r\n\u3000\u00a0]"

_WORD = "[0-9A-Za-z_]"
_JAVA_BOUNDARY = f"(?-i:(?:(?<={_WORD})(?!{_WORD})|(?<!{_WORD})(?={_WORD})))"


def pattern(portable: str, engine: RegexEngine) -> str:
    """``portable`` (the common subset, see the module notes) for ``engine``'s regex."""
    if engine == "polars":
        return portable.replace(r"\b", r"(?-u:\b)")
    if engine == "duckdb":
        return portable
    if engine == "spark":
        return portable.replace(r"\b", _JAVA_BOUNDARY).replace("(?i", "(?iu")
    raise ValueError(f"unknown engine {engine!r}")


def _arrow_scan(t: Any, engine: RegexEngine) -> bool:
    """Whether ``t`` is read by DuckDB from Arrow buffers in memory (``ibis.memtable``,
    :func:`shequn.analytics.query.in_memory_tables`).

    DuckDB pushes a comparison of a column with a constant (``ts > x``, ``kind IN
    (...)``) into such a scan, where pyarrow filters the batches (a copy of the
    columns read, texts included) before DuckDB sees them; scanned whole, the
    buffers are read in place, which is faster (on 1M messages, all pushdown off:
    intent rows 0.34 s against 0.19 s, the keyword sample 0.48 s against 0.29 s). So on an
    Arrow scan the filters of the texts are written in forms DuckDB evaluates
    itself (:func:`_is_in`, :func:`_after`); Parquet files keep their pushdown,
    which skips row groups."""
    import ibis.expr.operations as ops

    return engine == "duckdb" and bool(t.op().find(ops.InMemoryTable))


def _is_in(column: Any, values: list[str], arrow: bool) -> Any:
    """``column IN values``; on an Arrow scan (:func:`_arrow_scan`) ``list_contains``,
    which DuckDB does not push into the scan (the same rows: NULL matches nothing)."""
    import ibis

    return ibis.array(values).contains(column) if arrow else column.isin(values)


def _after(column: Any, since: float, arrow: bool) -> Any:
    """``column > since``; on an Arrow scan (:func:`_arrow_scan`) ``column - since >
    0``, which DuckDB does not push into the scan: the same rows, since the
    difference of two doubles is exactly rounded and zero only when they are equal
    (NULL matches nothing, and NaN, which DuckDB orders above every number, matches
    in both forms)."""
    return (column - since) > 0 if arrow else column > since


def ad_messages(
    m: Any, s: AnalyticsSettings, engine: RegexEngine, *, keep: Callable[[Any], Any] | None = None
) -> Any:
    """``m`` (the messages with ``kind``, ``text``, ``text_key``, ``text_len`` and
    ``seq``) with an ``ad`` column: :func:`shequn.analytics.ads.ad_flags` on the
    engine, repeats grouped by the texts' repeat key; ``text`` is dropped.

    ``keep`` materialises the flagged messages' ``seq`` (a few; on DuckDB a temporary
    table), which two reductions read: else each plan matches the texts again."""
    from shequn.analytics.ads import CONTACT

    member = m.filter(m.speech & ~m.staff)
    # only member texts are matched; what they flag is a set of ``seq`` joined back
    # onto every message
    long = member.filter(member.text_len >= s.ad_repeat_min_chars)
    # a message without a member counts as one more member, as Polars' n_unique does
    members = long.member_id.nunique() + long.member_id.isnull().any().cast("int64")
    per = long.group_by("text_key").aggregate(n_members=members, n_groups=long.group_id.nunique())
    per = per.filter((per.n_members >= s.ad_repeat_members) | (per.n_groups >= s.ad_repeat_groups))
    # one pass over the member messages, each once (no union of two sets to
    # deduplicate); the few repeated keys are a semi-join, before the regex
    repeated = (member.text_len >= s.ad_repeat_min_chars) & member.text_key.isin(per.text_key)
    contact = member.text.re_search(pattern(CONTACT, engine))
    hits = member.filter(repeated | contact).select(hit="seq")
    if keep is not None:
        hits = keep(hits)
    j = m.left_join(hits, m.seq == hits.hit)
    ad = j.speech & ~j.staff & (j.kind.isin(list(s.ad_kinds)) | j.hit.notnull())
    return j.mutate(ad=ad).drop("hit", "text")


def intent_rows(m: Any, s: AnalyticsSettings, since: float, engine: RegexEngine) -> Any:
    """The member messages after ``since`` with a purchase-intent signal:
    ``seq, member_id, group_id, ts, text``, a boolean per signal, ``question`` and
    ``score`` — :func:`shequn.analytics.buyers.intent_signals`, on the engine."""
    from shequn.analytics.buyers import QUESTION, any_signal, lexicon

    lex = lexicon()
    weights = s.signal_weights()
    arrow = _arrow_scan(m, engine)
    recent = _after(m.ts, since, arrow)
    signal = m.text.re_search(pattern(any_signal(), engine))
    # DuckDB orders the conjuncts of a filter itself and puts the regex before the
    # arithmetic of _after: a CASE matches only the recent texts
    hits = m.filter(
        m.ugc & m.member_id.notnull() & (recent.ifelse(signal, False) if arrow else recent & signal)
    )
    flags = {sig: hits.text.re_search(pattern(p, engine)) for sig, p in lex.items()}
    rows = hits.select(
        "seq", "member_id", "group_id", "ts", "text", **flags,
        question=hits.text.re_search(pattern(QUESTION, engine)),
    )  # fmt: skip
    base: Any = None
    for sig in lex:
        term = rows[sig].cast("float64") * weights.get(sig, 1.0)
        base = term if base is None else base + term
    score = base * rows.question.ifelse(s.buyer_question_weight, 1.0)
    return rows.mutate(score=score).order_by("seq")


def keyword_sample(m: Any, con: Any, s: AnalyticsSettings) -> Any:
    """``group_id, text`` of :func:`shequn.analytics.keywords.keyword_sample` on the
    engine: each group's most recent member text messages (a row number per group,
    newest first, ties in archive order), in archive order."""
    import ibis

    arrow = _arrow_scan(m, "spark" if con.name == "pyspark" else "duckdb")
    kind = _is_in(m.kind, ["text", "link"], arrow)
    texts = m.filter(m.ugc & kind & (m.text.length() >= 2))
    # the number of groups in the same query (0: no rows to rank): one pass less
    n_groups = texts.group_id.nunique().nullif(0).as_scalar()
    share = ibis.greatest(100, s.keyword_sample_total // n_groups)
    per_group = ibis.least(s.keyword_sample_per_group, share)
    rank = ibis.row_number().over(group_by="group_id", order_by=[ibis.desc("ts"), "seq"])
    # ranked without the texts (a window sorts what it carries), which join back after
    ranked = texts.select("group_id", "ts", "seq", _rank=rank)
    chosen = ranked.filter(ranked._rank < per_group).select(_seq="seq")
    picked = m.join(chosen, m.seq == chosen._seq)
    return picked.order_by("seq").select("group_id", "text")
