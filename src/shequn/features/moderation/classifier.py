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
import threading
from collections.abc import Callable
from functools import cache
from importlib import resources
from itertools import chain
from typing import Any

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


#: Text positions per cached window: a window is the ``_STEP + max_n - 1`` characters
#: from a position, and one row of the feature table holds the features of the n-grams
#: that start at its first ``_STEP`` positions. Longer windows mean fewer dictionary
#: look-ups per text but fewer repeats (a miss costs one row of n-gram look-ups).
_STEP = 4
#: Bound on the cached windows (rows of the feature table, ~128 bytes each).
_MAX_WINDOWS = 200_000
#: Texts per vectorised chunk of :meth:`Classifier.logits` (keeps the sort in cache).
_CHUNK = 1024


class _Rows(dict[str, int]):
    """Window text → its row in :attr:`table`: the feature indexes of the n-grams that
    start at the window's first ``_STEP`` positions (``pad`` where the window, i.e. the
    text, ends first). A miss builds the row from the features of the n-grams at each
    position (cached per ``max_n`` characters) and queues it; :meth:`table` writes the
    queue into the numpy table. Rows are only ever added, so an id stays valid."""

    def __init__(self, feature: Callable[[str], int], pad: int, min_n: int, max_n: int):
        super().__init__()
        self._feature = feature
        self._pad = pad
        self._min_n, self._max_n = min_n, max_n
        self._lock = threading.Lock()
        self._table: np.ndarray = np.full((256, _STEP * (max_n - min_n + 1)), pad, np.intp)
        self._done = 0  # rows written into _table
        self._queue: list[list[int]] = []
        self._starts: dict[str, tuple[int, ...]] = {}  # max_n characters → their n-grams

    def _start(self, text: str) -> tuple[int, ...]:
        found = self._starts.get(text)
        if found is None:
            size, feature = len(text), self._feature
            found = tuple(
                feature(text[:n]) if n <= size else self._pad
                for n in range(self._min_n, self._max_n + 1)
            )
            self._starts[text] = found
        return found

    def __missing__(self, window: str) -> int:
        m, known = self._max_n, self._starts.get
        row: list[int] = []
        for p in range(_STEP):
            at = window[p : p + m]
            row += known(at) or self._start(at)
        with self._lock:
            found = self.get(window)
            if found is not None:
                return found
            i = len(self)
            self._queue.append(row)
            self[window] = i
        return i

    def table(self) -> np.ndarray:
        """The feature table with every row handed out so far."""
        if self._queue:
            with self._lock:
                queue, self._queue = self._queue, []
                table, start = self._table, self._done
                if start + len(queue) > len(table):
                    grown = np.full((2 * (start + len(queue)), table.shape[1]), self._pad, np.intp)
                    grown[:start] = table[:start]
                    table = grown
                if queue:
                    table[start : start + len(queue)] = queue
                self._table, self._done = table, start + len(queue)
        return self._table


