"""How high can a text classifier go on these spam sets? Cross-validated F1 per model family.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/moderation_ceiling.py [--data ../shared/data]

Only the training side of the fixed split is used (the held-out 30 % stays unseen), in
5 stratified folds: every text is scored by a model that never saw it. For each model
family and each set it prints two F1 figures on those out-of-fold scores:

``at-FPR``  the threshold the shipped model's rule picks (the score above which 0.5 % of
            all normal texts, every set together, would be acted on), as the bot acts;
``best``    the best F1 over every threshold chosen *for that set alone*, knowing its
            labels: an optimistic ceiling no deployed threshold reaches.

The first family is the shipped model's (character 1–4-grams, logistic regression; the
shipped one hashes the same n-grams). The others are what a stronger text model here
could be without downloading one: longer n-grams, jieba words beside characters, a
linear SVM, a model for the QQ sets only, and the multilingual static sentence
embeddings that ship inside a package (``tokenlearn-static-model``) beside characters.
If even ``best`` stays well under a target, the target is out of reach of this data
and model class (label noise, texts too short to tell), not of a threshold.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from shequn.features.moderation.classifier import classifier_input  # noqa: E402
from shequn.features.moderation.datasets import SETS, is_held_out, load_set  # noqa: E402
from shequn.text import normalize  # noqa: E402

REPORTED = ("qq_group", "qq_review", "sms", "telegram")


def _chars(lo: int, hi: int) -> Callable[[], Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return lambda: TfidfVectorizer(
        analyzer="char", ngram_range=(lo, hi), sublinear_tf=True, lowercase=False
    )


def _words() -> Any:
    import jieba
    from sklearn.feature_extraction.text import TfidfVectorizer

    jieba.setLogLevel(60)
    return TfidfVectorizer(
        tokenizer=lambda t: [w for w in jieba.lcut(t) if w.strip()],
        token_pattern=None,
        ngram_range=(1, 2),
        sublinear_tf=True,
        lowercase=False,
    )


class _Static:
    """The multilingual static embeddings that ship in ``tokenlearn-static-model`` (the
    FAQ matcher's, loaded by model2vec from the package folder), as a feature block."""

    def __init__(self) -> None:
        from model2vec import StaticModel

        from shequn.features.faq.embed import model_path

        path = model_path()
        if path is None:
            raise SystemExit("tokenlearn-static-model is not installed")
        self.model = StaticModel.from_pretrained(str(path))

    def fit_transform(self, texts: list[str]) -> Any:
        return self.transform(texts)

    def transform(self, texts: list[str]) -> Any:
        import scipy.sparse as sp

        return sp.csr_matrix(self.model.encode(list(texts)))


#: name → (feature makers, model maker, minimum characters, sets trained on or None: all)
FAMILIES: dict[str, tuple[tuple[Callable[[], Any], ...], Callable[[], Any], int, Any]] = {}


def _families() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    def lr(c: float) -> Callable[[], Any]:
        return lambda: LogisticRegression(C=c, class_weight="balanced", max_iter=5000)

    def svm() -> Any:
        return LinearSVC(C=1.0, class_weight="balanced")

    qq = ("qq_group", "qq_extra", "qq_review")
    FAMILIES.update({
        "shipped: chars 1-4, logistic": ((_chars(1, 4),), lr(30), 6, None),
        "chars 1-4, logistic, short texts too": ((_chars(1, 4),), lr(30), 2, None),
        "chars 1-5, logistic": ((_chars(1, 5),), lr(30), 6, None),
        "chars 1-4 + jieba words, linear SVM": ((_chars(1, 4), _words), svm, 2, None),
        "chars 1-4 + jieba words, SVM, QQ sets only": ((_chars(1, 4), _words), svm, 1, qq),
        "chars 1-4 + static embeddings, SVM": ((_chars(1, 4), _Static), svm, 2, None),
    })  # fmt: skip


def _f1(flag: np.ndarray, y: np.ndarray) -> float:
    tp = int((flag & (y == 1)).sum())
    wrong = int((flag & (y == 0)).sum()) + int((~flag & (y == 1)).sum())
    return 2 * tp / (2 * tp + wrong) if tp else 0.0


def _best_f1(score: np.ndarray, y: np.ndarray) -> float:
    return max((_f1(score >= t, y) for t in np.unique(score)), default=0.0)


def out_of_fold(
    texts: list[str], y: np.ndarray, family: tuple[Any, ...], keep: np.ndarray
) -> np.ndarray:
    import scipy.sparse as sp
    from sklearn.model_selection import StratifiedKFold

    makers, model, min_chars, _ = family
    score = np.full(len(y), -np.inf)  # too short, or not trained for: never acted on
    idx = np.where(keep & (np.array([len(t) for t in texts]) >= min_chars))[0]
    folds = StratifiedKFold(5, shuffle=True, random_state=0).split(idx, y[idx])
    for tr, te in folds:
        tr, te = idx[tr], idx[te]
        xs_tr, xs_te = [], []
        for make in makers:
            vec = make()
            xs_tr.append(vec.fit_transform([texts[i] for i in tr]))
            xs_te.append(vec.transform([texts[i] for i in te]))
        m = model().fit(sp.hstack(xs_tr).tocsr(), y[tr])
        score[te] = m.decision_function(sp.hstack(xs_te).tocsr())
    return score


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = ap.parse_args()
    _families()

    texts: list[str] = []
    labels: list[int] = []
    source: list[str] = []
    for name in SETS:
        for s in load_set(args.data, name)[0]:
            if not is_held_out(s.text):
                texts.append(classifier_input(normalize(s.text).compact))
                labels.append(s.label)
                source.append(name)
    y, src = np.array(labels), np.array(source)
    print(f"training side: {len(y)} texts, {int(y.sum())} positive; 5-fold out-of-fold F1")
    print(f"{'family':46s}" + "".join(f"{n:>20s}" for n in REPORTED) + "   seconds")
    print(f"{'':46s}" + f"{'at-FPR / best':>20s}" * len(REPORTED))
    for name, family in FAMILIES.items():
        started = time.perf_counter()
        keep = np.isin(src, family[3]) if family[3] else np.ones(len(y), bool)
        score = out_of_fold(texts, y, family, keep)
        neg = np.sort(score[keep & (y == 0)])[::-1]
        cut = neg[int(0.005 * len(neg))]  # 0.5 % of the normal texts score above it
        cells = []
        for set_name in REPORTED:
            m = src == set_name
            if not keep[m].any():
                cells.append(f"{'-':>20s}")
                continue
            at, best = _f1(score[m] > cut, y[m]), _best_f1(score[m], y[m])
            cells.append(f"{at:>12.3f} / {best:.3f}")
        print(f"{name:46s}" + "".join(cells) + f"{time.perf_counter() - started:10.1f}")


if __name__ == "__main__":
    main()
