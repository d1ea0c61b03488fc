"""Daily check-in (签到/打卡) with streaks, make-ups (补签), points and a leaderboard.

A feature handler of the live bot (priority 40). State lives in ``checkins`` (one row
per member per local calendar day) and ``points_ledger`` (signed entries with a
reason); streaks and totals are computed from the rows, so a make-up that fills a gap
restores the streak without rewriting anything.

Points also come from helpful answers and activity participation
(:mod:`.behaviours`), are spent on make-ups and the operator's rewards
(:mod:`.rewards`), and rank members weekly (:mod:`.awards`).
"""

from __future__ import annotations

from shequn.features.checkin.awards import plan_weekly_awards
from shequn.features.checkin.behaviours import credit
from shequn.features.checkin.handler import handle
from shequn.features.checkin.points import award, points_balance, spend
from shequn.features.checkin.remind import plan_reminders
from shequn.features.checkin.rewards import fulfil, refund
from shequn.features.checkin.settings import CheckinSettings, Reward, Tier

__all__ = [
    "CheckinSettings",
    "Reward",
    "Tier",
    "award",
    "credit",
    "fulfil",
    "handle",
    "plan_reminders",
    "plan_weekly_awards",
    "points_balance",
    "refund",
    "spend",
]
