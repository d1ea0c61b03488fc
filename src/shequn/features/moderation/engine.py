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

Each moderator keeps its last 8,192 verdicts per ``(text, kind, mentions, allow)``
(texts up to 500 characters): chat repeats itself, and a verdict is immutable and
depends on nothing else. ``check_many`` gives the same verdicts as ``check``.

Stateful checks (flood, the same text in many groups) belong to the caller; it can use
:class:`~shequn.features.moderation.fingerprint.TextFingerprint`.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
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
#: Longer texts are not cached (bounds the cache to a few MB; long texts rarely repeat).
_CACHEABLE_CHARS = 500


def _default_lexicon() -> Lexicon:
    global _DEFAULT_LEXICON
    if _DEFAULT_LEXICON is None:
        _DEFAULT_LEXICON = Lexicon.build()
    return _DEFAULT_LEXICON


@lru_cache(maxsize=256)
def _normalised_words(words: frozenset[str]) -> frozenset[str]:
    """A group's allowed words in the lexicon's matching form."""
    return frozenset(normalize(w).compact for w in words)


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
        # are immutable, so the last few thousand are kept per (text, kind, mentions, allow).
        self._cached_check = lru_cache(maxsize=_CACHE_SIZE)(self._check)

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
        if len(text) > _CACHEABLE_CHARS:
            return self._check(text, kind, mentions, allow, qr)
        return self._cached_check(text, kind, mentions, allow, qr)

    def _check(
        self, text: str, kind: str, mentions: int, allow: Allowlist | None, qr: tuple[str, ...] = ()
    ) -> Verdict:
        light, hits = self.rule_hits(text, kind=kind, mentions=mentions, allow=allow, qr=qr)
        return self._decide(text, light, hits)

    def check_many(self, texts: list[str]) -> list[Verdict]:
        """Plain text messages in a batch (the same verdicts as ``check`` one by one)."""
        check = self._cached_check
        return [
            check(t, "text", 0, None, ())
            if len(t) <= _CACHEABLE_CHARS
            else self._check(t, "text", 0, None)
            for t in texts
        ]

    def _probability(self, compact: str) -> float:
        clf = self.classifier
        if clf is None:
            return -1.0
        x = classifier_input(compact)
        return clf.predict_one(x) if len(x) >= MIN_CHARS else -1.0

    @property
    def fusion(self) -> Fusion | None:
        """The learned combination of ad/spam evidence, when the classifier ships one."""
        if self._fusion is False:
            clf = self.classifier
            self._fusion = Fusion.from_meta(clf.meta) if clf is not None else None
        return self._fusion  # type: ignore[return-value]

    def _decide(self, text: str, compact: str, hits: list[tuple[str, Reason]]) -> Verdict:
        clf, fusion = self.classifier, self.fusion
        if clf is not None and fusion is not None:
            return self._decide_fused(text, compact, hits, clf, fusion)
        s = self.settings
        rule_score = score = _noisy_or([r.weight for _, r in hits])
        if rule_score < s.act_at:
            prob = self._probability(compact)
            clf = self.classifier
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
        clf: Classifier,
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
        x = classifier_input(compact)
        logit = clf.logit(x) if len(x) >= MIN_CHARS else None
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
            q = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit))))
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
