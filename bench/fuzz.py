"""Fuzz every importer and adapter parser with generated malformed input (≥ 10,000 cases).

    .venv/bin/python bench/fuzz.py [--per-format 1700]

Runs ``tests/fuzz`` with ``SHEQUN_FUZZ_EXAMPLES`` raised (CI runs 60 fixed cases per
format) and fresh random cases (``SHEQUN_FUZZ_RANDOM=1``), and prints per export format
how many mutated files imported cleanly and how many were refused with an
``ImportFormatError`` naming the file, and per adapter how many mutated payloads were
translated, skipped with a logged reason, or ignored (not group traffic). Any other
exception, a refused file that left rows behind, or an event the archive refuses
fails the run.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-format", type=int, default=1700)
    args = ap.parse_args()
    env = {**os.environ, "SHEQUN_FUZZ_EXAMPLES": str(args.per_format), "SHEQUN_FUZZ_RANDOM": "1"}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "tests/fuzz"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - t0
    total = 0
    for m in re.finditer(r"fuzz (import|payload) (\w+): (.*)", proc.stdout):
        n = sum(int(x) for x in re.findall(r"\d+", m.group(3)))
        total += n
        print(f"{m.group(1):<8} {m.group(2):<10} {n:>6} cases: {m.group(3)}")
    print(f"total {total} cases in {seconds:.0f} s ({total / seconds:.0f} cases/s)")
    if proc.returncode != 0:
        print(proc.stdout[-4000:], proc.stderr[-2000:])
        sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
