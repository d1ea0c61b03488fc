"""Import + report benchmark: figures and ratios against a parse floor measured in the same run.

    .venv/bin/python bench/run.py                  # 1,000,000 messages in 10 groups
    .venv/bin/python bench/run.py --messages 100000 --repeat 3

Steps, each in a fresh process so peak RSS is that step's own (``os.wait4``):
  floor   stream-parse every file with ijson (what any importer must at least do),
          and ``orjson.loads`` each file whole (the fastest possible parse, unbounded memory)
  import  ``shequn import`` of all files into a new SQLite archive
  report  ``shequn report -o … --json …`` on that archive
The machine is shared and noisy: every step runs ``--repeat`` times and the median is
reported; compare the ratios rather than the seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

FLOOR_STREAM = """
import sys, ijson
n = 0
for p in sys.argv[1:]:
    with open(p, "rb") as f:
        for _ in ijson.items(f, "messages.item", use_float=True, buf_size=4 << 20):
            n += 1
print(n)
"""
FLOOR_ORJSON = """
import sys, orjson
n = 0
for p in sys.argv[1:]:
    with open(p, "rb") as f:
        n += len(orjson.loads(f.read())["messages"])
print(n)
"""


def _generate(out: Path, messages: int, groups: int) -> None:
    # In a child process: a parent grown by generating would make every later child
    # (forked from it) start with the parent's pages and report them as its own RSS.
    cmd = [sys.executable, str(HERE / "generate.py"), "--messages", str(messages)]
    subprocess.run([*cmd, "--groups", str(groups), "--out", str(out)], check=True)


def run(cmd: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in bytes, and stdout of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} … failed ({proc.returncode}):\n{err[-3000:]}")
    return seconds, usage.ru_maxrss * 1024, out


def median_run(
    cmd: list[str], repeat: int, before: list[str] | None = None
) -> tuple[float, int, str]:
    results = []
    for _ in range(repeat):
        if before:
            for p in before:
                Path(p).unlink(missing_ok=True)
        results.append(run(cmd))
    secs = statistics.median(r[0] for r in results)
    return secs, max(r[1] for r in results), results[-1][2]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--groups", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--data", type=Path, default=None, help="folder of exports (default: generate)")
    ap.add_argument(
        "--no-big-file",
        action="store_true",
        help="skip the bounded-memory check (all messages in ONE export file, streamed)",
    )
    args = ap.parse_args()

    data = args.data or HERE / "out" / f"data-{args.messages}-{args.groups}"
    files = sorted(data.glob("*.json")) if data.is_dir() else []
    if not files:
        print(f"generating {args.messages:,} messages in {args.groups} groups → {data}", flush=True)
        _generate(data, args.messages, args.groups)
        files = sorted(data.glob("*.json"))
    size = sum(p.stat().st_size for p in files)
    py = sys.executable
    names = [str(p) for p in files]

    work = Path(tempfile.mkdtemp(prefix="shequn-bench-"))
    db = work / "bench.db"
    db_files = [str(db), f"{db}-wal", f"{db}-shm"]

    stream_s, stream_rss, n_out = median_run([py, "-c", FLOOR_STREAM, *names], args.repeat)
    orjson_s, orjson_rss, _ = median_run([py, "-c", FLOOR_ORJSON, *names], args.repeat)
    n_items = int(n_out.strip())
    cli = [py, "-m", "shequn.cli"]
    import_s, import_rss, _ = median_run(
        [*cli, "import", "--db", str(db), *names], args.repeat, before=db_files
    )
    report_s, report_rss, _ = median_run(
        [
            *cli,
            "report",
            "--db",
            str(db),
            "-o",
            str(work / "r.html"),
            "--json",
            str(work / "r.json"),
        ],
        args.repeat,
    )
    report = json.loads((work / "r.json").read_text(encoding="utf-8"))
    big = None
    if not args.no_big_file:
        big_file = HERE / "out" / f"one-file-{args.messages}" / "result_00.json"
        if not big_file.exists():
            print(f"generating one file of {args.messages:,} messages → {big_file}", flush=True)
            _generate(big_file.parent, args.messages, 1)
        big_db = work / "big.db"
        big = run([*cli, "import", "--db", str(big_db), str(big_file)])
        big_size = big_file.stat().st_size
    total = import_s + report_s
    peak = max(import_rss, report_rss)
    rows = [
        ("export files", f"{len(files)} files, {size / 2**20:,.0f} MiB, {n_items:,} items"),
        ("floor: ijson stream parse", f"{stream_s:.2f} s, {n_items / stream_s:,.0f} items/s, RSS {stream_rss / 2**20:,.0f} MiB"),
        ("floor: orjson whole-file", f"{orjson_s:.2f} s, RSS {orjson_rss / 2**20:,.0f} MiB"),
        ("import", f"{import_s:.2f} s, {n_items / import_s:,.0f} msg/s, RSS {import_rss / 2**20:,.0f} MiB"),
        ("report (HTML + JSON)", f"{report_s:.2f} s, RSS {report_rss / 2**20:,.0f} MiB"),
        ("import ÷ stream floor", f"{import_s / stream_s:.2f}×  (target ≤ 3×)"),
        ("import ÷ orjson floor", f"{import_s / orjson_s:.2f}×"),
        ("import + report", f"{total:.2f} s  (target ≤ 20 s at 1M)"),
        ("peak RSS", f"{peak / 2**20:,.0f} MiB  (target ≤ 1024 MiB)"),
        ("archive", f"{report['messages']['total']:,} messages, {len(report['members']):,} members, "
                    f"{len(report['groups'])} groups"),
    ]  # fmt: skip
    if big is not None:
        rows.append((
            "one big file (streamed)",
            f"{big_size / 2**20:,.0f} MiB in {big[0]:.2f} s, {n_items / big[0]:,.0f} msg/s, "
            f"RSS {big[1] / 2**20:,.0f} MiB (memory does not grow with file size)",
        ))  # fmt: skip
    width = max(len(r[0]) for r in rows)
    print(f"\nshequn import/report benchmark (median of {args.repeat}, {os.cpu_count()} cores)")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    out = HERE / "out" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "messages": n_items,
                "files": len(files),
                "bytes": size,
                "repeat": args.repeat,
                "floor_stream_s": stream_s,
                "floor_orjson_s": orjson_s,
                "import_s": import_s,
                "report_s": report_s,
                "import_rss": import_rss,
                "report_rss": report_rss,
                "ratio_import_stream": import_s / stream_s,
                "ratio_import_orjson": import_s / orjson_s,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
