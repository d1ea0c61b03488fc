"""What moderation says about one message: the contract between detectors and the engine."""

from __future__ import annotations

from typing import Literal

import msgspec

Label = Literal["ok", "ad", "spam", "abuse", "sensitive"]


class Reason(msgspec.Struct, frozen=True):
    """One piece of evidence: which detector, what it matched, how strongly (0..1)."""

    detector: str
    detail: str
    weight: float


class Verdict(msgspec.Struct, frozen=True):
    """``verdict`` is the label; ``score`` 0..1 its confidence; ``reasons`` the evidence.

    ``uncertain`` marks verdicts the engine should escalate to a human instead of
    acting on (score between the group's act and ignore thresholds).
    """

    text: str
    verdict: Label
    score: float
    reasons: tuple[Reason, ...] = ()
    uncertain: bool = False
