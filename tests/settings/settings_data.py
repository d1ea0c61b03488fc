"""Data shared by the settings tests: a shequn.toml and a small real FAQ bank (CSV)."""

from __future__ import annotations

import csv
import io

TOML_DOC = {
    "defaults": {"language": "zh", "gate": {"mode": "captcha"}},
    "groups": [
        {
            "platform": "fake", "id": "g1", "template": "relaxed-learning",
            "gate": {"mode": "quiz", "count": 1, "pass_mark": 1,
                     "quiz": [{"question": "本群主题？", "answers": ["跑步"]}],
                     "welcome": "欢迎 {name}，请先读群规。"},
            "faq": {"enabled": False, "threshold": 0.5},
        },
    ],
}  # fmt: skip

BANK_ROWS = [
    ("checkin", "怎么签到？", "每天在群里发送「签到」或「打卡」即可。", "如何每日打卡|打卡在哪里"),
    ("refund", "会员费可以退款吗？", "购买后七天内可以全额退款，联系客服即可。", "买了会员不想要了能退钱吗"),
    ("homework", "作业在哪里交？", "作业提交到小程序「作业本」，截止每晚 22 点。", "怎么提交作业|交作业的入口在哪"),
    ("live", "直播几点开始？", "每周三晚上八点，群公告里有直播链接。", "今晚有直播吗"),
]  # fmt: skip


def bank_csv() -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["id", "question", "answer", "variants"])
    w.writerows(BANK_ROWS)
    return out.getvalue().encode("utf-8")
