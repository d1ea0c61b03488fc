"""The slash commands shequn registers, and what a member "says" by using one."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["SLASH_COMMANDS", "slash_text"]

#: Slash commands stand in for the keywords the features listen to: ``/checkin``,
#: ``/makeup`` and ``/top`` are check-in's own keywords, ``/ask`` carries a question
#: to the FAQ, ``/poll``, ``/vote``, ``/tally`` and ``/endpoll`` are the polls'
#: (activities/polls.py). Guild-only (``contexts`` 0).
SLASH_COMMANDS: list[dict[str, Any]] = [
    {"name": "checkin", "type": 1, "contexts": [0], "description": "签到 / Check in for today"},
    {"name": "makeup", "type": 1, "contexts": [0], "description": "补签 / Make up a missed day"},
    {"name": "top", "type": 1, "contexts": [0], "description": "排行榜 / Check-in leaderboard"},
    {"name": "ask", "type": 1, "contexts": [0], "description": "提问 / Ask the FAQ",
     "options": [{"type": 3, "name": "question", "required": True,
                  "description": "你的问题 / Your question"}]},
    {"name": "poll", "type": 1, "contexts": [0], "description": "发起投票 / Start a poll",
     "options": [
         {"type": 3, "name": "title", "required": True, "max_length": 200,
          "description": "投票标题 / What the poll asks"},
         {"type": 3, "name": "options", "required": True, "max_length": 1000,
          "description": "选项，用 | 分隔 / Choices, separated by |"},
         {"type": 5, "name": "multi", "required": False,
          "description": "多选 / Several choices each"},
         {"type": 5, "name": "anonymous", "required": False,
          "description": "匿名 / Anonymous"},
         {"type": 4, "name": "minutes", "required": False, "min_value": 0,
          "max_value": 43200, "description": "截止（分钟）/ Closes after (minutes)"}]},
    {"name": "vote", "type": 1, "contexts": [0], "description": "投票 / Vote in the poll",
     "options": [{"type": 3, "name": "choice", "required": True,
                  "description": "选项序号或文字，多选用空格 / Number(s) or text"}]},
    {"name": "tally", "type": 1, "contexts": [0], "description": "投票结果 / Poll results"},
    {"name": "endpoll", "type": 1, "contexts": [0], "description": "结束投票 / Close the poll"},
]  # fmt: skip


def slash_text(d: dict[str, Any]) -> str | None:
    """What a member "said" with one of :data:`SLASH_COMMANDS`; None for anything else."""
    data = d.get("data") or {}
    if d.get("type") != 2 or "guild_id" not in d:  # APPLICATION_COMMAND, in a guild
        return None
    name = data.get("name")
    options = {o.get("name"): o.get("value") for o in data.get("options") or []}
    if name == "ask":
        return str(options.get("question") or "").strip() or None
    if name == "poll":
        return _poll(options)
    if name == "vote":
        choice = " ".join(str(options.get("choice") or "").split())
        return f"/vote {choice}" if choice else None
    if name in ("checkin", "makeup", "top", "tally", "endpoll"):
        return f"/{name}"
    return None


def _poll(options: dict[Any, Any]) -> str | None:
    """``/poll [--multi] [--anon] [--minutes N] title | a | b`` as the polls read it."""
    # a bar would split the title into a choice: the title keeps a slash instead
    title = " ".join(re.sub("[|｜]", "/", str(options.get("title") or "")).split())
    choices = [c.strip() for c in str(options.get("options") or "").replace("｜", "|").split("|")]
    if not title or not any(choices):
        return None
    flags = [f for f, on in (("--multi", options.get("multi")),
                             ("--anon", options.get("anonymous"))) if on is True]  # fmt: skip
    minutes = options.get("minutes")
    if isinstance(minutes, int) and not isinstance(minutes, bool) and minutes >= 0:
        flags += ["--minutes", str(minutes)]
    return " ".join(["/poll", *flags, " | ".join([title, *(c for c in choices if c)])])
