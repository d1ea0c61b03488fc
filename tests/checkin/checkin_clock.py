"""The check-in transcripts' clock and reply reader (Shanghai time, September 2026)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot_transcript import Chat

from shequn.features.checkin import plan_reminders

SH = ZoneInfo("Asia/Shanghai")


def at(chat: Chat, day: int, hh: int, mm: int = 0, ss: int = 0) -> float:
    """Set the clock so the next message is at 2026-09-<day> hh:mm:ss; that time."""
    ts = datetime(2026, 9, day, hh, mm, ss, tzinfo=SH).timestamp()
    chat.clock.now = ts - 1
    return ts


def texts(chat: Chat) -> list[str]:
    """The texts the bot sent since the last take."""
    return [args["text"] for name, args in chat.take() if name == "send"]


def plan_reminders_at(chat: Chat, day: int, hh: int) -> list[int]:
    """Run the reminder planner as the tick would at 2026-09-<day> hh:00; planned ids."""
    now = datetime(2026, 9, day, hh, tzinfo=SH).timestamp()
    with chat.pipeline.store.engine.begin() as conn:
        return plan_reminders(conn, {"fake": chat.platform}, chat.pipeline.settings_for_group, now)
