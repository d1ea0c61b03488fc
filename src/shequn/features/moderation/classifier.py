"""The trained ad/spam classifier for what the rules miss.

A linear model (logistic regression) over TF-IDF-weighted (sublinear tf) hashed
character 1–4-grams of the *compact* normalised text (:func:`shequn.text.normalize`,
then :func:`classifier_input`), so the evasion tricks the normaliser undoes do not
change its input. The model ships as ``models/spam_linear.npz`` (float32 weights and
idf, one per hashed feature, and the bias) with ``models/spam_linear.json``
(vectoriser parameters, decision threshold, training record); see ``models/README.md``. It is loaded
lazily, once per process; nothing is downloaded.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from functools import cache
from importlib import resources
from itertools import chain
from typing import Any, cast

import numpy as np

__all__ = ["VECTORIZER", "Classifier", "classifier_input", "load_classifier", "make_vectorizer"]

#: Texts shorter than this (after :func:`classifier_input`) are not classified: a few
#: characters carry too little evidence and short chat is where false positives were.
MIN_CHARS = 6

_WHITE_SPACES = re.compile(r"\s\s+")  # as scikit-learn's char analyzer
_MENTION = re.compile(r"@\d{5,}|@[a-z][a-z0-9_]{4,31}")
_LONG_DIGITS = re.compile(r"\d{5,}")
_DIGITS = re.compile(r"\d+")


def classifier_input(compact_text: str) -> str:
    """What the model sees: compact text with @-mentions dropped and numbers masked.

    Long numbers (5+ digits: QQ, phone, order numbers) become ``#``, short ones ``0``,
    so the model learns "a long number is here", not particular numbers.
    """
    text = _MENTION.sub(" ", compact_text)
    text = _LONG_DIGITS.sub("#", text)
    return _DIGITS.sub("0", text).strip()


#: Parameters of the hashing vectoriser; training and run time must agree.
VECTORIZER: dict[str, Any] = {
    "analyzer": "char",
    "ngram_range": (1, 4),
    "n_features": 2**18,
    "alternate_sign": False,
    "norm": None,
    "lowercase": False,
}


def make_vectorizer(params: dict[str, Any] | None = None) -> Any:
    """The (stateless) scikit-learn ``HashingVectorizer`` the model was trained with."""
    from sklearn.feature_extraction.text import HashingVectorizer

    p = dict(params or VECTORIZER)
    p["ngram_range"] = tuple(p["ngram_range"])
    return HashingVectorizer(**p)


def idf_of(counts: Any) -> np.ndarray:
    """Smoothed idf (as scikit-learn's ``TfidfTransformer``) of a count matrix."""
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    return (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)


def tfidf(counts: Any, idf: np.ndarray) -> Any:
    """Sublinear tf (``1 + log tf``) × idf, rows scaled to unit length."""
    from sklearn.preprocessing import normalize as l2

    x = counts.tocsr().astype(np.float64)
    x.data = 1.0 + np.log(x.data)
    x = x.multiply(idf.astype(np.float64)).tocsr()
    return l2(x, norm="l2", copy=False)


class Classifier:
    """Probability that a :func:`classifier_input` text is an ad or spam.

    Scoring is done here in plain Python instead of through scikit-learn: the same
    character n-grams, the same MurmurHash3 feature index (so the same features as
    ``HashingVectorizer``), sublinear tf × idf, unit length, dot product. Per message
    that is ~20× faster than a ``transform`` call; ``tests/moderation`` checks both
    paths agree. Hashes of n-grams seen before are cached.
    """

    def __init__(
        self, weights: np.ndarray, idf: np.ndarray, bias: float, meta: dict[str, Any]
    ) -> None:
        self.meta = meta
        vec = dict(meta.get("vectorizer") or VECTORIZER)
        self._n_features = int(vec["n_features"])
        self._min_n, self._max_n = (int(v) for v in vec["ngram_range"])
        self._weights = weights.astype(np.float64)
        self._idf = idf.astype(np.float64)
        self.bias = bias
        self._index: dict[str, int] = {}
        # feature indexes of the 1..4-grams starting at one position, per 4-character
        # window (shorter at the end of a text, padded with -1): one lookup instead of four
        self._windows: dict[str, tuple[int, ...]] = {}
        self._by_window = (self._min_n, self._max_n) == (1, 4)

    @property
    def threshold(self) -> float:
        """Probability from which the model's opinion counts (chosen at training time)."""
        return float(self.meta.get("threshold", 0.5))

    def _feature(self, gram: str) -> int:
        from sklearn.utils.murmurhash import murmurhash3_32

        h = int(murmurhash3_32(gram, seed=0))
        idx = (2147483647 - (self._n_features - 1)) if h == -2147483648 else abs(h)
        if len(self._index) > 200_000:  # bounded cache
            self._index.clear()
        self._index[gram] = found = idx % self._n_features
        return found

    def _window(self, window: str) -> tuple[int, ...]:
        known = self._index.get
        feats = [-1, -1, -1, -1]
        for n in range(len(window)):
            gram = window[: n + 1]
            f = known(gram)
            feats[n] = self._feature(gram) if f is None else f
        found = tuple(feats)
        if len(self._windows) > 200_000:  # bounded cache
            self._windows.clear()
        self._windows[window] = found
        return found

    def _counts(self, text: str) -> Counter[int]:
        """Feature index → count of the text's 1..4-grams, in the order of ``logit``'s
        gram list (all 1-grams left to right, then all 2-grams, …)."""
        size = len(text)
        windows = [text[i : i + 4] for i in range(size)]
        found = list(map(self._windows.get, windows))
        if None in found:
            found = [
                f if f is not None else self._window(w) for f, w in zip(found, windows, strict=True)
            ]
        # column n holds the n-grams of every position, -1 where the text ends first
        counts = Counter(chain.from_iterable(zip(*found, strict=True)))
        counts.pop(-1, None)
        return counts

    def logit(self, text: str) -> float:
        """The model's log-odds for one text."""
        text = _WHITE_SPACES.sub(" ", text)
        if self._by_window:
            if not text:
                return self.bias
            return self._score(self._counts(text))
        size = len(text)
        grams: list[str] = []
        for n in range(self._min_n, min(self._max_n, size) + 1):
            grams += [text[i : i + n] for i in range(size - n + 1)]
        if not grams:
            return self.bias
        feats = list(map(self._index.get, grams))
        if None in feats:
            feats = [
                f if f is not None else self._feature(g) for f, g in zip(feats, grams, strict=True)
            ]
        return self._score(Counter(cast("list[int]", feats)))  # no None left

    def _score(self, counts: Counter[int]) -> float:
        keys = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        v = (1.0 + np.log(tf)) * self._idf[keys]
        return float(v @ self._weights[keys]) / math.sqrt(float(v @ v)) + self.bias

    def predict(self, texts: list[str]) -> list[float]:
        """One probability per text."""
        return [self.predict_one(t) for t in texts]

    def predict_one(self, text: str) -> float:
        z = max(-50.0, min(50.0, self.logit(text)))
        return 1.0 / (1.0 + math.exp(-z))


@cache
def load_classifier() -> Classifier | None:
    """The shipped model, or None when the package was built without it."""
    models = resources.files("shequn.features.moderation") / "models"
    arrays = models / "spam_linear.npz"
    meta_file = models / "spam_linear.json"
    if not arrays.is_file() or not meta_file.is_file():
        return None
    with arrays.open("rb") as fh:
        data = np.load(fh)
        weights, idf, bias = data["weights"], data["idf"], float(data["bias"][0])
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    return Classifier(weights, idf, bias, meta)
