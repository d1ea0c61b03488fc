"""Settings of invite links and fission campaigns (``[groups.invites]`` in shequn.toml)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["InvitesSettings"]


@dataclass(frozen=True, slots=True)
class InvitesSettings:
    enabled: bool = True
