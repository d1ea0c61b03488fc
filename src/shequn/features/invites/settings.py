"""Settings of invite links and fission campaigns (``[groups.invites]`` in shequn.toml)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["InvitesSettings"]


@dataclass(frozen=True, slots=True)
class InvitesSettings:
    """How joins are attributed and campaign invites are judged in one group.

    Every field can be set per group (``[groups.invites]``) or for all
    (``[defaults.invites]``).
    """

    #: Attribute joins to invite links and campaigns at all.
    enabled: bool = True
    #: Days an invitee must stay before the invite counts, for campaigns that leave it to
    #: the group (a campaign's own ``stay_days`` wins).
    stay_days: float = 7.0
    #: A referrer's invitees joining within this many minutes of each other ...
    burst_minutes: float = 60.0
    #: ... this many or more with near-identical names or consecutive ids are flagged.
    burst_size: int = 3
    #: Similarity (0..1, difflib ratio) above which two names are "near-identical".
    name_similarity: float = 0.85
    #: An invitee leaving within this many hours is an instant leaver (flagged).
    instant_leave_hours: float = 24.0
    #: Numeric platform ids this close to the referrer's look like their alt account.
    alt_id_window: int = 5
    #: Words a member sends to get their personal invite link of the running campaign.
    commands: tuple[str, ...] = ("邀请码", "我的邀请码", "/invite")
    #: The console's public address, for the links the bot hands out (``/j/<code>``).
    public_url: str = ""

    def __post_init__(self) -> None:
        if self.stay_days < 0:
            raise ValueError("stay_days must be >= 0")
        if self.burst_size < 2:
            raise ValueError("burst_size must be >= 2")
        if not 0 < self.name_similarity <= 1:
            raise ValueError("name_similarity must be in (0, 1]")
        if self.alt_id_window < 0:
            raise ValueError("alt_id_window must be >= 0")
