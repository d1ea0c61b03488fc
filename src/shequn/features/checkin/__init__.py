"""Daily check-in (签到/打卡) with streaks, make-ups (补签), points and a leaderboard.

A feature handler of the live bot (priority 40). State lives in ``checkins`` (one row
per member per local calendar day) and ``points_ledger`` (signed entries with a
reason); streaks and totals are computed from the rows, so a make-up that fills a gap
restores the streak without rewriting anything.
"""

from __future__ import annotations

from shequn.features.checkin.handler import handle
from shequn.features.checkin.points import award, points_balance, spend
from shequn.features.checkin.remind import plan_reminders
from shequn.features.checkin.settings import CheckinSettings, Tier

__all__ = [
    "CheckinSettings",
    "Tier",
    "award",
    "handle",
    "plan_reminders",
    "points_balance",
    "spend",
]
