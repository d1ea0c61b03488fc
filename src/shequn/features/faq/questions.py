"""What counts as a question, and as feedback that an answer did not help.

Extends the question watch's :func:`~shequn.features.strikes.escalation.is_question`
(question marks, a closing 吗/呢, 怎么/如何 ...) with more Chinese asking words and
English questions typed without a question mark ("how do I reset my password").
"""

from __future__ import annotations

import re

from shequn.features.strikes.escalation import is_question
from shequn.text.normalize import normalize

__all__ = ["is_feedback", "looks_like_question"]

_ZH_ASKS = re.compile(r"请问|求助|求问|什么|啥|咋|怎样|能否|是否|哪些|几点|几号|多久|多长时间")
_EN_START = re.compile(
    r"^(?:how|what|why|where|when|who|which|can|could|is|are|do|does|did|should|would|will|"
    r"anyone|any\s+idea|is\s+there)\b",
    re.IGNORECASE,
)
_FEEDBACK = frozenset(
    ("没用", "没有用", "没帮助", "没有帮助", "不对", "答非所问", "不是这个", "没解决", "👎",
     "not helpful", "unhelpful", "useless", "wrong answer", "didn't help", "that didn't help")
)  # fmt: skip
_PUNCT = re.compile(r"[\s!?.,;:~。！？，、；：～…]+")


def looks_like_question(text: str) -> bool:
    """A question by the watch's rules, a further asking word, or an English question."""
    t = text.strip()
    if is_question(t):
        return True
    if len(t) < 3:
        return False
    return bool(_ZH_ASKS.search(t) or (_EN_START.search(t) and len(t.split()) >= 3))


def is_feedback(text: str) -> bool:
    """The whole message says an answer did not help (没用, not helpful, 👎 ...)."""
    key = _PUNCT.sub(" ", normalize(text).light).strip()
    return key in _FEEDBACK or key.replace(" ", "") in _FEEDBACK
