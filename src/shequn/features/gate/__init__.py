"""Entry gate (门槛 / 准入制): what a newcomer must do before they may speak.

Modes, per group:

- ``open``: everyone is welcome at once.
- ``invite_code``: the first message must be one of the group's codes.
- ``quiz`` (答题筛选): ``count`` questions drawn from a bank, one at a time; pass with
  ``pass_mark`` right answers within ``time_limit`` seconds.
- ``captcha``: a small sum (``3 + 4 = ?``) answered within the time limit.
- ``manual``: a human approves (a human task is opened).
- ``layer``: only members at layer ≥ ``min_layer`` in ``layer_group`` (layers come from
  analytics; the engine asks a callable).

This module is the pure part (challenges, checking answers); the state lives in
``gate_entries`` and changes through :mod:`shequn.actions.gate`.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any, Literal

from shequn.text import normalize

__all__ = ["GateSettings", "QuizQuestion", "check_answer", "make_challenge", "prompt"]

GateMode = Literal["open", "invite_code", "quiz", "captcha", "manual", "layer"]
MODES: tuple[str, ...] = ("open", "invite_code", "quiz", "captcha", "manual", "layer")


@dataclass(frozen=True, slots=True)
class QuizQuestion:
    question: str
    answers: tuple[str, ...]  # any of these is right (compared normalised)


@dataclass(frozen=True, slots=True)
class GateSettings:
    mode: GateMode = "open"
    invite_codes: tuple[str, ...] = ()
    quiz: tuple[QuizQuestion, ...] = ()
    count: int = 3
    pass_mark: int = 2
    time_limit: int = 300  # seconds to answer (quiz, captcha, invite code)
    layer_group: str = ""
    min_layer: int = 0
    welcome: str = ""  # "{name}" is replaced; rules, purpose and values go here
    name_format: str = ""  # a regex the display name must match, e.g. 城市-昵称-行业
    name_reminder: str = ""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown gate mode {self.mode!r}")
        if self.mode == "quiz" and len(self.quiz) < self.count:
            raise ValueError("the quiz bank has fewer questions than count")
        if self.mode == "quiz" and not 0 < self.pass_mark <= self.count:
            raise ValueError("pass_mark must be between 1 and count")
        if self.name_format:
            re.compile(self.name_format)


def normalise(text: str) -> str:
    """An answer as compared: the moderation normaliser's compact form (width, case,
    traditional/simplified, blanks and punctuation all ignored)."""
    return _EDGE_PUNCT.sub("", normalize(text).compact).casefold()


_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")


def make_challenge(gate: GateSettings, rng: random.Random) -> dict[str, Any]:
    """The JSON-able challenge stored with a pending entry."""
    if gate.mode == "quiz":
        picked = rng.sample(list(gate.quiz), gate.count)
        return {"questions": [{"q": q.question, "a": list(q.answers)} for q in picked]}
    if gate.mode == "captcha":
        a, b = rng.randint(1, 9), rng.randint(1, 9)
        return {"questions": [{"q": f"{a} + {b} = ?", "a": [str(a + b)]}]}
    if gate.mode == "invite_code":
        return {"questions": [{"q": "invite code / 邀请码", "a": list(gate.invite_codes)}]}
    return {"questions": []}


def prompt(challenge: dict[str, Any], index: int, lang: str = "zh") -> str:
    """The message asking question ``index`` (0-based)."""
    qs = challenge["questions"]
    q = qs[index]["q"]
    if lang == "zh":
        return f"入群验证 {index + 1}/{len(qs)}：{q}"
    return f"Entry check {index + 1}/{len(qs)}: {q}"


def check_answer(challenge: dict[str, Any], index: int, text: str) -> bool:
    accepted = {normalise(a) for a in challenge["questions"][index]["a"]}
    return normalise(text) in accepted
