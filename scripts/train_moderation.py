"""Fit the moderation classifier on the training side of the spam sets and ship it.

    .venv/bin/python scripts/train_moderation.py [--data ../shared/data] [--c 30]

Reads every set in ``shared/data/spam`` (see ``shequn.features.moderation.datasets``),
keeps only texts outside the fixed 30 % held-out split (the bench and tests measure
on that split), normalises them with ``shequn.text.normalize`` and fits a logistic
regression on TF-IDF-weighted hashed character 1-4-grams. Writes
``src/shequn/features/moderation/models/spam_linear.{npz,json}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from shequn.features.moderation import ModerationSettings, Moderator  # noqa: E402
from shequn.features.moderation.classifier import (  # noqa: E402
    MIN_CHARS,
    VECTORIZER,
    classifier_input,
    idf_of,
    make_vectorizer,
    tfidf,
)
from shequn.features.moderation.datasets import (  # noqa: E402
    HELD_OUT_PERCENT,
    SETS,
    is_held_out,
    load_set,
)
from shequn.features.moderation.fusion import FEATURES, feature_vector  # noqa: E402
from shequn.text import normalize  # noqa: E402

LICENCES = {
    "qq_group": "MIT (siuank/ADDetector4J)",
    "qq_extra": "MIT (siuank/ADDetector4J)",
    "qq_review": "MIT (hhhhc-da/nonebot2-review)",
    "sms": "CC BY 4.0 (UCI SMS Spam Collection)",
    "telegram": "MIT (umputun/tg-spam)",
}


#: Evasion tricks applied to the training side's Chinese ads (``--augment``). Most are
#: undone by the normaliser (so they add nothing); homophones are not, so the model
#: learns ``威信`` / ``扣扣`` / ``+`` forms next to the plain ones.
_HOMOPHONES = [("微信", "威信"), ("加", "+"), ("qq", "扣扣"), ("QQ", "扣扣"), ("兼职", "兼直")]


def _homophones(s: str) -> str:
    for a, b in _HOMOPHONES:
        s = s.replace(a, b)
    return s


def _spaced_homophones(s: str) -> str:
    return " ".join(_homophones(s))


AUGMENT = (_homophones, _spaced_homophones)


def augmented(text: str) -> list[str]:
    """Model inputs of the evasion variants of one training ad that differ from it."""
    plain = classifier_input(normalize(text).compact)
    out: list[str] = []
    for trick in AUGMENT:
        v = classifier_input(normalize(trick(text)).compact)
        if v != plain and v not in out:
            out.append(v)
    return out


def choose_threshold(
    x: object, y: np.ndarray, c: float, max_fpr: float, extra: tuple[object, np.ndarray] | None
) -> tuple[float, np.ndarray]:
    """Lowest probability threshold whose 5-fold out-of-fold FPR is within ``max_fpr``,
    and the out-of-fold log-odds (the fusion model learns from those).

    Only the training side is used, so the held-out split stays unseen. Augmented
    variants (``extra``: their matrix and the index of the text each came from) join
    only the folds that train on their source text, never a scored fold.
    """
    import scipy.sparse as sp
    from sklearn.model_selection import StratifiedKFold

    oof = np.zeros(len(y))
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(np.zeros(len(y)), y):
        m = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
        if extra is not None:
            ex, source = extra
            keep = np.isin(source, tr)
            m.fit(sp.vstack([x[tr], ex[keep]]), np.r_[y[tr], np.ones(int(keep.sum()), int)])  # type: ignore[index]
        else:
            m.fit(x[tr], y[tr])  # type: ignore[index]
        oof[te] = m.decision_function(x[te])  # type: ignore[index]
    return _threshold(1.0 / (1.0 + np.exp(-oof)), y, max_fpr, "classifier"), oof


def _threshold(prob: np.ndarray, y: np.ndarray, max_fpr: float, what: str) -> float:
    neg = y == 0
    for t in np.arange(0.5, 0.99, 0.01):
        fpr = float(np.mean(prob[neg] >= t))
        if fpr <= max_fpr:
            rec = float(np.mean(prob[~neg] >= t))
            print(f"{what} threshold {t:.2f}: out-of-fold FPR {fpr:.3%}, recall {rec:.3%}")
            return round(float(t), 2)
    return 0.99


def fit_fusion(
    samples: list[tuple[str, int]], logits: list[float | None], max_fpr: float
) -> dict[str, object]:
    """The fusion model (see ``shequn.features.moderation.fusion``) on out-of-fold logits.

    Rule evidence comes from the engine itself (classifier off), so training and run
    time see the same reasons; the threshold is chosen on the fusion's own 5-fold
    out-of-fold probabilities.
    """
    from sklearn.model_selection import StratifiedKFold

    rules = Moderator(ModerationSettings(use_classifier=False))
    rows = []
    for (text, _), logit in zip(samples, logits, strict=True):
        compact, hits = rules.rule_hits(text)
        ad_like = [r for cat, r in hits if cat in ("ad", "money", "spam")]
        rows.append(feature_vector(ad_like, logit, compact))
    z = np.array(rows)
    y = np.array([label for _, label in samples])
    oof = np.zeros(len(y))
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(z, y):
        m = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000).fit(z[tr], y[tr])
        oof[te] = m.predict_proba(z[te])[:, 1]
    threshold = _threshold(oof, y, max_fpr, "fusion")
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000).fit(z, y)
    return {
        "features": list(FEATURES),
        "coef": [round(float(c), 6) for c in model.coef_[0]],
        "intercept": round(float(model.intercept_[0]), 6),
        "threshold": threshold,
        "trained_on": len(y),
        "model": "logistic regression (C=1, balanced) on rule families + out-of-fold logits",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--c", type=float, default=30.0, help="inverse regularisation strength")
    ap.add_argument("--max-fpr", type=float, default=0.005, help="out-of-fold FPR target")
    ap.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="add homophone / spaced variants of the training side's Chinese ads",
    )
    ap.add_argument("--out", type=Path, default=ROOT / "src/shequn/features/moderation/models")
    args = ap.parse_args()

    texts: list[str] = []
    labels: list[int] = []
    extra_texts: list[str] = []
    extra_source: list[int] = []
    counts: dict[str, dict[str, int]] = {}
    every: list[tuple[str, int]] = []  # all training samples, short ones too (fusion)
    row_of: list[int] = []  # every[i] -> its row in texts, or -1 when too short
    for name in SETS:
        samples, bad = load_set(args.data, name)
        train = [s for s in samples if not is_held_out(s.text)]
        counts[name] = {
            "train": len(train),
            "train_positive": sum(s.label for s in train),
            "held_out": len(samples) - len(train),
            "malformed_skipped": bad,
        }
        for s in train:
            text = classifier_input(normalize(s.text).compact)
            every.append((s.text, s.label))
            row_of.append(len(texts) if len(text) >= MIN_CHARS else -1)
            if len(text) >= MIN_CHARS:  # the engine never asks about shorter texts
                if args.augment and s.label and name.startswith("qq"):
                    for v in augmented(s.text):
                        extra_texts.append(v)
                        extra_source.append(len(texts))
                texts.append(text)
                labels.append(s.label)

    vec = make_vectorizer()
    raw = vec.transform(texts)
    idf = idf_of(raw)  # from the real training texts only
    x = tfidf(raw, idf)
    y = np.array(labels)
    extra = None
    if extra_texts:
        extra = (tfidf(vec.transform(extra_texts), idf), np.array(extra_source))
    threshold, oof = choose_threshold(x, y, args.c, args.max_fpr, extra)
    fusion = fit_fusion(every, [float(oof[i]) if i >= 0 else None for i in row_of], args.max_fpr)
    model = LogisticRegression(C=args.c, class_weight="balanced", max_iter=5000)
    if extra is not None:
        import scipy.sparse as sp

        model.fit(sp.vstack([x, extra[0]]), np.r_[y, np.ones(len(extra_texts), int)])
    else:
        model.fit(x, y)
    train_acc = float(model.score(x, y))

    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out / "spam_linear.npz",
        weights=model.coef_[0].astype(np.float32),
        idf=idf,
        bias=np.array([model.intercept_[0]], dtype=np.float32),
    )
    meta = {
        "model": (
            "logistic regression on sublinear TF-IDF hashed char 1-4-grams of "
            "classifier_input(normalize(text).compact)"
        ),
        "vectorizer": {**VECTORIZER, "ngram_range": list(VECTORIZER["ngram_range"])},
        "C": args.c,
        "class_weight": "balanced",
        "scikit_learn": sklearn.__version__,
        "trained_on": dt.datetime.now(dt.UTC).date().isoformat(),
        "command": "python scripts/train_moderation.py " + " ".join(sys.argv[1:]),
        "held_out_percent": HELD_OUT_PERCENT,
        "sets": {name: {"files": SETS[name], "licence": LICENCES[name]} for name in SETS},
        "counts": counts,
        "augmented_ads": len(extra_texts),
        "augment": "homophone and spaced-homophone variants of training Chinese ads"
        if args.augment
        else "none",
        "train_accuracy": round(train_acc, 4),
        "threshold": threshold,
        "threshold_rule": f"lowest probability with out-of-fold FPR <= {args.max_fpr:.2%}",
        "fusion": fusion,
    }
    (args.out / "spam_linear.json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    size = (args.out / "spam_linear.npz").stat().st_size
    print(
        f"trained on {len(texts)} texts, train accuracy {train_acc:.4f}, "
        f"threshold {threshold}, model {size} bytes"
    )


if __name__ == "__main__":
    main()
