"""Dump every verdict of the moderation engine, to prove a speed-up changes none.

    .venv/bin/python bench/moderation_verdicts.py dump before.json   # on the old code
    .venv/bin/python bench/moderation_verdicts.py dump after.json    # on the new code
    .venv/bin/python bench/moderation_verdicts.py compare before.json after.json

The texts: every message of every real set (``datasets.SETS``), and every Chinese
ad of the QQ sets rewritten with each evasion trick of ``bench/moderation.py``; they
are checked by three moderators (default settings; rules only; the throughput
section's 20,000-word lexicon with the classifier). Each verdict is recorded with its
label, score, ``uncertain`` flag and full reason list (detector, detail, weight),
twice: checked one by one without the cache, then all in one ``check_many`` batch.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# --src: import shequn from another copy of the source (the code before a change)
_SRC = sys.argv[sys.argv.index("--src") + 1] if "--src" in sys.argv else str(ROOT / "src")
sys.path.insert(0, _SRC)
sys.path.insert(1, str(ROOT / "bench"))

# shequn first: bench/moderation.py puts this checkout's src/ first on the path when imported
from shequn.features.moderation import ModerationSettings, Moderator  # noqa: E402, I001
from shequn.features.moderation.datasets import SETS, load_set  # noqa: E402

from moderation import TRICKS, lexicon_words  # noqa: E402


def texts_of(data: Path) -> list[str]:
    texts: list[str] = []
    for name in SETS:
        texts += [s.text for s in load_set(data, name)[0]]
    ads = [
        s.text for name in SETS if name.startswith("qq") for s in load_set(data, name)[0] if s.label
    ]
    for fn in TRICKS.values():
        texts += [fn(t) for t in dict.fromkeys(ads)]
    return list(dict.fromkeys(texts))


def dump(data: Path, out: Path) -> None:
    texts = texts_of(data)
    all_texts = [s.text for name in SETS for s in load_set(data, name)[0]]
    words = lexicon_words(all_texts, 20_000)
    moderators = {
        "default": Moderator(),
        "rules": Moderator(ModerationSettings(use_classifier=False)),
        "bench-lexicon": Moderator(
            ModerationSettings(extra_words={"ad": tuple(words)}, extra_word_weight=0.02)
        ),
    }
    rows: dict[str, list[Any]] = {}
    for label, mod in moderators.items():
        if hasattr(mod, "_fresh"):  # the verdict without the cache
            verdicts = [mod._fresh(t, "text", 0, None, ()) for t in texts]
        else:  # code from before the cache became a dict (--src of an older checkout)
            verdicts = [mod._check(t, "text", 0, None) for t in texts]
        verdicts += mod.check_many(texts)  # the batch path gives the same verdicts
        rows[label] = [
            [v.verdict, v.score, v.uncertain, [[r.detector, r.detail, r.weight] for r in v.reasons]]
            for v in verdicts
        ]
    out.write_text(json.dumps({"texts": texts, "verdicts": rows}, ensure_ascii=False))
    import shequn

    print(f"{len(texts)} texts x {len(moderators)} moderators ({shequn.__file__}) written to {out}")


def compare(a: Path, b: Path) -> int:
    old, new = json.loads(a.read_text()), json.loads(b.read_text())
    if old["texts"] != new["texts"]:
        print("the two dumps are of different texts")
        return 2
    n = diff = 0
    for label, rows in old["verdicts"].items():
        # each text twice: checked one by one, then in one check_many batch
        texts = old["texts"] * (len(rows) // max(1, len(old["texts"])))
        for text, x, y in zip(texts, rows, new["verdicts"][label], strict=True):
            n += 1
            if x != y:
                diff += 1
                if diff <= 10:
                    print(f"[{label}] {text[:60]!r}\n  before {x}\n  after  {y}")
    print(f"{n} verdicts compared ({len(old['texts'])} texts), {diff} differ")
    return 1 if diff else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=["dump", "compare"])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--src", type=Path, help="import shequn from this folder (the old code)")
    args = ap.parse_args()
    if args.command == "dump":
        dump(args.data, args.files[0])
    else:
        raise SystemExit(compare(args.files[0], args.files[1]))


if __name__ == "__main__":
    main()
