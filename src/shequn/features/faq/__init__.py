"""FAQ auto-reply (PLAYBOOK §2.2): answer common questions, hand the rest to humans.

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
from shequn.features.faq.settings import FaqSettings

__all__ = [
    "DEFAULT_THRESHOLD",
    "FaqBank",
    "FaqBankError",
    "FaqEntry",
    "FaqMatcher",
    "FaqSettings",
    "Match",
    "handle",
    "load_bank",
    "load_stackfaq",
    "tick",
]
