"""The slash commands shequn registers, and what a member "says" by using one."""

from __future__ import annotations

from typing import Any

__all__ = ["SLASH_COMMANDS", "slash_text"]

#: Slash commands stand in for the keywords the features listen to: ``/checkin``,
#: ``/makeup`` and ``/top`` are check-in's own keywords, ``/ask`` carries a question
#: to the FAQ. Guild-only (``contexts`` 0).
SLASH_COMMANDS: list[dict[str, Any]] = [
    {"name": "checkin", "type": 1, "contexts": [0], "description": "签到 / Check in for today"},
    {"name": "makeup", "type": 1, "contexts": [0], "description": "补签 / Make up a missed day"},
    {"name": "top", "type": 1, "contexts": [0], "description": "排行榜 / Check-in leaderboard"},
    {"name": "ask", "type": 1, "contexts": [0], "description": "提问 / Ask the FAQ",
     "options": [{"type": 3, "name": "question", "required": True,
                  "description": "你的问题 / Your question"}]},
]  # fmt: skip


def slash_text(d: dict[str, Any]) -> str | None:
    """What a member "said" with one of :data:`SLASH_COMMANDS`; None for anything else."""
    data = d.get("data") or {}
    if d.get("type") != 2 or "guild_id" not in d:  # APPLICATION_COMMAND, in a guild
        return None
    name = data.get("name")
    if name == "ask":
        options = {o.get("name"): o.get("value") for o in data.get("options") or []}
        return str(options.get("question") or "").strip() or None
    if name in ("checkin", "makeup", "top"):
        return f"/{name}"
    return None
