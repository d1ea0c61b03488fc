"""Analytics over the event archive: layers, KOLs, buyers, retention, health, activity.

:func:`analyse` is the whole report as plain JSON data (the contract is
``docs/report-json.md``). Each part is also a public function of its own module,
working on the shared :class:`~shequn.analytics.frame.Frames`:

====================  ==========================================================
``frame.load``        the archive read once into Polars frames
``fetch``             the queries, and how rows travel from each backend
``reductions``        the per-message reductions, on Polars, DuckDB or Spark
``parquet_archive``   the archive exported as Parquet parts, read by the engines
``query``             the query layer: Ibis expressions (DuckDB, PySpark)
``query_more``        more of them: known pairs, edges, PageRank, weekly health
``query_texts``       the parts reading texts: ad flags, intent rows, keyword sample
``query_counts``      the small counts: kinds, weekday × hour, days, UGC per sender
``stats``             per-member behaviour counts (per group or archive-wide)
``layers``            six member layers with reasons (playbook §4)
``layer_texts``       layer names, rules and playbook actions
``kol``               PageRank on the reply/mention graph, KOL ranking
``buyers``            purchase-intent signals, likely buyers (playbook §5)
``retention``         join cohorts, present and speaking at D1/D7/D30
``ads``               the replaceable ad-like heuristic
``health``            weekly trends, lifecycle stage, risk and score (§7)
``activity``          weekday × hour heatmap, daily counts
``concentration``     80/20, Gini, absence factor
``keywords``          top words per group (jieba for Chinese)
``ugc``               member vs operator content
``tables``            the member, group and lurker records of the report
``settings``          every threshold, with its rationale
``texts``             the report's sentences in Chinese and English
====================  ==========================================================

Where the work runs. The messages are reduced by an engine, the member- and
group-sized rule logic runs on the driver. ``analyse(engine=...)`` picks the engine
(:mod:`.reductions`): ``"duckdb"`` (the default, in-process, the frames handed over
through Arrow) or ``"spark"`` run the query layer's Ibis expressions — member stats
in the layers' window and overall, known pairs, interaction edges, retention join
times, the weekly health series, the groups' message, ad and 30-day figures;
``"polars"`` runs the Polars functions that they equal (the reference, and what
the console's health page and the layer feature's tests use). The rules over those
tables — layer assignment, PageRank over the edge table, KOL percentiles, health
stages and lifecycle, retention cohorts, buyer scores, the record lists — are
Polars on the driver on every engine, and the report is the same on each
(``tests/analytics/test_report_engines.py``). The parts that read message texts
run on the engine too (:mod:`.query_texts`): ad flags, buyers' intent signals (only
the messages with a signal come back) and the keyword sample (jieba cuts it on the
driver, in a worker thread while the rest is assembled). The small per-message counts of the
heatmap, daily counts, message summary and concentration are engine tables too
(:mod:`.query_counts`), the UGC share comes from the groups' figures: after the
reduction, :func:`_assemble` reads no message-sized frame. ``analyse(None,
parquet=folder)`` reports on an export (:mod:`.parquet_archive`): the engine reads
the message files and the driver holds only member- and group-sized tables.

Cost (``bench/query.py --report``, 1M generated messages, 2 shared cores):
``analyse()`` 5.0 s with Polars reducing, 7.0 s with DuckDB (1.40×; the reduction,
texts included, 1.2 s against 3.1 s); loading the archive is one pass of about
2-3 s per million messages. From an export, DuckDB took 6.6 s at 0.54× the peak
memory (``bench/parquet_report.py``).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from shequn import __version__
from shequn.analytics import (
    activity,
    buyers,
    concentration,
    health,
    keywords,
    kol,
    layers,
    parquet_archive,
    retention,
    tables,
    ugc,
)
from shequn.analytics.frame import Frames, iso, load
from shequn.analytics.reductions import REPORT_ENGINES, Reduced, ReportEngine, reduce
from shequn.analytics.settings import AnalyticsSettings, field_docs
from shequn.gcpause import paused_gc
from shequn.store import Store

__all__ = [
    "ENGINE_ENV",
    "REPORT_ENGINES",
    "REPORT_KEYS",
    "AnalyticsSettings",
    "Frames",
    "ReportEngine",
    "analyse",
    "load",
]

#: Environment variable naming the default engine of :func:`analyse`.
ENGINE_ENV = "SHEQUN_ANALYTICS_ENGINE"

#: Top-level keys of the report, in the order of ``docs/report-json.md``.
REPORT_KEYS = (
    "meta", "groups", "members", "messages", "layers", "kols", "buyers", "retention",
    "health", "heatmap", "concentration", "keywords", "ugc", "lurkers",
)  # fmt: skip


def _epoch(now: datetime | float | None) -> float | None:
    if now is None or isinstance(now, int | float):
        return None if now is None else float(now)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (naive datetimes are ambiguous)")
    return now.timestamp()


def analyse(
    store: Store | None,
    settings: AnalyticsSettings | None = None,
    *,
    now: datetime | float | None = None,
    top: int = 20,
    lang: str = "en",
    engine: ReportEngine | None = None,
    spark: Any = None,
    parquet: Path | None = None,
) -> dict[str, Any]:
    """The whole report over ``store`` as plain JSON data (see ``docs/report-json.md``).

    ``now`` (an aware datetime or epoch seconds) is the report's "as of": events
    after it are ignored; by default the newest event in the archive. ``top`` limits
    the KOL and buyer lists; ``lang`` ("zh" or "en") the language of reasons.
    ``engine`` reduces the messages (see :mod:`.reductions`): "polars", "duckdb" or
    "spark" (on ``spark``, a SparkSession; a local one if None); by default
    ``$SHEQUN_ANALYTICS_ENGINE``, else "duckdb". The report is the same on each.

    ``parquet`` reports on an exported archive instead of ``store`` (None then; see
    :mod:`.parquet_archive`): the engine (DuckDB or Spark) reads its message files,
    and this process holds only the member- and group-sized tables.
    """
    engine = engine or os.environ.get(ENGINE_ENV) or "duckdb"  # type: ignore[assignment]
    if engine not in REPORT_ENGINES:
        raise ValueError(f"unknown engine {engine!r} (known: {', '.join(REPORT_ENGINES)})")
    s = settings or AnalyticsSettings()
    ZoneInfo(s.tz)  # fail early on a bad zone name
    lang = "zh" if lang.lower().startswith("zh") else "en"
    with paused_gc():
        if parquet is not None:
            f = parquet_archive.frames(parquet, now=_epoch(now), tz=s.tz)
        elif store is not None:
            f = load(store, now=_epoch(now), tz=s.tz)
        else:
            raise ValueError("analyse() needs a store or an exported archive (parquet=)")
        # jieba is pure Python; Polars releases the GIL, so keywords overlap the rest.
        with ThreadPoolExecutor(max_workers=1) as pool:
            reduced = reduce(f, s, engine=engine, spark=spark, parquet=parquet)
            kw_future = pool.submit(keywords.keywords, reduced.sample, s)
            report = _assemble(f, s, reduced, top=top, lang=lang)
            report["keywords"] = kw_future.result()
    return {k: report[k] for k in REPORT_KEYS}


def _assemble(
    f: Frames, s: AnalyticsSettings, r: Reduced, *, top: int, lang: str
) -> dict[str, Any]:
    known, overall, ranks, joins = r.known, r.overall, r.ranks, r.joins
    pairs = layers.assign_layers(r.window, f.members, s)
    per_member = layers.member_layers(pairs, f.members, f.groups, s, lang)
    healths = health.group_health(
        f, None, joins, known, s, lang=lang, weekly=r.weekly, figures=r.figures
    )
    return {
        "meta": {
            "generated_at": iso(datetime.now(UTC).timestamp()),
            "as_of": iso(f.now),
            "period": {"start": iso(f.start), "end": iso(f.end)},
            "settings": s.as_dict(),
            "settings_doc": dict(field_docs()),
            "version": __version__,
            "lang": lang,
            "top": top,
        },
        "groups": tables.group_records(f, None, known, healths, r.figures),
        "members": tables.member_records(f, overall, known, per_member, ranks),
        "messages": tables.message_summary(r.counts.kinds, r.figures, r.counts.days),
        "layers": layers.layer_summary(pairs, per_member, s),
        "kols": kol.kol_ranking(overall, ranks, f.members, s, top=top, lang=lang),
        "buyers": buyers.likely_buyers(f, s, top=top, lang=lang, scored=r.intent),
        "retention": retention.retention(f, lang=lang, pairs=joins),
        "health": healths,
        "heatmap": activity.heatmap(r.counts.cells, f.tz),
        "concentration": concentration.concentration(r.counts.ugc),
        "ugc": ugc.ugc_summary(r.figures),
        "lurkers": tables.lurker_records(f, known, s.lurker_days),
    }
