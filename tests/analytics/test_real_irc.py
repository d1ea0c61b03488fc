"""The report on real Ubuntu IRC logs, checked against counts taken from the raw lines.

IRC is the opposite of the Telegram threads: hundreds of people, most of whom only
join and quit, a few helpers answering everyone ("nick: text" addressing). The
numbers below are recomputed from the log text with regular expressions, not from
the importer or the analytics.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from shequn.actions.imports import import_file
from shequn.analytics import analyse
from shequn.store import Store

FILES = ("2005-02-08.train-a.raw.txt", "2005-05-14.train-c.raw.txt")
SPEECH = re.compile(r"^\[\d\d:\d\d\] <([^>]+)> ")
# old-style /me actions: "=== nick does something" (but not joins, quits, renames, modes)
ACTION = re.compile(r"^=== (?!netjoined:|mode/)(\S+) ")
NOT_ACTION = ("has joined", "has left", "has quit", "is now known as", "was kicked")


def _speakers(paths: list[Path]) -> Counter[str]:
    said: Counter[str] = Counter()
    for p in paths:
        for line in p.read_text(encoding="utf-8").split("\n"):
            m = SPEECH.match(line)
            if m is None and not any(p in line for p in NOT_ACTION):
                m = ACTION.match(line)
            if m:
                said[m.group(1).replace(" ", "")] += 1
    return said


def test_report_on_real_irc_logs(store: Store, data_dir: Path) -> None:
    paths = [data_dir / "chatlogs" / "ubuntu_irc" / "train" / name for name in FILES]
    for p in paths:
        import_file(store, p)
    r = analyse(store, lang="zh")
    said = _speakers(paths)

    # every spoken or /me line is a member message (IRC has no operators' content here)
    assert r["messages"]["member"] == sum(said.values())
    # one nick is one speaker, except a nick freed by a rename and taken by someone
    # else later (the importer counts that as a new person): a handful at most
    assert len(said) <= r["concentration"]["speakers"] <= len(said) + 5
    # the busiest nick in the raw log is the busiest member in the report
    top_nick, top_count = said.most_common(1)[0]
    top = max(r["members"], key=lambda m: m["messages"])
    assert top["messages"] == top_count and top_nick in top["names"]
    # most people who join an IRC channel never speak: bystanders dominate
    counts = r["layers"]["counts"]
    assert sum(counts.values()) == len(r["members"])
    assert counts["bystander"] > len(r["members"]) / 2
    # "nick: text" addressing gives helpers a reach; the KOL list ranks them
    assert r["kols"] and r["kols"][0]["reach"] >= 5
    assert all(reason for m in r["members"] for reason in m["layer_reasons"])
    # 80/20 on a help channel is steep; check it is a real share
    assert 0.5 < r["concentration"]["top20_share"] <= 1
