"""FAQ auto-reply (PLAYBOOK §2.2): answer common questions, hand the rest to humans.

A feature handler of the live bot (priority 45, :mod:`.handler`) with the question
watch's queue (:mod:`.queue`), hit statistics (:mod:`.stats`) and suggestions of new
entries from what stayed unanswered (:mod:`.suggest`).

>>> bank = FaqBank([FaqEntry("checkin", "怎么签到？", "发送「打卡」即可。")])
>>> FaqMatcher(bank, embedder=None).match("请问怎么签到").entry_id
'checkin'
"""

from shequn.features.faq.bank import FaqBank, FaqBankError, FaqEntry, load_bank, load_stackfaq
from shequn.features.faq.handler import handle, tick
from shequn.features.faq.matcher import (
    DEFAULT_THRESHOLD,
    FaqMatcher,
    Match,
)
from shequn.features.faq.questions import looks_like_question
from shequn.features.faq.queue import watch
from shequn.features.faq.settings import FaqSettings
from shequn.features.faq.stats import EntryStats, entry_stats

__all__ = [
    "DEFAULT_THRESHOLD",
    "EntryStats",
    "FaqBank",
    "FaqBankError",
    "FaqEntry",
    "FaqMatcher",
    "FaqSettings",
    "Match",
    "entry_stats",
    "handle",
    "load_bank",
    "load_stackfaq",
    "looks_like_question",
    "tick",
    "watch",
]
