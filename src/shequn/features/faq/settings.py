"""Settings of FAQ auto-reply in a group (``[groups.faq]`` in shequn.toml).

Parsed generically with msgspec: the ``Annotated`` constraints below are checked on
load and an error names the key (``groups[0].faq.threshold: Expected `float` <= 1``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import msgspec

from shequn.features.faq.matcher import DEFAULT_THRESHOLD

__all__ = ["FaqSettings"]

Fraction = Annotated[float, msgspec.Meta(ge=0, le=1)]
NonNegative = Annotated[float, msgspec.Meta(ge=0)]


@dataclass(frozen=True, slots=True)
class FaqSettings:
    enabled: bool = False
    # Path of the FAQ bank (.csv, .json or .xlsx with id, question, answer and optional
    # variants, keywords, image, link), relative to the bot's working directory. Reloaded
    # when the file changes. Empty: no auto-reply (questions still go to the queue).
    bank: str = ""
    threshold: Fraction = DEFAULT_THRESHOLD  # match score needed to answer
    # The same entry is not answered again in the group within this many seconds: the
    # bot points at the earlier answer instead. 0: always answer in full.
    cooldown: NonNegative = 300.0
    questions_only: bool = True  # False: statements that match well are answered too
    # Unanswered questions raise an alert after this many minutes; 0: the group's
    # ``question_minutes``.
    escalate_minutes: NonNegative = 0.0
    # A staff message (operator or ``exempt``) this soon after an open question answers
    # it, unless the staff message is a question itself. 0: only replies and mentions.
    staff_answer_seconds: NonNegative = 300.0
    # "没用" / "not helpful" from the asker this soon after a bot answer counts against
    # the entry and puts the question back in the queue for humans. 0: off.
    feedback_seconds: NonNegative = 600.0
