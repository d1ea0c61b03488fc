"""Typed settings of the moderation engine, and the per-call allowlist."""

from __future__ import annotations

import msgspec

__all__ = ["Allowlist", "ModerationSettings"]


class ModerationSettings(msgspec.Struct, frozen=True, kw_only=True):
    """How one group (or the whole deployment) moderates.

    Scores are 0..1. A message scoring at least ``act_at`` gets its label and
    ``uncertain=False`` (act on it); between ``escalate_at`` and ``act_at`` it keeps its
    label with ``uncertain=True`` (ask a human); below ``escalate_at`` it is ``ok``.
    """

    #: Score from which the engine's verdict is acted on (delete / warn / mute).
    act_at: float = 0.7
    #: Score from which a verdict goes to a human instead of being ignored.
    escalate_at: float = 0.45
    #: Use the trained classifier for messages the rules leave below ``act_at``.
    use_classifier: bool = True
    #: Extra watched words per category (``"ad"``, ``"sensitive"``, ``"abuse"``,
    #: ``"money"``) added to the shipped lexicons for this group.
    extra_words: dict[str, tuple[str, ...]] = {}
    #: Replace (not extend) the shipped lexicons with ``extra_words`` only.
    replace_default_words: bool = False
    #: Weight of a hit on a group's own extra word.
    extra_word_weight: float = 0.8
    #: ``@``-mentions in one message from which it counts as a mass mention.
    mass_mention_at: int = 5
    #: Only the first ``max_chars`` characters are examined (hostile input bound).
    max_chars: int = 20_000


class Allowlist(msgspec.Struct, frozen=True, kw_only=True):
    """What a group explicitly allows; passed in per call (it changes with the group).

    Domains match the host and its subdomains (case-insensitive); handles (WeChat ids,
    QQ numbers, phone numbers, ``@names``) are compared case-insensitively without the
    ``@``; words are normalised like messages and suppress lexicon hits on exactly that
    word; exempt members (``check(..., member_id=…)``) are never flagged.
    """

    domains: frozenset[str] = frozenset()
    handles: frozenset[str] = frozenset()
    words: frozenset[str] = frozenset()
    exempt_members: frozenset[str] = frozenset()
