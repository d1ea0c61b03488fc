"""The learned combination of ad/spam evidence: rule detectors + the classifier → one probability.

Hand-set rule weights joined by noisy-OR over-trust some signals (a lone price, a
link) and under-trust others (a contact handle in a sales pitch). ``scripts/train_moderation.py``
fits a small logistic regression on the training side of the labelled sets whose inputs
are, per message, the strongest weight of each *trained* rule family (:data:`FEATURES`),
the classifier's out-of-fold log-odds, and two shape features (short text, CJK). Its
decision threshold is the lowest probability whose out-of-fold false-positive rate
stays within the target; the model ships in ``models/spam_linear.json`` under ``fusion``.

Evidence the labelled sets cannot teach (message kinds such as name cards and
mini-programs, mass mentions, a group's own watched words) stays *direct*: it is
joined to the fused probability by noisy-OR, with its hand-set weight, exactly as
before. Abuse and sensitive words are their own labels and never enter the fusion.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from shequn.features.moderation.verdict import Reason

__all__ = ["FEATURES", "Fusion", "family", "feature_vector"]

#: Rule families the labelled sets carry signal for, in the model's input order.
RULE_FAMILIES = (
    "lexicon.ad",
    "lexicon.money",
    "pinyin",
    "link",
    "link.invite",
    "link.shortener",
    "commerce.price",
    "commerce.taobao",
    "contact",
)
#: Every input of the fusion model, in order.
FEATURES = (*RULE_FAMILIES, "logit", "short", "cjk", "logit_cjk", "log_len")

_CJK = re.compile(r"[\u3400-\u9fff]")
_LOGIT_CLIP = 10.0


@lru_cache(maxsize=1024)  # detector names are a small fixed set; asked per reason
def family(detector: str) -> str | None:
    """The trained family a detector's reason belongs to, or None (direct evidence)."""
    if detector in RULE_FAMILIES:
        return detector
    if detector.startswith("contact."):
        return "contact"
    if (
        detector.startswith("pinyin.")
        and detector != "pinyin.abuse"
        and detector != "pinyin.sensitive"
    ):
        return "pinyin"
    return None


def feature_vector(reasons: Iterable[Reason], logit: float | None, text: str) -> list[float]:
    """The fusion model's inputs for one message (``logit`` None: too short to classify)."""
    strongest = dict.fromkeys(RULE_FAMILIES, 0.0)
    for r in reasons:
        fam = family(r.detector)
        if fam is not None and r.weight > strongest[fam]:
            strongest[fam] = r.weight
    short = logit is None
    z = 0.0 if logit is None else max(-_LOGIT_CLIP, min(_LOGIT_CLIP, logit))
    cjk = 1.0 if _CJK.search(text) else 0.0
    return [
        *strongest.values(),
        z,
        float(short),
        cjk,
        z * cjk,
        math.log1p(len(text)),
    ]


class Fusion:
    """The shipped fusion model: weights over :data:`FEATURES`, a bias and a threshold."""

    def __init__(self, coef: list[float], intercept: float, threshold: float) -> None:
        if len(coef) != len(FEATURES):
            raise ValueError(f"fusion model has {len(coef)} weights, expected {len(FEATURES)}")
        self.coef = coef
        self.intercept = intercept
        self.threshold = threshold

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> Fusion | None:
        raw = meta.get("fusion")
        if not raw:
            return None
        if list(raw.get("features", ())) != list(FEATURES):
            return None  # trained for another feature set: fall back to the rules
        return cls(
            [float(c) for c in raw["coef"]], float(raw["intercept"]), float(raw["threshold"])
        )

    def probability(self, features: list[float]) -> float:
        z = self.intercept + sum(c * f for c, f in zip(self.coef, features, strict=True))
        z = max(-50.0, min(50.0, z))
        return 1.0 / (1.0 + math.exp(-z))

    def weight(self, p: float, act_at: float) -> float:
        """``p`` on the engine's score scale: the model's threshold lands on ``act_at``.

        Piecewise linear and monotone, so the group's escalation band (between
        ``escalate_at`` and ``act_at``) holds the messages the model is nearly sure of.
        """
        t = self.threshold
        if p < t:
            return p / t * act_at
        return act_at + (p - t) / (1.0 - t) * (1.0 - act_at) if t < 1.0 else 1.0
