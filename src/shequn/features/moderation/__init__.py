"""Anti-ad / anti-spam moderation: detectors, a trained classifier and the engine.

Public API: :class:`Moderator`, :class:`ModerationSettings`, :class:`Allowlist`,
:class:`TextFingerprint`, and the contract types :class:`Verdict` / :class:`Reason`.
"""

from shequn.features.moderation.engine import Moderator
from shequn.features.moderation.fingerprint import TextFingerprint
from shequn.features.moderation.settings import Allowlist, ModerationSettings
from shequn.features.moderation.verdict import Label, Reason, Verdict

__all__ = [
    "Allowlist",
    "Label",
    "ModerationSettings",
    "Moderator",
    "Reason",
    "TextFingerprint",
    "Verdict",
]
