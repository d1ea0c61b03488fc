"""Moderation benchmark: quality on the real spam sets, evasion recall, throughput.

    .venv/bin/python bench/moderation.py [--data ../shared/data] [--messages 20000]

Quality is measured only on the fixed 30 % held-out split
(``shequn.features.moderation.datasets.is_held_out``) that ``scripts/train_moderation.py``
never trains on. A message is *acted on* when the verdict is not ``ok`` and not
``uncertain`` (the bot removes it and strikes the member): precision, recall, F1 and
false-positive rate (acted-on normal chat / all normal chat) are about those. Uncertain
verdicts go to a human instead; the ``+human`` columns count them in as well (recall
of acted-or-escalated, and the share of normal chat a human is asked about).

The evasion set takes every held-out Chinese ad and rewrites it with one trick at a
time (spacing, zero-width, full-width, traditional, homoglyphs, circled digits,
homophones, all combined); recall is reported over all variants and over variants of
ads the engine catches in their plain form.

Throughput: a 20,000-word lexicon made from the real texts (jieba words and character
n-grams) is added to the shipped one and every detector runs; messages/s on one core
with and without the classifier, beside a naive ``for w in words: if w in text`` loop
over the same words and messages measured in the same run. Each timed run uses a fresh
``Moderator`` (its verdict cache starts empty) after one untimed pass has warmed the
process-wide caches, as in a bot that has been running a while; configurations are
timed in turn ``--repeat`` times and the medians printed. The messages are drawn with
repetition from the real texts, so the engine figures are also given for the distinct
messages alone, where the verdict cache never hits.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from shequn.features.moderation import ModerationSettings, Moderator  # noqa: E402
from shequn.features.moderation.datasets import SETS, Sample, is_held_out, load_set  # noqa: E402

ZW = "\u200b"
_CYRILLIC = str.maketrans("aceopxyABCEHKMOPTX", "асеорхуАВСЕНКМОРТХ")
_CIRCLED = str.maketrans("0123456789", "⓪①②③④⑤⑥⑦⑧⑨")
_HOMOPHONES = [("微信", "威信"), ("加", "+"), ("qq", "扣扣"), ("QQ", "扣扣"), ("兼职", "兼直")]


def _fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


def _traditional(s: str) -> str:
    import opencc

    return opencc.OpenCC("s2t").convert(s)


def _homophones(s: str) -> str:
    for a, b in _HOMOPHONES:
        s = s.replace(a, b)
    return s


TRICKS = {
    "spacing": lambda s: " ".join(s),
    "zero-width": lambda s: ZW.join(s),
    "full-width": _fullwidth,
    "traditional": _traditional,
    "homoglyphs": lambda s: s.translate(_CYRILLIC),
    "circled digits": lambda s: s.translate(_CIRCLED),
    "homophones": _homophones,
    "combined": lambda s: ZW.join(_fullwidth(_traditional(_homophones(s))).translate(_CIRCLED)),
}


def metrics(y: list[int], flagged: list[bool]) -> dict[str, float]:
    tp = sum(1 for a, b in zip(y, flagged, strict=True) if a and b)
    fp = sum(1 for a, b in zip(y, flagged, strict=True) if not a and b)
    fn = sum(1 for a, b in zip(y, flagged, strict=True) if a and not b)
    neg = sum(1 for a in y if not a)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": p, "r": r, "f1": f1, "fpr": fp / neg if neg else 0.0, "n": len(y), "neg": neg}


def acted(mod: Moderator, texts: list[str]) -> list[bool]:
    return [v.verdict != "ok" and not v.uncertain for v in mod.check_many(texts)]


def quality(data: Path, mod_full: Moderator, mod_rules: Moderator) -> list[Sample]:
    print("== quality on the held-out 30 % (acted on = verdict != ok and not uncertain)")
    print(
        f"{'set':<11}{'engine':<8}{'n':>6}{'ads':>6}{'prec':>8}{'recall':>8}{'F1':>8}{'FPR':>8}"
        f"{'+human: recall':>16}{'FPR':>8}"
    )
    normal: dict[str, list[str]] = {"full": [], "rules": []}  # label acted on, or ""
    zh_ads: list[Sample] = []
    for name in SETS:
        samples, bad = load_set(data, name)
        held = [s for s in samples if is_held_out(s.text)]
        y = [s.label for s in held]
        for label, mod in (("full", mod_full), ("rules", mod_rules)):
            verdicts = mod.check_many([s.text for s in held])
            flagged = [v.verdict != "ok" and not v.uncertain for v in verdicts]
            m = metrics(y, flagged)
            h = metrics(y, [v.verdict != "ok" for v in verdicts])
            print(
                f"{name:<11}{label:<8}{m['n']:>6}{m['n'] - m['neg']:>6}{m['p']:>8.3f}"
                f"{m['r']:>8.3f}{m['f1']:>8.3f}{m['fpr']:>8.3%}{h['r']:>16.3f}{h['fpr']:>8.3%}"
            )
            if name.startswith("qq"):
                normal[label] += [
                    v.verdict if f else ""
                    for f, v, s in zip(flagged, verdicts, held, strict=True)
                    if not s.label
                ]
        if bad:
            print(f"{'':<11}({bad} malformed lines skipped in {SETS[name].split()[0]})")
        if name.startswith("qq"):
            zh_ads += [s for s in held if s.label]
    for label, acts in normal.items():
        n = max(1, len(acts))
        acted_on = sum(1 for a in acts if a)
        as_ad = sum(1 for a in acts if a in ("ad", "spam"))
        print(
            f"normal Chinese group chat ({label}): {acted_on}/{len(acts)} acted on, "
            f"FPR {acted_on / n:.3%}; as ad/spam {as_ad} (FPR {as_ad / n:.3%}), "
            f"as abuse/sensitive {acted_on - as_ad} (the QQ sets label ads only)"
        )
    return zh_ads


def evasion(mod: Moderator, ads: list[Sample]) -> None:
    print(f"== evasion: {len(ads)} held-out Chinese ads x {len(TRICKS)} tricks")
    base = acted(mod, [s.text for s in ads])
    caught_plain = sum(base)
    print(f"plain: {caught_plain}/{len(ads)} caught")
    tot = tot_caught = tot_rel = tot_rel_n = 0
    for trick, fn in TRICKS.items():
        flagged = acted(mod, [fn(s.text) for s in ads])
        rel = sum(1 for f, b in zip(flagged, base, strict=True) if f and b)
        tot += len(ads)
        tot_caught += sum(flagged)
        tot_rel += rel
        tot_rel_n += caught_plain
        print(
            f"{trick:<16}{sum(flagged):>5}/{len(ads)} ({sum(flagged) / len(ads):.1%});"
            f" of plain-caught {rel}/{caught_plain} ({rel / max(1, caught_plain):.1%})"
        )
    print(
        f"all variants: {tot_caught}/{tot} caught ({tot_caught / tot:.1%}); "
        f"of plain-caught ads: {tot_rel}/{tot_rel_n} ({tot_rel / max(1, tot_rel_n):.1%})"
    )


def lexicon_words(texts: list[str], n: int) -> list[str]:
    import jieba

    jieba.setLogLevel(60)
    counts: Counter[str] = Counter()
    for t in texts:
        for w in jieba.lcut(t.lower()):
            w = w.strip()
            if len(w) >= 2 and not w.isdigit():
                counts[w] += 1
    words = [w for w, _ in counts.most_common()]
    if len(words) < n:  # top up with character trigrams of the Chinese texts
        seen = set(words)
        for t in texts:
            for i in range(len(t) - 2):
                g = t[i : i + 3]
                if g not in seen and not g.isascii() and " " not in g:
                    seen.add(g)
                    words.append(g)
            if len(words) >= n:
                break
    return words[:n]


def throughput(data: Path, n_messages: int, n_words: int, repeat: int) -> None:
    texts = [s.text for name in SETS for s in load_set(data, name)[0]]
    words = lexicon_words(texts, n_words)
    rng = random.Random(7)
    messages = [rng.choice(texts) for _ in range(n_messages)]
    print(f"== throughput: {len(messages)} real messages, {len(words)}-word lexicon + defaults")
    settings = dict(extra_words={"ad": tuple(words)}, extra_word_weight=0.02)

    def fresh(classifier: bool) -> Moderator:  # a new moderator: its verdict cache starts empty
        mod = Moderator(ModerationSettings(use_classifier=classifier, **settings))  # type: ignore[arg-type]
        mod.check("warm up")
        return mod

    def rate(classifier: bool, batch: bool, msgs: list[str]) -> float:
        mod = fresh(classifier)
        t0 = time.perf_counter()
        if batch:
            mod.check_many(msgs)
        else:
            for m in msgs:
                mod.check(m)
        return len(msgs) / (time.perf_counter() - t0)

    distinct = list(dict.fromkeys(messages))
    # a long-running bot has its process-wide caches (the classifier's n-gram windows,
    # the pinyin table) warm: fill them once, then time fresh moderators
    fresh(True).check_many(distinct)
    fresh(False).check_many(distinct)
    runs = {
        "engine, rules only (no classifier)": (False, False),
        "engine, rules only, check_many batch": (False, True),
        "engine + classifier, one by one": (True, False),
        "engine + classifier, check_many batch": (True, True),
    }
    rates: dict[tuple[str, bool], list[float]] = {}
    for _ in range(repeat):  # alternate the configurations; report medians
        for label, (clf, batch) in runs.items():
            rates.setdefault((label, False), []).append(rate(clf, batch, messages))
            rates.setdefault((label, True), []).append(rate(clf, batch, distinct))
    naive_msgs = messages[: max(200, n_messages // 20)]
    t0 = time.perf_counter()
    for m in naive_msgs:
        [w for w in words if w in m.lower()]
    r_naive = len(naive_msgs) / (time.perf_counter() - t0)
    print(f"naive `for w in words: if w in text`   {r_naive:>10,.0f} msg/s")
    for only_distinct in (False, True):
        if only_distinct:
            print(
                f"the same on the {len(distinct)} distinct messages only "
                "(no repeats, verdict cache unused):"
            )
        for label in runs:
            r = statistics.median(rates[label, only_distinct])
            print(f"{label:<38}{r:>10,.0f} msg/s  {r / r_naive:>6.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--words", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per configuration")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--skip-quality", action="store_true", help="throughput section only")
    args = ap.parse_args()
    if not args.skip_quality:
        full = Moderator()
        rules = Moderator(ModerationSettings(use_classifier=False))
        ads = quality(args.data, full, rules)
        evasion(full, ads)
    if not args.skip_throughput:
        throughput(args.data, args.messages, args.words, args.repeat)


if __name__ == "__main__":
    main()
