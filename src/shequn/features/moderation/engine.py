"""The moderation engine: detectors + classifier → one :class:`Verdict`.

How a score is made (all weights 0..1):

1. The text (first ``settings.max_chars`` visible characters) is normalised once;
   hostile input (megabytes, floods of zero-width characters) costs bounded time.
2. Rule detectors (lexicon, pinyin homophones, links, contacts, selling, message kind,
   mass mentions) each give reasons; each reason points to a category.
3. The rule score is the noisy-OR of the reason weights, ``1 - Π(1 - w)``: independent
   weak signals add up, one strong signal is enough.
4. When the rules leave the score below ``act_at`` and the classifier is enabled, the
   trained classifier gives ``p``. If ``p ≥ 0.5`` it joins as one more reason (weight
   ``p``); if ``p < 0.25`` (confidently normal) the ad/spam rule weights are damped
   (× ``0.5 + 2p``), so a lone "兼职" or a GitHub link in ordinary chat is not flagged.
   Texts under ``MIN_CHARS`` characters are not classified.
5. The label is the category with the highest noisy-OR of its own reasons (classifier
   evidence counts as ``ad`` for CJK text, ``spam`` otherwise); below ``escalate_at``
   the verdict is ``ok``, between ``escalate_at`` and ``act_at`` it is uncertain.

Each moderator keeps its last 8,192 verdicts per ``(text, kind, mentions, allow)``,
holding at most 2M characters of text in all: chat repeats itself (a long ad pasted
into one group after another most expensively), and a verdict is immutable and
depends on nothing else. ``check_many`` gives the same verdicts as ``check``.

Stateful checks (flood, the same text in many groups) belong to the caller; it can use
:class:`~shequn.features.moderation.fingerprint.TextFingerprint`.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict, defaultdict
from functools import lru_cache
from operator import attrgetter

from shequn.features.moderation import detectors
from shequn.features.moderation.classifier import (
    MIN_CHARS,
    Classifier,
    classifier_input,
    load_classifier,
)
from shequn.features.moderation.fusion import Fusion, family, feature_vector
from shequn.features.moderation.lexicon import Lexicon
from shequn.features.moderation.qr import qr_hits
from shequn.features.moderation.settings import Allowlist, ModerationSettings
from shequn.features.moderation.verdict import Label, Reason, Verdict
from shequn.gcpause import paused_gc
from shequn.text import normalize, strip_invisible

__all__ = ["Moderator"]

_CJK = re.compile(r"[\u3400-\u9fff]")
_CATEGORY_LABEL: dict[str, Label] = {
    "ad": "ad",
    "money": "ad",
    "spam": "spam",
    "abuse": "abuse",
    "sensitive": "sensitive",
}
_AD_LIKE = frozenset({"ad", "money", "spam"})
_WEIGHT = attrgetter("weight")
#: Below this probability the classifier's "normal chat" opinion damps ad/spam rules.
_CONFIDENT_NORMAL = 0.25
_DEFAULT_LEXICON: Lexicon | None = None
#: Verdicts remembered per moderator (see ``Moderator.check``).
_CACHE_SIZE = 8192
#: ... and at most this many characters of their texts (bounds the cache to a few MB).
_CACHE_CHARS = 2_000_000
#: What a verdict is cached by: (text, kind, mentions, allowlist, QR payloads).
_Key = tuple[str, str, int, Allowlist | None, tuple[str, ...]]


def _default_lexicon() -> Lexicon:
    global _DEFAULT_LEXICON
    if _DEFAULT_LEXICON is None:
        _DEFAULT_LEXICON = Lexicon.build()
    return _DEFAULT_LEXICON


@lru_cache(maxsize=256)
def _normalised_words(words: frozenset[str]) -> frozenset[str]:
    """A group's allowed words in the lexicon's matching form."""
    return frozenset(normalize(w).compact for w in words)


def _sigmoid(z: float) -> float:
    """Probability of log-odds ``z`` (clamped so ``exp`` cannot overflow)."""
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def _noisy_or(weights: list[float]) -> float:
    miss = 1.0
    for w in weights:
        miss *= 1.0 - w
    return 1.0 - miss


class Moderator:
    """Checks messages against one settings profile; build once, call ``check`` often."""

    def __init__(self, settings: ModerationSettings | None = None) -> None:
        self.settings = settings or ModerationSettings()
        s = self.settings
        if s.extra_words or s.replace_default_words:
            self.lexicon = Lexicon.build(
                s.extra_words,
                extra_weight=s.extra_word_weight,
                include_defaults=not s.replace_default_words,
            )
        else:
            self.lexicon = _default_lexicon()
        self._classifier: Classifier | bool | None = False  # False: not loaded yet
        self._fusion: Fusion | bool | None = False
        # A group's own watched words are policy, not evidence to re-weigh.
        self._own_words = frozenset(
            normalize(w).compact for words in s.extra_words.values() for w in words
        )
        # Chat repeats itself (greetings, floods, the same ad in many groups): verdicts
        # are immutable, so the last few thousand are kept per (text, kind, mentions, allow,
        # qr), oldest out first. (Not a dict with ``del d[next(iter(d))]``: that scans the
        # deleted slots at its front, ~6 µs per eviction at 8,192 entries.)
        self._cache: OrderedDict[_Key, Verdict] = OrderedDict()
        self._cached_chars = 0  # characters of the cached verdicts' texts

    @property
    def classifier(self) -> Classifier | None:
        """The shipped classifier, loaded on first use (None if disabled or absent)."""
        if not self.settings.use_classifier:
            return None
        if self._classifier is False:
            self._classifier = load_classifier()
        return self._classifier  # type: ignore[return-value]

    def rule_hits(
        self,
        text: str,
        *,
        kind: str = "text",
        mentions: int = 0,
        allow: Allowlist | None = None,
        qr: tuple[str, ...] = (),
    ) -> tuple[str, list[tuple[str, Reason]]]:
        """The compact normalised text and every rule detector's ``(category, reason)``."""
        limit = self.settings.max_chars
        if len(text) > limit:  # a flood of invisible characters must not hide the tail
            text = strip_invisible(text)
        norm = normalize(text[:limit])
        allowed_words = _normalised_words(allow.words) if allow is not None else frozenset()
        hits = self.lexicon.match(norm.compact, allowed=allowed_words)
        hits += detectors.links(norm, allow)
        hits += detectors.contacts(norm, allow)
        hits += detectors.commerce(norm)
        hits += detectors.message_kind(kind)
        hits += detectors.mentions(mentions, at=self.settings.mass_mention_at)
        if qr:
            hits += qr_hits(qr, allow)
        return norm.compact, hits

    def check(
        self,
        text: str,
        *,
        kind: str = "text",
        mentions: int = 0,
        allow: Allowlist | None = None,
        member_id: str | None = None,
        qr: tuple[str, ...] = (),
    ) -> Verdict:
        """The verdict on one message (``kind``: text, card, miniprogram, invite, link…).

        ``qr`` holds the payloads of QR codes found in the message's images
        (:func:`shequn.features.moderation.qr.decode`); they are judged as evidence too.
        """
        if allow is not None and member_id is not None and member_id in allow.exempt_members:
            return Verdict(text=text, verdict="ok", score=0.0, reasons=(
                Reason("exempt", member_id, 0.0),
            ))  # fmt: skip
        key = (text, kind, mentions, allow, qr)
        found = self._cache.get(key)
        if found is not None:
            return found
        return self._remember(key, self._fresh(text, kind, mentions, allow, qr))

    def check_many(
        self,
        texts: list[str],
        *,
        kind: str = "text",
        mentions: int = 0,
        allow: Allowlist | None = None,
    ) -> list[Verdict]:
        """Verdicts on a batch of messages, the same as ``check`` one by one.

        Faster per message: the classifier scores every message the cache does not
        know in one vectorised call (:meth:`Classifier.logits`); on 5,664 distinct
        real messages that measured 8.4k msg/s against 5.0k through ``logit`` one by
        one inside the batch (``bench/moderation.py``).
        """
        keys = [(t, kind, mentions, allow, ()) for t in texts]
        cached = list(map(self._cache.get, keys))
        todo = list(dict.fromkeys(k for k, v in zip(keys, cached, strict=True) if v is None))
        if todo:
            with paused_gc():  # many small acyclic objects: reference counting frees them
                found = [
                    self.rule_hits(k[0], kind=kind, mentions=mentions, allow=allow) for k in todo
                ]
                logits = self._logits([light for light, _ in found])
                fresh = {
                    key: self._remember(key, self._decide(key[0], light, hits, logit))
                    for key, (light, hits), logit in zip(todo, found, logits, strict=True)
                }
            cached = [v if v is not None else fresh[k] for k, v in zip(keys, cached, strict=True)]
        return cached  # type: ignore[return-value]  # every None was filled

    def _fresh(
        self, text: str, kind: str, mentions: int, allow: Allowlist | None, qr: tuple[str, ...]
    ) -> Verdict:
        """The verdict worked out anew, without the cache."""
        light, hits = self.rule_hits(text, kind=kind, mentions=mentions, allow=allow, qr=qr)
        return self._decide(text, light, hits, self._logit(light))

    def _remember(self, key: _Key, verdict: Verdict) -> Verdict:
        size = len(key[0])
        if size <= _CACHE_CHARS // 8:
            cache = self._cache
            self._cached_chars += size
            while cache and (len(cache) >= _CACHE_SIZE or self._cached_chars > _CACHE_CHARS):
                self._cached_chars -= len(cache.popitem(last=False)[0][0])
            cache[key] = verdict
        return verdict

    def _logit(self, compact: str) -> float | None:
        """The classifier's log-odds, None when it is off or the text too short."""
        clf = self.classifier
        if clf is None:
            return None
        x = classifier_input(compact)
        return clf.logit(x) if len(x) >= MIN_CHARS else None

    def _logits(self, compacts: list[str]) -> list[float | None]:
        """:meth:`_logit` of many texts, the classifier called once."""
        clf = self.classifier
        if clf is None:
            return [None] * len(compacts)
        inputs = [classifier_input(c) for c in compacts]
        rows = [i for i, x in enumerate(inputs) if len(x) >= MIN_CHARS]
        out: list[float | None] = [None] * len(compacts)
        for i, z in zip(rows, clf.logits([inputs[i] for i in rows]), strict=True):
            out[i] = z
        return out

    @property
    def fusion(self) -> Fusion | None:
        """The learned combination of ad/spam evidence, when the classifier ships one."""
        if self._fusion is False:
            clf = self.classifier
            self._fusion = Fusion.from_meta(clf.meta) if clf is not None else None
        return self._fusion  # type: ignore[return-value]

    def _decide(
        self, text: str, compact: str, hits: list[tuple[str, Reason]], logit: float | None
    ) -> Verdict:
        clf, fusion = self.classifier, self.fusion
        if clf is not None and fusion is not None:
            return self._decide_fused(text, compact, hits, logit, fusion)
        s = self.settings
        rule_score = score = _noisy_or([r.weight for _, r in hits])
        if rule_score < s.act_at:
            prob = -1.0 if logit is None else _sigmoid(logit)
            if clf is not None and prob >= clf.threshold:
                category = "ad" if _CJK.search(compact) else "spam"
                hits = [*hits, (category, Reason("classifier", f"p={prob:.2f}", round(prob, 3)))]
                score = _noisy_or([r.weight for _, r in hits])
            elif 0.0 <= prob < _CONFIDENT_NORMAL and any(c in _AD_LIKE for c, _ in hits):
                # The model is sure this is ordinary chat: soften ad/spam rule evidence
                # (a lone link or "兼职"); abuse and sensitive words are not its call.
                damp = 0.5 + 2.0 * prob
                hits = [
                    (c, Reason(r.detector, r.detail, round(r.weight * damp, 3)))
                    if c in _AD_LIKE
                    else (c, r)
                    for c, r in hits
                ]
                score = _noisy_or([r.weight for _, r in hits])
        return self._verdict(text, hits, [r for _, r in hits], score)

    def _decide_fused(
        self,
        text: str,
        compact: str,
        hits: list[tuple[str, Reason]],
        logit: float | None,
        fusion: Fusion,
    ) -> Verdict:
        """Trained ad/spam evidence through the fusion model; the rest joins by noisy-OR."""
        trained: list[tuple[str, Reason]] = []
        scoring: list[tuple[str, Reason]] = []
        for category, r in hits:
            is_trained = (
                category in _AD_LIKE
                and family(r.detector) is not None
                and r.detail not in self._own_words
            )
            (trained if is_trained else scoring).append((category, r))
        p = fusion.probability(feature_vector([r for _, r in trained], logit, compact))
        if trained:
            category = max(trained, key=lambda h: h[1].weight)[0]
        else:
            category = "ad" if _CJK.search(compact) else "spam"
        fused = Reason("fusion", f"p={p:.2f}", round(fusion.weight(p, self.settings.act_at), 3))
        scoring.append((category, fused))
        evidence = [r for _, r in scoring] + [r for _, r in trained]
        if fused.weight < 0.05 and not trained:  # no ad/spam case to answer
            scoring.pop()
            evidence.remove(fused)
        elif logit is not None:
            q = _sigmoid(logit)
            evidence.append(Reason("classifier", f"p={q:.2f}", round(q, 3)))
        score = _noisy_or([r.weight for _, r in scoring])
        return self._verdict(text, scoring, evidence, score)

    def _verdict(
        self, text: str, scoring: list[tuple[str, Reason]], evidence: list[Reason], score: float
    ) -> Verdict:
        """Label = the category with the strongest noisy-OR among the ``scoring`` hits."""
        s = self.settings
        score = round(score, 4)
        # stable: equal weights keep the order the detectors gave them
        reasons = tuple(sorted(evidence, key=_WEIGHT, reverse=True))
        if not scoring or score < s.escalate_at:
            return Verdict(text=text, verdict="ok", score=score, reasons=reasons)
        by_category: dict[str, list[float]] = defaultdict(list)
        for category, reason in scoring:
            by_category[category].append(reason.weight)
        top = max(by_category, key=lambda c: _noisy_or(by_category[c]))
        return Verdict(
            text=text,
            verdict=_CATEGORY_LABEL.get(top, "spam"),
            score=score,
            reasons=reasons,
            uncertain=score < s.act_at,
        )
