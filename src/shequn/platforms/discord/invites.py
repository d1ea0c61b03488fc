"""Which invite a newcomer used: Discord does not say, the use counts do."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["InviteTracker"]


@dataclass
class InviteTracker:
    """Use counts of each guild's invites, to tell which one a newcomer used.

    Discord does not say; the count that went up between two looks does. Two joins
    close together can make it ambiguous, and then nobody is credited.
    """

    uses: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def seen(self, guild: str, invites: list[dict[str, Any]]) -> None:
        self.uses[guild] = {str(i["code"]): i for i in invites if "code" in i}

    def created(self, d: dict[str, Any]) -> None:
        if "guild_id" in d:
            self.uses.setdefault(str(d["guild_id"]), {})[str(d["code"])] = d

    def deleted(self, d: dict[str, Any]) -> None:
        # kept: an invite deleted because it reached max_uses is the one just used;
        # used() drops it after comparing
        known = self.uses.get(str(d.get("guild_id")), {}).get(str(d.get("code")))
        if known is not None:
            known["_deleted"] = True

    def used(self, guild: str, fresh: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The invite whose use count went up (the fresh invite object), else None."""
        before = self.uses.get(guild)
        if before is None:  # never looked: nothing to compare with
            self.seen(guild, fresh)
            return None
        now = {str(i["code"]): i for i in fresh if "code" in i}
        grown = [i for c, i in now.items() if i.get("uses", 0) > before.get(c, {}).get("uses", 0)]
        # a limited invite reaching max_uses is deleted rather than counted up
        spent = [
            {**i, "uses": i.get("uses", 0) + 1}
            for c, i in before.items()
            if c not in now and i.get("max_uses") and i.get("uses", 0) + 1 >= i["max_uses"]
        ]
        self.seen(guild, fresh)
        candidates = grown + spent
        return candidates[0] if len(candidates) == 1 else None
