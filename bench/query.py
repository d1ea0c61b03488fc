"""The analytics query layer on DuckDB and on Spark (local mode): seconds and rows/s.

    .venv/bin/python bench/query.py [--messages 1000000] [--groups 10] [--no-spark]
    .venv/bin/python bench/query.py --report [--archive archive.db] [--no-spark]

Generates realistic exports (``bench/generate.py``), imports them, writes the Parquet
files the query layer reads (``shequn.analytics.query.export_parquet``), then times
each expression of ``query`` and ``query_more`` — daily activity, member activity,
retention, member stats (whole archive and the layers' window), known pairs,
interaction edges, weekly health — on in-process DuckDB and on a local Spark session
with 2 cores, in the same run (median of 3 after a warm run). PageRank (rounds of
join + sum until converged) is timed once per engine, and on Spark only with
``--spark-pagerank`` (each round is a few Spark jobs: minutes). The DuckDB/Spark ratio says what a cluster must make up for on this data size;
see ``docs/analytics-engines.md`` for the extrapolation to 1B messages.

``--report`` times the whole report instead: ``shequn.analytics.analyse`` with each
engine reducing the messages (``polars``, ``duckdb``, and ``spark`` unless
``--no-spark``), median of ``--runs`` after a warm run, and the reduction step alone
(``shequn.analytics.reductions.reduce`` on the loaded frames). ``--archive`` reuses an
imported SQLite archive instead of generating one.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from shequn.actions.imports import import_file  # noqa: E402
from shequn.analytics import ads, analyse, query, reductions  # noqa: E402
from shequn.analytics import query_more as qm  # noqa: E402
from shequn.analytics.frame import Frames, load  # noqa: E402
from shequn.analytics.settings import AnalyticsSettings  # noqa: E402
from shequn.store import open_store  # noqa: E402

SETTINGS = AnalyticsSettings()
Tables = dict[str, Any]
EXPRESSIONS: dict[str, Callable[[Tables, Frames], Any]] = {
    "daily activity": lambda t, f: query.daily_activity(t),
    "member activity": lambda t, f: query.member_activity(t),
    "retention": lambda t, f: query.retention(t, f.now),
    "member stats": lambda t, f: query.member_stats(t),
    "window stats": lambda t, f: query.member_stats(
        t, since=qm.active_day_window(t, SETTINGS.layer_window_days)
    ),
    "known pairs": lambda t, f: qm.known_pairs(t),
    "edges": lambda t, f: qm.interaction_edges(t),
    "weekly health": lambda t, f: qm.weekly_health(t, f.now, max(SETTINGS.health_weeks, 8)),
}


def _time(fn, runs: int = 3) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm: plans compiled, files cached
    return statistics.median(_once(fn) for _ in range(runs))


def _once(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--groups", type=int, default=10)
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--spark-pagerank", action="store_true", help="time PageRank on Spark too")
    ap.add_argument("--report", action="store_true", help="time analyse() per engine")
    ap.add_argument("--archive", type=Path, help="an imported SQLite archive to reuse")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="shequn-query-"))
    if args.archive is None:
        args.archive = _generate(work, args.messages, args.groups)
    store = open_store(f"sqlite:///{args.archive}")
    if args.report:
        _report(store, ["polars", "duckdb"] if args.no_spark else ["polars", "duckdb", "spark"],
                args.runs)  # fmt: skip
        return
    frames = load(store)
    paths = query.export_parquet(frames, work / "parquet", ad=ads.ad_flags(frames, SETTINGS))
    n = frames.messages.height
    print(f"{n:,} messages, {frames.members.height:,} members, {len(paths)} Parquet tables")
    engines = ["duckdb"] if args.no_spark else ["duckdb", "spark"]
    seconds: dict[str, dict[str, float]] = {}
    pagerank: dict[str, float] = {}
    for engine in engines:
        con = query.connect(engine)
        t = query.tables(con, paths)
        seconds[engine] = {}
        for name, fn in EXPRESSIONS.items():
            expr = fn(t, frames)
            seconds[engine][name] = _time(lambda e=expr: e.to_pyarrow())
        if engine == "duckdb" or args.spark_pagerank:
            edges = qm.interaction_edges(t)
            pagerank[engine] = _once(
                lambda c=con, e=edges: qm.pagerank(c, e, alpha=SETTINGS.pagerank_alpha).to_pyarrow()
            )
    print(f"{'expression':<18}" + "".join(f"{e:>12}" for e in engines) + "   spark/duckdb")
    for name in EXPRESSIONS:
        row = "".join(f"{seconds[e][name]:>11.2f}s" for e in engines)
        ratio = (
            seconds["spark"][name] / seconds["duckdb"][name] if "spark" in seconds else float("nan")
        )
        print(f"{name:<18}{row}   {ratio:>8.1f}x")
    for e in engines:
        total = sum(seconds[e].values())
        print(f"{e}: all {len(EXPRESSIONS)} in {total:.2f} s = {n / total:,.0f} messages/s")
    for e, secs in pagerank.items():
        print(f"{e}: pagerank (one run, until converged) {secs:.2f} s")


def _generate(work: Path, messages: int, groups: int) -> Path:
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate.py"), "--messages", str(messages),
         "--groups", str(groups), "--out", str(work / "exports")],
        check=True,
    )  # fmt: skip
    store = open_store(f"sqlite:///{work / 'archive.db'}")
    for path in sorted((work / "exports").glob("*.json")):
        import_file(store, path)
    store.close()
    return work / "archive.db"


def _report(store: Any, engines: list[reductions.ReportEngine], runs: int) -> None:
    frames = load(store, tz=SETTINGS.tz)
    print(f"{frames.messages.height:,} messages, {frames.members.height:,} members")
    whole: dict[str, float] = {}
    part: dict[str, float] = {}
    for engine in engines:
        whole[engine] = _time(lambda e=engine: analyse(store, engine=e), runs)
        part[engine] = _time(
            # every reduction, the ad flags included (on the engine for DuckDB and Spark)
            lambda e=engine: reductions.reduce(frames, SETTINGS, engine=e),
            runs,
        )
    print(
        f"{'engine':<8}{'analyse()':>12}{'reduce':>10}{'analyse/polars':>16}{'reduce/polars':>15}"
    )
    for e in engines:
        print(
            f"{e:<8}{whole[e]:>11.2f}s{part[e]:>9.2f}s"
            f"{whole[e] / whole['polars']:>15.2f}x{part[e] / part['polars']:>14.2f}x"
        )


if __name__ == "__main__":
    main()
