"""The report from an exported archive vs from the database: time and peak memory.

    .venv/bin/python bench/parquet_report.py --archive ARCHIVE.db [--runs 2]

Each measurement runs in a fresh process (peak resident memory is per process):

* ``libraries``: importing the analytics and starting DuckDB, no data (the floor);
* ``export``: ``export_archive`` of the archive, a part at a time;
* ``db/duckdb``: ``analyse(store, engine="duckdb")``, the archive loaded into this process;
* ``files/duckdb``: ``analyse(None, engine="duckdb", parquet=folder)``, DuckDB reading
  the parts, this process holding only member- and group-sized tables.

Printed: seconds and peak RSS (MB) per step, medians over ``--runs``, and the
ratios of the file-based report to the database one measured in the same run.
Make an archive with ``bench/query.py --messages N`` (it prints where) or import
exports with ``shequn import``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from shequn.store import open_store
step, archive, folder = sys.argv[1], sys.argv[2], Path(sys.argv[3])
t = time.perf_counter()
if step == "floor":  # the libraries alone: what every step pays before any data
    import ibis
    import shequn.analytics
    ibis.duckdb.connect().raw_sql("SELECT 1")
elif step == "export":
    from shequn.analytics.parquet_archive import export_archive
    export_archive(open_store(f"sqlite:///{archive}", upgrade=False), folder, replace=True)
else:
    from shequn.analytics import analyse
    if step == "db":
        report = analyse(open_store(f"sqlite:///{archive}", upgrade=False), engine="duckdb")
    else:
        report = analyse(None, engine="duckdb", parquet=folder)
    assert report["messages"]["total"] > 0
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak}))
"""


def _run(step: str, archive: Path, folder: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, step, str(archive), str(folder)],
        capture_output=True, text=True, check=True, env={"OPENBLAS_NUM_THREADS": "1",
        "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "src")},
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--archive", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="shequn-parquet-") as tmp:
        folder = Path(tmp) / "export"
        figures: dict[str, list[dict[str, float]]] = {
            "floor": [], "export": [], "db": [], "files": []
        }  # fmt: skip
        for _ in range(args.runs):
            for step in figures:  # interleaved: the box's load hits each alike
                figures[step].append(_run(step, args.archive, folder))
        med = {
            step: {k: statistics.median(r[k] for r in runs) for k in ("seconds", "peak_mb")}
            for step, runs in figures.items()
        }
        size = sum(p.stat().st_size for p in folder.rglob("*.parquet")) / 1e6
    print(f"export folder: {size:.0f} MB of Parquet")
    print(f"{'step':<14}{'seconds':>9}{'peak MB':>9}")
    steps = (("floor", "libraries"), ("export", "export"), ("db", "db/duckdb"),
             ("files", "files/duckdb"))  # fmt: skip
    for step, label in steps:
        print(f"{label:<14}{med[step]['seconds']:>9.2f}{med[step]['peak_mb']:>9.0f}")
    floor = med["floor"]["peak_mb"]
    print(
        f"files/db: time {med['files']['seconds'] / med['db']['seconds']:.2f}x, "
        f"peak memory {med['files']['peak_mb'] / med['db']['peak_mb']:.2f}x, "
        f"above the libraries {(med['files']['peak_mb'] - floor) / (med['db']['peak_mb'] - floor):.2f}x"
    )


if __name__ == "__main__":
    main()
