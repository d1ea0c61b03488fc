"""Character n-gram TF-IDF cosine: robust to typos, inflection and unsegmented Chinese."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from shequn.text.normalize import normalize

__all__ = ["CharIndex"]


def _prep(text: str) -> str:
    return normalize(text).light


class CharIndex:
    """Cosine similarity of 2–4 character n-grams (within words) to every document."""

    def __init__(self, docs: Sequence[str], *, extra: Sequence[str] = ()) -> None:
        self._vec = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, preprocessor=_prep
        )
        # The vocabulary and idf also learn from ``extra`` (the answers), so words that
        # only answers use still count as known.
        self._vec.fit([*docs, *extra] or [""])
        self._docs = self._vec.transform(docs)

    def scores(self, query: str) -> np.ndarray:
        """Cosine similarity in [0, 1] to every document."""
        return np.asarray((self._docs @ self._vec.transform([query]).T).toarray()).ravel()
