"""Where a moderation check spends its time: µs per message for every stage.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/moderation_profile.py [--cprofile]

Same setup as the throughput section of ``bench/moderation.py`` (the shipped lexicon
plus a 20,000-word lexicon made from the real texts, the real messages drawn with
repetition, seed 7), but on the *distinct* messages only, so no verdict cache is
involved. Each stage runs over all messages with its inputs prepared beforehand; the
figure is the best of ``--repeat`` runs divided by the number of messages (the machine
is shared: compare figures of one run with each other, not across runs).
``--cprofile`` adds a cProfile listing (sorted by own time) of the whole check.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import pstats
import random
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from moderation import lexicon_words  # noqa: E402
from shequn.features.moderation import ModerationSettings, Moderator, detectors  # noqa: E402
from shequn.features.moderation.classifier import classifier_input  # noqa: E402
from shequn.features.moderation.datasets import SETS, load_set  # noqa: E402
from shequn.features.moderation.fusion import feature_vector  # noqa: E402
from shequn.text import normalize, pinyin_form  # noqa: E402

_nm: Any = importlib.import_module("shequn.text.normalize")  # its private stages


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--words", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cprofile", action="store_true")
    args = ap.parse_args()

    texts = [s.text for name in SETS for s in load_set(args.data, name)[0]]
    words = lexicon_words(texts, args.words)
    rng = random.Random(7)
    msgs = list(dict.fromkeys(rng.choice(texts) for _ in range(args.messages)))
    n = len(msgs)
    settings: dict[str, Any] = dict(extra_words={"ad": tuple(words)}, extra_word_weight=0.02)
    rules = Moderator(ModerationSettings(use_classifier=False, **settings))
    full = Moderator(ModerationSettings(use_classifier=True, **settings))
    rules.check("warm up")
    full.check("warm up")
    clf = full.classifier
    fusion = full.fusion
    assert clf is not None and fusion is not None
    print(
        f"{n} distinct real messages (mean {sum(map(len, msgs)) / n:.0f} chars, "
        f"{sum(not m.isascii() for m in msgs) / n:.0%} non-ASCII), "
        f"{rules.lexicon.size} lexicon entries"
    )

    def stage(label: str, fn: Callable[[], object], indent: int = 2) -> float:
        best = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        us = best / n * 1e6
        print(f"{' ' * indent}{label:<44}{us:>8.2f} µs/msg")
        return us

    # inputs of every stage, computed once
    nfkc = [unicodedata.normalize("NFKC", m) for m in msgs]
    tabled = [t.translate(_nm._TABLE) for t in nfkc]
    simp = [_nm.to_simplified(t) for t in tabled]
    folded = [t.casefold() for t in simp]
    norms = [normalize(m) for m in msgs]
    lights = [x.light for x in norms]
    compacts = [x.compact for x in norms]
    hits = [rules.rule_hits(m)[1] for m in msgs]
    inputs = [classifier_input(c) for c in compacts]

    print("== normalisation")
    stage("whole normalize()", lambda: [normalize(m) for m in msgs], 0)
    stage("light form (_light)", lambda: [_nm._light(m) for m in msgs])
    stage("NFKC (width, circled digits)", lambda: [unicodedata.normalize("NFKC", m) for m in msgs])
    stage(
        "translate: invisibles, dingbat digits, punct",
        lambda: [t.translate(_nm._TABLE) if _nm._TABLE_CHARS.search(t) else t for t in nfkc],
    )
    stage("OpenCC t2s", lambda: [_nm.to_simplified(t) for t in tabled])
    stage("casefold", lambda: [t.casefold() for t in simp])
    stage(
        "homoglyphs (lookalike test + words)",
        lambda: [
            _nm._MIXED_WORD.sub(_nm._fix_mixed, t)
            if _nm._LOOKALIKE_SCRIPT.search(t) and _nm._LATIN.search(t)
            else t
            for t in folded
        ],
    )
    stage(
        "Chinese numeral runs",
        lambda: [
            _nm._CN_NUM_RUN.sub(_nm._cn_digits, t) if _nm._HAS_CN_NUM.search(t) else t
            for t in folded
        ],
    )
    stage("spacing collapse", lambda: [" ".join(t.split()) for t in folded])
    stage("compact form (compact)", lambda: [_nm.compact(t) for t in lights])
    print("== detectors")
    lex = rules.lexicon
    stage("lexicon.match (words + pinyin)", lambda: [lex.match(c) for c in compacts], 0)
    stage("pinyin_form", lambda: [pinyin_form(c) for c in compacts if not c.isascii()])
    stage("links", lambda: [detectors.links(x) for x in norms], 0)
    stage("contacts", lambda: [detectors.contacts(x) for x in norms], 0)
    stage("commerce", lambda: [detectors.commerce(x) for x in norms], 0)
    stage(
        "message_kind + mentions",
        lambda: [(detectors.message_kind("text"), detectors.mentions(0)) for _ in msgs],
        0,
    )
    stage("rule_hits (normalise + every detector)", lambda: [rules.rule_hits(m) for m in msgs], 0)
    print("== decision")
    stage(
        "rules only: _decide",
        lambda: [
            rules._decide(m, c, h, rules._logit(c))
            for m, c, h in zip(msgs, compacts, hits, strict=True)
        ],
        0,
    )
    stage("classifier_input", lambda: [classifier_input(c) for c in compacts], 0)
    stage("classifier logit", lambda: [clf.logit(x) for x in inputs if len(x) >= 6], 0)
    stage(
        "classifier logits (one batch)", lambda: clf.logits([x for x in inputs if len(x) >= 6]), 0
    )
    stage(
        "fusion feature_vector + probability",
        lambda: [
            fusion.probability(feature_vector([r for _, r in h], 0.0, c))
            for c, h in zip(compacts, hits, strict=True)
        ],
        0,
    )
    stage(
        "with classifier: _decide",
        lambda: [
            full._decide(m, c, h, full._logit(c))
            for m, c, h in zip(msgs, compacts, hits, strict=True)
        ],
        0,
    )
    print("== whole check (no verdict cache)")
    stage("rules only", lambda: [rules._fresh(m, "text", 0, None, ()) for m in msgs], 0)
    stage("with classifier", lambda: [full._fresh(m, "text", 0, None, ()) for m in msgs], 0)
    if args.cprofile:
        for label, mod in (("rules only", rules), ("with classifier", full)):
            print(f"== cProfile, {label} (sorted by own time)")
            prof = cProfile.Profile()
            prof.runcall(lambda m=mod: [m._fresh(t, "text", 0, None, ()) for t in msgs])
            pstats.Stats(prof).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
