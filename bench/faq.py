"""FAQ matcher benchmark: top-1 accuracy, answered share, precision, queries/s.

    .venv/bin/python bench/faq.py [--data ../shared/data] [--calibrate]

Sets (see :mod:`shequn.features.faq.datasets`):

* StackFAQ (``faq/en_stackfaq.json``): bank = the 125 questions (``q only``) or the
  questions with their answers as a weaker extra field (the default); queries = the
  *odd-numbered* paraphrases of each question (624 of the 1,249 non-empty ones; 126
  slots are null or a bare ``*``). The even-numbered ones (625) are the calibration
  split that the weights and threshold were chosen on (``--calibrate`` prints that
  sweep). ``+calib variants`` adds the calibration paraphrases to the bank as question
  variants, as an operator would add phrasings they have seen: still no query overlap.
* Egret (``faq/zh_egret_wenda/``): real Chinese forum questions; queries are later
  questions that got the very same answer as an earlier one. Not calibrated on.
  ``egret zh paraphrases``: the subset likely to be paraphrases, chosen from the answer
  side only (answer given to exactly two questions, not a brush-off; see
  :func:`~shequn.features.faq.datasets.load_egret_paraphrases`), same bank.

For each of BM25-only, embeddings-only and hybrid: top-1 accuracy over all queries,
the share answered at or above the threshold, accuracy among those answered, and
queries/s (one query at a time, after the bank is indexed). The threshold is the
hybrid one (``DEFAULT_THRESHOLD``) for every mode, so "answered" is only meaningful for
the hybrid row: BM25 confidence runs lower and cosines higher.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import msgspec
import numpy as np

from shequn.features.faq import DEFAULT_THRESHOLD, FaqBank, FaqMatcher, load_stackfaq
from shequn.features.faq.datasets import load_egret, load_egret_paraphrases, split_queries

REPO = Path(__file__).resolve().parents[1]


def evaluate(matcher: FaqMatcher, queries: list[tuple[str, str]]) -> dict[str, float]:
    """Top-1 accuracy, answered share, accuracy when answered, queries/s."""
    hits = answered = answered_hits = 0
    t0 = time.perf_counter()
    for query, expected in queries:
        scores = matcher.scores(query)
        best = int(np.argmax(scores))
        ok = matcher.bank.entries[best].id == expected
        hits += ok
        if scores[best] >= matcher.threshold:
            answered += 1
            answered_hits += ok
    elapsed = time.perf_counter() - t0
    n = len(queries)
    return {
        "top1": hits / n,
        "answered": answered / n,
        "acc_answered": answered_hits / answered if answered else 0.0,
        "qps": n / elapsed,
    }


def _row(name: str, mode: str, r: dict[str, float]) -> str:
    return (
        f"{name:<22} {mode:<10} {r['top1']:>6.3f} {r['answered']:>9.3f} "
        f"{r['acc_answered']:>13.3f} {r['qps']:>9.0f}"
    )


def _sets(data: Path) -> list[tuple[str, FaqBank, list[tuple[str, str]], bool]]:
    stack = data / "faq" / "en_stackfaq.json"
    bank, queries = load_stackfaq(stack)
    calib, report = split_queries(queries)
    seen: dict[str, list[str]] = {}
    for q, ident in calib:
        seen.setdefault(ident, []).append(q)
    bank_v = FaqBank(msgspec.structs.replace(e, variants=tuple(seen.get(e.id, []))) for e in bank)
    zh_bank, zh_queries = load_egret(data / "faq" / "zh_egret_wenda")
    _, zh_para = load_egret_paraphrases(data / "faq" / "zh_egret_wenda")
    return [
        ("stackfaq q only", bank, report, False),
        ("stackfaq +answers", bank, report, True),
        ("stackfaq +calib variants", bank_v, report, True),
        ("egret zh", zh_bank, zh_queries, True),
        ("egret zh paraphrases", zh_bank, zh_para, True),
    ]


def calibrate(data: Path) -> None:
    """Sweep weight and threshold on the StackFAQ calibration half."""
    bank, queries = load_stackfaq(data / "faq" / "en_stackfaq.json")
    calib = split_queries(queries)[0]
    for weights in ((0.6, 0.4, 0.1), (0.6, 0.0, 1.5), (0.4, 0.1, 1.0), (0.2, 0.1, 1.0)):
        m = FaqMatcher(bank, weights=weights)
        for threshold in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5):
            m.threshold = threshold
            r = evaluate(m, calib)
            print(f"weights={weights} threshold={threshold} " + _row("calib", m.mode, r))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--calibrate", action="store_true")
    args = ap.parse_args(argv)
    if args.calibrate:
        calibrate(args.data)
        return 0
    print(f"threshold={DEFAULT_THRESHOLD}")
    print(f"{'set':<22} {'mode':<10} {'top1':>6} {'answered':>9} {'acc|answered':>13} {'q/s':>9}")
    for name, bank, queries, answers in _sets(args.data):
        print(f"# {name}: {len(bank)} entries, {len(queries)} queries")
        for mode in ("bm25", "embedding", "hybrid"):
            matcher = FaqMatcher(bank, mode=mode, use_answers=answers)
            print(_row(name, mode, evaluate(matcher, queries)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
