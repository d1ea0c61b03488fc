"""Okapi BM25 over a sparse document-term matrix (numpy + scipy.sparse)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import scipy.sparse as sp

__all__ = ["Bm25Index"]


class Bm25Index:
    """BM25 scores of a query against every document.

    :meth:`scores` also returns a *confidence* in [0, 1]: each document's score divided
    by the best score any document could reach for this query (every query term
    present with the saturated term frequency, unknown terms counted at the highest
    idf), so a query whose words the bank has never seen scores low.
    """

    def __init__(self, docs: Sequence[Sequence[str]], *, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        for i, doc in enumerate(docs):
            for tok in doc:
                rows.append(i)
                cols.append(self.vocab.setdefault(tok, len(self.vocab)))
        n_docs, n_terms = len(docs), max(len(self.vocab), 1)
        tf = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float64), (rows, cols)), shape=(n_docs, n_terms)
        )
        tf.sum_duplicates()
        lengths = np.asarray(tf.sum(axis=1)).ravel()
        avg = lengths.mean() if n_docs and lengths.mean() > 0 else 1.0
        df = np.bincount(tf.indices, minlength=n_terms)
        self.idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
        self.max_idf = float(np.log1p((n_docs + 0.5) / 0.5))
        # Pre-compute the saturated tf weight per (doc, term); a query is then one
        # sparse matrix-vector product.
        norm = k1 * (1 - b + b * lengths / avg)
        tf = tf.tocoo()
        w = tf.data * (k1 + 1) / (tf.data + norm[tf.row])
        self.weights = sp.csc_matrix((w, (tf.row, tf.col)), shape=(n_docs, n_terms))
        self.n_docs = n_docs

    def scores(
        self, query: Sequence[str], expand: Mapping[str, float] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(raw BM25 score, confidence in [0, 1]) for every document.

        ``expand`` adds related terms with a weight in (0, 1] (their idf is scaled by
        it); they can raise a document's score but not the best reachable one, so a
        confidence stays a share of what the query's own words could reach.
        """
        q = np.zeros(self.weights.shape[1])
        best = 0.0
        for tok in set(query):
            j = self.vocab.get(tok)
            if j is None:
                best += self.max_idf
            else:
                q[j] = self.idf[j]
                best += self.idf[j]
        for tok, weight in (expand or {}).items():
            j = self.vocab.get(tok)
            if j is not None:
                q[j] = max(q[j], weight * self.idf[j])
        raw = self.weights @ q
        if best <= 0:
            return raw, np.zeros(self.n_docs)
        return raw, np.minimum(raw / (best * (self.k1 + 1)), 1.0)
