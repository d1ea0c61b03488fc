"""A small real bank for the auto-reply transcripts: Chinese community entries written
as an operator would, and English entries taken verbatim from StackFAQ."""

from __future__ import annotations

import csv
from pathlib import Path

from shequn.features.faq import load_stackfaq

ZH_ROWS = [
    {"id": "checkin", "question": "怎么签到？", "answer": "每天在群里发送「签到」或「打卡」即可。",
     "variants": "如何每日打卡|打卡在哪里", "keywords": "", "image": "", "link": ""},
    {"id": "refund", "question": "会员费可以退款吗？", "answer": "购买后七天内可以全额退款，联系客服即可。",
     "variants": "买了会员不想要了能退钱吗", "keywords": "", "image": "",
     "link": "https://example.org/refund"},
    {"id": "homework", "question": "作业在哪里交？", "answer": "作业提交到小程序「作业本」，截止每晚 22 点。",
     "variants": "怎么提交作业|交作业的入口在哪", "keywords": "", "image": "https://example.org/homework.png",
     "link": ""},
    {"id": "live", "question": "直播几点开始？", "answer": "每周三晚上八点，群公告里有直播链接。",
     "variants": "今晚有直播吗", "keywords": "re:^直播$", "image": "", "link": ""},
]  # fmt: skip
#: StackFAQ questions used as English entries (their own answers).
EN_IDS = ("q001", "q007", "q003")


def stackfaq(data_dir: Path) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(question by id, paraphrases by id) of the whole StackFAQ set."""
    bank, queries = load_stackfaq(data_dir / "faq" / "en_stackfaq.json")
    paraphrases: dict[str, list[str]] = {}
    for text, ident in queries:
        paraphrases.setdefault(ident, []).append(text)
    return {e.id: e.question for e in bank}, paraphrases


def write_bank(path: Path, data_dir: Path) -> Path:
    """Write the bank as CSV (the format operators export from a spreadsheet)."""
    bank, _ = load_stackfaq(data_dir / "faq" / "en_stackfaq.json")
    rows = list(ZH_ROWS)
    for ident in EN_IDS:
        e = bank.get(ident)
        rows.append({"id": e.id, "question": e.question, "answer": e.answer[:300],
                     "variants": "", "keywords": "", "image": "", "link": ""})  # fmt: skip
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(ZH_ROWS[0]))
        w.writeheader()
        w.writerows(rows)
    return path
