"""Analytics over the event archive: layers, KOLs, buyers, retention, health, activity.

:func:`analyse` is the whole report as plain JSON data (the contract is
``docs/report-json.md``). Each part is also a public function of its own module,
working on the shared :class:`~shequn.analytics.frame.Frames`:

====================  ==========================================================
``frame.load``        the archive read once into Polars frames
``fetch``             the queries, and how rows travel from each backend
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

Cost: one pass over the archive (about 2 s per million messages), then vectorised
Polars; keywords run on a sample in a worker thread meanwhile. A million messages
take about 4.5 s and 0.7 GB on two cores.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from shequn import __version__
from shequn.analytics import (
    activity,
    ads,
    buyers,
    concentration,
    health,
    keywords,
    kol,
    layers,
    retention,
    stats,
    tables,
    ugc,
)
from shequn.analytics.frame import Frames, iso, load
from shequn.analytics.settings import AnalyticsSettings, field_docs
from shequn.gcpause import paused_gc
from shequn.store import Store

__all__ = ["REPORT_KEYS", "AnalyticsSettings", "Frames", "analyse", "load"]

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
    store: Store,
    settings: AnalyticsSettings | None = None,
    *,
    now: datetime | float | None = None,
    top: int = 20,
    lang: str = "en",
) -> dict[str, Any]:
    """The whole report over ``store`` as plain JSON data (see ``docs/report-json.md``).

    ``now`` (an aware datetime or epoch seconds) is the report's "as of": events
    after it are ignored; by default the newest event in the archive. ``top`` limits
    the KOL and buyer lists; ``lang`` ("zh" or "en") the language of reasons.
    """
    s = settings or AnalyticsSettings()
    ZoneInfo(s.tz)  # fail early on a bad zone name
    lang = "zh" if lang.lower().startswith("zh") else "en"
    with paused_gc():
        f = load(store, now=_epoch(now), tz=s.tz)
        # jieba is pure Python; Polars releases the GIL, so keywords overlap the rest.
        with ThreadPoolExecutor(max_workers=1) as pool:
            sample = keywords.keyword_sample(f, s)
            kw_future = pool.submit(keywords.keywords, sample, s)
            report = _assemble(f, s, top=top, lang=lang)
            report["keywords"] = kw_future.result()
    return {k: report[k] for k in REPORT_KEYS}


def _assemble(f: Frames, s: AnalyticsSettings, *, top: int, lang: str) -> dict[str, Any]:
    known = stats.known_pairs(f)
    since = stats.active_day_window(f, s.layer_window_days)
    stay = s.invite_stay_days
    window = stats.member_stats(f, by_group=True, since=since, stay_days=stay, known=known)
    overall = stats.member_stats(f, by_group=False, stay_days=stay)
    pairs = layers.assign_layers(window, f.members, s)
    per_member = layers.member_layers(pairs, f.members, f.groups, s, lang)
    ranks = kol.pagerank(kol.interaction_edges(f), alpha=s.pagerank_alpha)
    ad = ads.ad_flags(f, s)
    joins = retention.join_times(f)
    healths = health.group_health(f, ad, joins, known, s, lang=lang)
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
        "groups": tables.group_records(f, ad, known, healths),
        "members": tables.member_records(f, overall, known, per_member, ranks),
        "messages": tables.message_summary(f),
        "layers": layers.layer_summary(pairs, per_member, s),
        "kols": kol.kol_ranking(overall, ranks, f.members, s, top=top, lang=lang),
        "buyers": buyers.likely_buyers(f, s, top=top, lang=lang),
        "retention": retention.retention(f, lang=lang, pairs=joins),
        "health": healths,
        "heatmap": activity.heatmap(f),
        "concentration": concentration.concentration(f),
        "ugc": ugc.ugc_summary(f),
        "lurkers": tables.lurker_records(f, known, s.lurker_days),
    }
