"""Suggestions of new FAQ entries: the questions asked again and again that the bot
could not answer, clustered by similarity.

Source: ``faq_questions`` rows the bot did not answer (below the threshold, no bank,
or marked 没用), whether or not a human answered them since. Similarity is the mean of
two TF-IDF cosines: character 2–4-grams (typos, unsegmented Chinese) and the matcher's
word tokens (jieba words, stemmed English); clusters come from average-linkage
agglomerative clustering cut at ``min_similarity``. Each cluster with at least
``min_count`` questions is a suggestion, represented by its medoid (the question most
similar to the others).

Calibration (adjusted Rand index against the true groups, 3 disjoint sets of 40
StackFAQ questions × 5 paraphrases): char+word at 0.25 gives 0.58 / 0.63 / 0.61; char
alone 0.57 / 0.58 / 0.72; adding the static embeddings moved the best cut but not the
score, so they are left out (clusters then do not depend on an optional model).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer
from sqlalchemy import Connection, select

from shequn.features.faq.tokens import tokenize
from shequn.store import schema
from shequn.text.normalize import normalize

__all__ = ["Suggestion", "cluster_questions", "suggest"]

#: Outcomes of questions that a new entry could have answered.
UNANSWERED = ("missed", "unmatched", "unhelpful")
#: Average similarity within a cluster (see the calibration in the module docstring).
MIN_SIMILARITY = 0.25


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A cluster of similar unanswered questions: a candidate FAQ entry."""

    representative: str
    count: int
    askers: int  # distinct members who asked
    groups: tuple[str, ...]
    questions: tuple[str, ...]  # every phrasing, most typical first (variants to add)
    answered_by_humans: int  # how many a person answered: their answers are the draft


def _prep(text: str) -> str:
    return normalize(text).light


def similarity(texts: list[str]) -> np.ndarray:
    """Pairwise similarity in [0, 1] (see the module docstring)."""
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True,
                            preprocessor=_prep).fit_transform(texts)  # fmt: skip
    words = TfidfVectorizer(analyzer=tokenize, sublinear_tf=True).fit_transform(texts)
    sim = ((chars @ chars.T).toarray() + (words @ words.T).toarray()) / 2
    return np.asarray(np.clip(sim, 0.0, 1.0))


def cluster_questions(
    texts: list[str],
    *,
    min_similarity: float = MIN_SIMILARITY,
) -> list[list[int]]:
    """Clusters of ``texts`` as lists of indices, the medoid first, largest first."""
    if len(texts) < 2:
        return [[0]] if texts else []
    sim = similarity(texts)
    labels = AgglomerativeClustering(
        n_clusters=None,
        metric="precomputed",
        linkage="average",
        distance_threshold=1.0 - min_similarity,
    ).fit_predict(1.0 - sim)
    out = []
    for label in np.unique(labels):
        idx = np.flatnonzero(labels == label)
        typical = sim[np.ix_(idx, idx)].mean(axis=1)
        out.append([int(i) for i in idx[np.argsort(-typical, kind="stable")]])
    return sorted(out, key=lambda c: (-len(c), c[0]))


def suggest(
    conn: Connection,
    *,
    platform: str | None = None,
    group_id: str | None = None,
    min_count: int = 3,
    since: float | None = None,
    limit: int = 5000,
    min_similarity: float = MIN_SIMILARITY,
) -> list[Suggestion]:
    """Candidate entries from the unanswered questions (the latest ``limit``)."""
    f = schema.faq_questions
    q = select(f.c.text, f.c.member_id, f.c.group_id, f.c.answered_by).where(
        f.c.outcome.in_(UNANSWERED)
    )
    if platform is not None:
        q = q.where(f.c.platform == platform)
    if group_id is not None:
        q = q.where(f.c.group_id == group_id)
    if since is not None:
        q = q.where(f.c.ts >= since)
    rows = list(conn.execute(q.order_by(f.c.ts.desc()).limit(limit)))
    rows = [r for r in rows if len(r.text.strip()) >= 3]
    clusters = cluster_questions([r.text.strip() for r in rows], min_similarity=min_similarity)
    out = []
    for idx in clusters:
        if len(idx) < min_count:
            continue
        members = [rows[i] for i in idx]
        texts = list(dict.fromkeys(r.text.strip() for r in members))
        out.append(
            Suggestion(
                representative=texts[0],
                count=len(members),
                askers=len({r.member_id for r in members}),
                groups=tuple(g for g, _ in Counter(r.group_id for r in members).most_common()),
                questions=tuple(texts),
                answered_by_humans=sum(r.answered_by is not None for r in members),
            )
        )
    return out
