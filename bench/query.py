"""The analytics query layer on DuckDB and on Spark (local mode): seconds and rows/s.

    .venv/bin/python bench/query.py [--messages 1000000] [--groups 10] [--no-spark]

Generates realistic exports (``bench/generate.py``), imports them, writes the Parquet
files the query layer reads (``shequn.analytics.query.export_parquet``), then times
each expression — daily activity, member activity, retention — on in-process DuckDB
and on a local Spark session with 2 cores, in the same run (median of 3 after a warm
run). The DuckDB/Spark ratio says what a cluster must make up for on this data size;
see ``docs/analytics-engines.md`` for the extrapolation to 1B messages.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from shequn.actions.imports import import_file  # noqa: E402
from shequn.analytics import query  # noqa: E402
from shequn.analytics.frame import load  # noqa: E402
from shequn.store import open_store  # noqa: E402

EXPRESSIONS = {
    "daily activity": query.daily_activity,
    "member activity": query.member_activity,
    "retention": None,
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
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="shequn-query-"))
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate.py"), "--messages", str(args.messages),
         "--groups", str(args.groups), "--out", str(work / "exports")],
        check=True,
    )  # fmt: skip
    store = open_store(f"sqlite:///{work / 'archive.db'}")
    for path in sorted((work / "exports").glob("*.json")):
        import_file(store, path)
    frames = load(store)
    paths = query.export_parquet(frames, work / "parquet")
    n = frames.messages.height
    print(f"{n:,} messages, {frames.members.height:,} members, {len(paths)} Parquet tables")
    engines = ["duckdb"] if args.no_spark else ["duckdb", "spark"]
    seconds: dict[str, dict[str, float]] = {}
    for engine in engines:
        t = query.tables(query.connect(engine), paths)
        seconds[engine] = {}
        for name, fn in EXPRESSIONS.items():
            expr = query.retention(t, frames.now) if fn is None else fn(t)
            seconds[engine][name] = _time(lambda e=expr: e.to_pyarrow())
    print(f"{'expression':<18}" + "".join(f"{e:>12}" for e in engines) + "   spark/duckdb")
    for name in EXPRESSIONS:
        row = "".join(f"{seconds[e][name]:>11.2f}s" for e in engines)
        ratio = (
            seconds["spark"][name] / seconds["duckdb"][name] if "spark" in seconds else float("nan")
        )
        print(f"{name:<18}{row}   {ratio:>8.1f}x")
    for e in engines:
        total = sum(seconds[e].values())
        print(f"{e}: all three in {total:.2f} s = {n / total:,.0f} messages/s")


if __name__ == "__main__":
    main()
