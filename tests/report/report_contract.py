"""A small but complete report dict following docs/report-json.md, with hostile content.

The renderers are tested on this hand-made dict so that they do not depend on the
analytics behind them; ``test_report_cli.py`` covers the real pipeline end to end.
"""

from __future__ import annotations

from typing import Any

XSS_NAME = "<script>alert(1)</script>"
RLO_NAME = "\u202eevil.exe\u200b"
FORMULA_NAME = "=cmd|' /C calc'!A0"
SCRIPT_GROUP = "</script><script>alert('g')</script>\u2028\u2029 & <!-- 群"
BIG_TEXT = "买 <script>alert('big')</script> " + "x" * (1024 * 1024)

LAYER_KEYS = [
    "opinion_leader",
    "co_opinion_leader",
    "spreader",
    "active",
    "participant",
    "bystander",
]
LAYER_NAMES = {
    "opinion_leader": ("意见领袖", "Opinion leader"),
    "co_opinion_leader": ("联合意见领袖", "Co-opinion leader"),
    "spreader": ("传播者", "Spreader"),
    "active": ("活跃者", "Active"),
    "participant": ("参与者", "Participant"),
    "bystander": ("旁观者", "Bystander"),
}


def _member(i: int, name: str, layer: str, messages: int, **extra: Any) -> dict[str, Any]:
    base = {
        "id": i,
        "platform": "telegram",
        "platform_id": f"user{i}",
        "name": name,
        "names": [name],
        "is_operator": False,
        "is_bot": False,
        "groups": [1],
        "messages": messages,
        "active_days": max(1, messages // 3),
        "first_ts": "2024-01-01T08:00:00Z",
        "last_ts": "2024-03-01T20:15:00Z" if messages else None,
        "joined_ts": "2024-01-01T07:59:00Z",
        "replies_received": messages // 2,
        "mentions_received": 1,
        "distinct_repliers": 2,
        "reactions_received": 3,
        "invites": 0,
        "invites_stayed": 0,
        "layer": layer,
        "layer_reasons": [f"reason for {name}"],
        "pagerank": round(0.01 * (messages + 1), 4),
    }
    base.update(extra)
    return base


def make_report() -> dict[str, Any]:
    """A fresh copy of the contract fixture (tests may mutate it)."""
    members = [
        _member(1, XSS_NAME, "opinion_leader", 120, is_operator=False, groups=[1, 2]),
        _member(2, "张三", "co_opinion_leader", 80, layer_reasons=["被 5 人回复", "活跃 20 天"]),
        _member(3, RLO_NAME, "spreader", 40, invites=4, invites_stayed=3),
        _member(4, FORMULA_NAME, "active", 30),
        _member(5, "+SUM(1,2)", "active", 12, platform_id="-12345"),
        _member(6, "@admin", "participant", 5, is_operator=True),
        _member(7, "Lurker Li", "bystander", 0, last_ts=None, first_ts=None),
        _member(8, "bot", "participant", 3, is_bot=True, groups=[2]),
    ]
    groups = [
        {
            "id": 1,
            "platform": "telegram",
            "platform_id": "-100123",
            "name": "Python 学习群",
            "members": 7,
            "messages": 260,
            "active_members_30d": 5,
            "newcomers_30d": 2,
            "first_ts": "2024-01-01T08:00:00Z",
            "last_ts": "2024-03-01T20:15:00Z",
            "ad_share": 0.02,
            "ugc_share": 0.93,
            "stage": "active",
        },
        {
            "id": 2,
            "platform": "irc",
            "platform_id": "#ubuntu",
            "name": SCRIPT_GROUP,
            "members": 3,
            "messages": 40,
            "active_members_30d": 0,
            "newcomers_30d": 0,
            "first_ts": "2024-01-05T08:00:00Z",
            "last_ts": "2024-01-20T10:00:00Z",
            "ad_share": 0.4,
            "ugc_share": 0.5,
            "stage": "flooded",
        },
    ]
    heat = [[0] * 24 for _ in range(7)]
    heat[2][21] = 40
    heat[0][9] = 12
    heat[5][14] = 7
    return {
        "meta": {
            "generated_at": "2024-03-02T00:00:00Z",
            "as_of": "2024-03-01T20:15:00Z",
            "period": {"start": "2024-01-01T08:00:00Z", "end": "2024-03-01T20:15:00Z"},
            "settings": {"active_days": 3},
            "version": "0.1.0",
        },
        "groups": groups,
        "members": members,
        "messages": {
            "total": 310,
            "member": 290,
            "operator": 8,
            "system": 12,
            "by_kind": {"text": 280, "photo": 18, "service": 12},
            "by_group": {"1": 270, "2": 40},
            "daily": [["2024-01-01", 10], ["2024-01-02", 25], ["2024-01-03", 0], ["2024-03-01", 7]],
        },
        "layers": {
            "definitions": [
                {
                    "key": k,
                    "zh": LAYER_NAMES[k][0],
                    "en": LAYER_NAMES[k][1],
                    "rule_zh": f"{LAYER_NAMES[k][0]}的规则",
                    "rule_en": f"rule of {LAYER_NAMES[k][1]}",
                }
                for k in LAYER_KEYS
            ],
            "counts": {
                "opinion_leader": 1,
                "co_opinion_leader": 1,
                "spreader": 1,
                "active": 2,
                "participant": 2,
                "bystander": 1,
            },
            "by_group": {"1": {"opinion_leader": 1, "active": 2}, "2": {"bystander": 1}},
            "actions": {
                k: {"zh": f"{LAYER_NAMES[k][0]}：行动建议", "en": f"{LAYER_NAMES[k][1]}: do this"}
                for k in LAYER_KEYS
            },
        },
        "kols": [
            {
                "member_id": 1,
                "name": XSS_NAME,
                "score": 0.91,
                "pagerank": 0.12,
                "reach": 6,
                "messages": 120,
                "active_days": 40,
                "reasons": ["replied to by 6 members", "<b>bold</b> reason"],
            },
            {
                "member_id": 2,
                "name": "张三",
                "score": 0.55,
                "pagerank": 0.08,
                "reach": 4,
                "messages": 80,
                "active_days": 26,
                "reasons": ["被 4 人回复"],
            },
        ],
        "buyers": [
            {
                "member_id": 3,
                "name": RLO_NAME,
                "score": 0.8,
                "signals": {"price": 3, "purchase_intent": 1},
                "evidence": [
                    {
                        "ts": "2024-02-01T12:00:00Z",
                        "group_id": 2,
                        "text": BIG_TEXT,
                        "signals": ["price"],
                    },
                    {
                        "ts": "2024-02-02T12:00:00Z",
                        "group_id": 1,
                        "text": "多少钱？怎么买",
                        "signals": ["price", "purchase_intent"],
                    },
                ],
            },
            {
                "member_id": 4,
                "name": FORMULA_NAME,
                "score": 0.4,
                "signals": {"price": 1},
                "evidence": [
                    {
                        "ts": "2024-02-03T12:00:00Z",
                        "group_id": 1,
                        "text": '=HYPERLINK("http://evil")',
                        "signals": ["price"],
                    }
                ],
            },
        ],
        "retention": {
            "cohorts": [
                {
                    "week": "2024-W01",
                    "joined": 5,
                    "present": {"d1": 1.0, "d7": 0.8, "d30": 0.6},
                    "speaking": {"d1": 0.6, "d7": 0.4, "d30": 0.2},
                },
                {
                    "week": "2024-W09",
                    "joined": 2,
                    "present": {"d1": 1.0, "d7": None, "d30": None},
                    "speaking": {"d1": 0.5, "d7": None, "d30": None},
                },
            ],
            "overall": {
                "present": {"d1": 1.0, "d7": 0.8, "d30": 0.6},
                "speaking": {"d1": 0.57, "d7": 0.4, "d30": 0.2},
            },
            "basis_note": "Join time from join events where present, else first message.",
        },
        "health": [
            {
                "group_id": 2,
                "name": SCRIPT_GROUP,
                "stage": "flooded",
                "at_risk": True,
                "score": 22,
                "reasons": ["40% of messages are ads", "no newcomers in 30 days"],
                "trend": {
                    "active_members": [3, 2, 1, 0],
                    "messages": [20, 12, 8, 0],
                    "newcomers": [1, 0, 0, 0],
                },
            },
            {
                "group_id": 1,
                "name": "Python 学习群",
                "stage": "active",
                "at_risk": False,
                "score": 81,
                "reasons": ["5 active members in 30 days"],
                "trend": {
                    "active_members": [3, 4, 5, 5],
                    "messages": [50, 60, 70, 80],
                    "newcomers": [1, 1, 0, 2],
                },
            },
        ],
        "heatmap": {
            "tz": "Asia/Shanghai",
            "weekday_hour": heat,
            "peak": {"weekday": 2, "hour": 21},
        },
        "concentration": {
            "top20_share": 0.62,
            "speakers": 6,
            "speakers_for_80pct": 3,
            "gini": 0.48,
            "absence_factor": 1,
            "by_group": {
                "1": {"top20_share": 0.6, "gini": 0.45, "absence_factor": 1},
                "2": {"top20_share": 0.9, "gini": 0.7, "absence_factor": 1},
            },
        },
        "keywords": {
            "1": [["python", 0.9], ["装饰器", 0.5]],
            "2": [["<img src=x onerror=alert(2)>", 0.3]],
        },
        "ugc": {
            "member_messages": 290,
            "operator_messages": 8,
            "ugc_share": 0.973,
            "by_group": {"1": 0.93, "2": 0.5},
        },
        "lurkers": [
            {"member_id": 7, "name": "Lurker Li", "group_id": 1, "last_ts": None},
            {"member_id": 5, "name": "+SUM(1,2)", "group_id": 2, "last_ts": "2024-01-02T00:00:00Z"},
        ],
    }