class Classifier:
    """Probability that a :func:`classifier_input` text is an ad or spam.

    Scoring is done here instead of through scikit-learn: the same character n-grams,
    the same MurmurHash3 feature index (so the same features as ``HashingVectorizer``),
    sublinear tf × idf, unit length, dot product; ``tests/moderation`` checks the paths
    agree. A text is cut into windows of ``_STEP + 3`` characters every ``_STEP``
    positions; each distinct window is hashed once and kept as a row of feature indexes
    in a numpy table, so scoring a text is a few dictionary look-ups and a handful of
    numpy calls: gather the rows, count repeated features in a per-thread scratch array,
    and sum ``w·idf·(1 + log tf)/tf`` and ``idf²·(1 + log tf)²/tf`` over the occurrences.
    :meth:`logits` scores many texts with one set of numpy calls per chunk.
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
        # feature index self._n_features is the padding: it scores nothing
        self._pad = self._n_features
        # per feature: (weight·idf, idf²), the padding row zero
        self._ab = np.zeros((self._n_features + 1, 2))
        self._ab[:-1, 0] = self._weights * self._idf
        self._ab[:-1, 1] = self._idf * self._idf
        self._tf_table(1024)
        self._window = _STEP + self._max_n - 1
        self._slices: list[slice] = []
        self._rows = self._new_rows()
        self._local = threading.local()

    @property
    def threshold(self) -> float:
        """Probability from which the model's opinion counts (chosen at training time)."""
        return float(self.meta.get("threshold", 0.5))

    def _new_rows(self) -> _Rows:
        return _Rows(self._feature, self._pad, self._min_n, self._max_n)

    def _tf_table(self, size: int) -> np.ndarray:
        """Per term count k: ((1 + log k)/k, (1 + log k)²/k); summed over the k
        occurrences of a feature they give its sublinear tf and tf²."""
        k = np.arange(size, dtype=np.float64)
        k[0] = 1.0
        tf = 1.0 + np.log(k)
        table = np.stack([tf / k, tf * tf / k], axis=1)
        self._tf = table
        return table

    def _feature(self, gram: str) -> int:
        found = self._index.get(gram)
        if found is not None:
            return found
        from sklearn.utils.murmurhash import murmurhash3_32

        h = int(murmurhash3_32(gram, seed=0))
        idx = (2147483647 - (self._n_features - 1)) if h == -2147483648 else abs(h)
        if len(self._index) > 200_000:  # bounded cache
            self._index.clear()
        self._index[gram] = found = idx % self._n_features
        return found

    def _rows_for(self, longest: int) -> tuple[_Rows, list[slice]]:
        """The window cache (a fresh one when full) and window slices for ``longest``."""
        rows = self._rows
        if len(rows) > _MAX_WINDOWS:
            rows = self._rows = self._new_rows()
        slices = self._slices
        if len(slices) < longest:
            step, width = _STEP, self._window
            slices = self._slices = [slice(i * step, i * step + width) for i in range(longest)]
        return rows, slices

    def logit(self, text: str) -> float:
        """The model's log-odds for one text."""
        text = _WHITE_SPACES.sub(" ", text)
        if not text:
            return self.bias
        n = -(-len(text) // _STEP)  # windows
        rows, slices = self._rows_for(n)
        ids = np.fromiter(map(rows.__getitem__, map(text.__getitem__, slices[:n])), np.intp, n)
        feats = rows.table().take(ids, 0).ravel()
        counts = getattr(self._local, "counts", None)
        if counts is None:
            counts = self._local.counts = np.zeros(self._pad + 1, dtype=np.intp)
        tf = self._tf if len(feats) < len(self._tf) else self._tf_table(2 * len(feats))
        np.add.at(counts, feats, 1)
        try:
            k = counts.take(feats)
        finally:
            counts[feats] = 0
        # columns: weight·idf and idf² per occurrence times (1 + log k)/k and (1 + log k)²/k
        sums = self._ab.take(feats, 0).T @ tf.take(k, 0)
        return float(sums[0, 0]) / math.sqrt(float(sums[1, 1])) + self.bias

    def logits(self, texts: list[str]) -> list[float]:
        """:meth:`logit` of many texts (the same values up to float rounding), faster
        per text: the counting and sums are vectorised over chunks of texts."""
        out: list[float] = []
        for start in range(0, len(texts), _CHUNK):
            out += self._logits(texts[start : start + _CHUNK])
        return out

    def _logits(self, texts: list[str]) -> list[float]:
        texts = [_WHITE_SPACES.sub(" ", t) for t in texts]
        windows = [-(-len(t) // _STEP) for t in texts]
        rows, slices = self._rows_for(max(windows, default=0))
        get = rows.__getitem__
        ids = np.fromiter(
            chain.from_iterable(
                map(get, map(t.__getitem__, slices[:n]))
                for t, n in zip(texts, windows, strict=True)
            ),
            np.intp,
            sum(windows),
        )
        feats = rows.table().take(ids, 0)
        # one int64 key per (text, feature) occurrence, the padding dropped
        span = self._pad + 1
        doc = np.repeat(np.arange(len(texts), dtype=np.int64) * span, windows)
        keys = (feats + doc[:, None])[feats != self._pad]
        keys.sort()
        starts = np.flatnonzero(np.diff(keys, prepend=-1))
        tf = 1.0 + np.log(np.diff(starts, append=len(keys)))
        doc, feat = np.divmod(keys[starts], span)
        v = tf * self._idf[feat]
        num = np.bincount(doc, v * self._weights[feat], minlength=len(texts))
        den = np.bincount(doc, v * v, minlength=len(texts))
        den[den == 0.0] = 1.0  # empty text: num is 0 too, the logit the bias
        return (num / np.sqrt(den) + self.bias).tolist()


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
