"""Suggestions of new FAQ entries from real unanswered questions, and the CLI reports.

Members ask real questions the bank cannot answer (StackFAQ paraphrases, real Chinese
forum questions from the Egret set) through the live pipeline; the suggestions must
group each question's paraphrases and nothing else.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import typer
from autoreply_bank import ZH_ROWS, stackfaq
from bot_transcript import Chat, make_chat, user
from typer.testing import CliRunner

from shequn.botconfig import GroupSettings
from shequn.commands.faq import register
from shequn.features.faq import FaqSettings
from shequn.features.faq.cache import clear
from shequn.features.faq.datasets import load_egret
from shequn.features.faq.suggest import cluster_questions, suggest
from shequn.store import Store

#: StackFAQ questions asked in the group, with how many of their paraphrases.
ASKED = {"q005": 6, "q060": 6, "q040": 6, "q030": 6, "q009": 2, "q011": 2, "q020": 2}
THIRD_PARTY = ("如何引入第三方库？", "引入第三方库失败 这是什么情况？")  # real, same answer


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    clear()


@pytest.fixture
def zh_bank(tmp_path: Path) -> Path:
    path = tmp_path / "zh.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(ZH_ROWS[0]))
        w.writeheader()
        w.writerows(ZH_ROWS)
    return path


async def ask_everything(store: Store, bank: Path, data_dir: Path) -> dict[str, str]:
    """Run the transcript; the expected StackFAQ id of every question asked in g1."""
    faq = FaqSettings(enabled=True, bank=str(bank))
    chat = make_chat(store, GroupSettings(faq=faq))
    _, paraphrases = stackfaq(data_dir)
    expected: dict[str, str] = {}
    n = 0
    for ident, count in ASKED.items():
        for text in paraphrases[ident][:count]:
            n += 1
            ev = await chat.say(user(f"u{n % 7}"), text)
            expected[ev.message_id] = ident
    await chat.say(user("helper"), "Try StackEdit.", reply_to="m1")  # a human answered one
    bank_zh, _ = load_egret(data_dir / "faq" / "zh_egret_wenda")
    other = Chat(chat.pipeline, chat.platform, chat.clock, group="g2")
    for i, text in enumerate((*THIRD_PARTY, *(e.question for e in bank_zh.entries[100:130]))):
        await other.say(user(f"z{i}"), text)
    assert [c for c in chat.take() if c[0] == "send"] == []  # the bank knew none of them
    return expected


async def test_suggestions_cluster_the_paraphrases_of_each_question(
    store: Store, zh_bank: Path, data_dir: Path
) -> None:
    expected = await ask_everything(store, zh_bank, data_dir)
    by_text = {t: ident for ident, n in ASKED.items() for t in stackfaq(data_dir)[1][ident][:n]}
    with store.engine.connect() as conn:
        found = suggest(conn, group_id="g1", min_count=3)
    assert len(expected) == sum(ASKED.values())
    labels = [[by_text[q] for q in s.questions] for s in found]
    majority = [max(set(group), key=group.count) for group in labels]
    # Every question asked 6 times is suggested, each in a cluster of its own ...
    assert {"q005", "q030", "q040", "q060"} <= set(majority), labels
    assert [s.count for s in found] == sorted((s.count for s in found), reverse=True)
    # ... and the clusters are (nearly) pure: a suggestion is one question.
    pure = sum(group.count(m) for group, m in zip(labels, majority, strict=True))
    assert pure / sum(s.count for s in found) >= 0.9, labels
    (markdown,) = [s for s, m in zip(found, majority, strict=True) if m == "q005"]
    assert markdown.count >= 5 and markdown.answered_by_humans == 1  # m1 got a reply
    assert markdown.askers > 1 and markdown.groups == ("g1",)
    assert markdown.representative in markdown.questions


async def test_chinese_repeats_are_suggested_and_groups_filter(
    store: Store, zh_bank: Path, data_dir: Path
) -> None:
    await ask_everything(store, zh_bank, data_dir)
    with store.engine.connect() as conn:
        zh = suggest(conn, group_id="g2", min_count=2)
        everywhere = suggest(conn, min_count=3)
        g1 = suggest(conn, group_id="g1", min_count=3)
    assert set(THIRD_PARTY) in [set(s.questions) for s in zh]
    assert all(s.groups == ("g2",) for s in zh)
    # g2 has no question asked 3 times (idf over more text shifts a border case or two).
    assert len(everywhere) == len(g1) and all(s.groups == ("g1",) for s in everywhere)


def test_cluster_questions_edge_cases() -> None:
    assert cluster_questions([]) == []
    assert cluster_questions(["怎么签到？"]) == [[0]]
    same = cluster_questions(["怎么签到？", "怎么签到", "退款怎么办理？"])
    assert same == [[0, 1], [2]]


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


async def test_cli_stats_and_suggest(sqlite_store: Store, tmp_path: Path, data_dir: Path) -> None:
    store = sqlite_store
    bank = tmp_path / "zh.csv"
    with bank.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(ZH_ROWS[0]))
        w.writeheader()
        w.writerows(ZH_ROWS)
    await ask_everything(store, bank, data_dir)
    chat = make_chat(store, GroupSettings(faq=FaqSettings(enabled=True, bank=str(bank))))
    chat.group = "g3"
    await chat.say(user("a"), "买的会员能退吗")
    await chat.say(user("b"), "作业交到哪里啊？")
    chat.clock.advance(3600)
    await chat.say(user("c"), "买了会员不想要了能退钱吗？")
    db = str(store.url)
    runner = CliRunner()
    result = runner.invoke(_app(), ["faq", "stats", "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [(r["entry_id"], r["hits"], r["answered"]) for r in lines] == [
        ("refund", 2, 2),
        ("homework", 1, 1),
    ]
    table = runner.invoke(_app(), ["faq", "stats", "--db", db])
    assert table.exit_code == 0 and "refund" in table.stdout
    result = runner.invoke(_app(), ["faq", "suggest", "--db", db, "--group", "g1"])
    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0]
    assert first.startswith("1. ×5 (") and "1 groups" in first
    assert "1 answered by people" in result.stdout
    result = runner.invoke(
        _app(), ["faq", "suggest", "--db", db, "--min-count", "2", "--group", "g2", "--json"]
    )
    clusters = [json.loads(x) for x in result.stdout.splitlines()]
    assert {"count": 2, "questions": sorted(THIRD_PARTY)} in [
        {"count": c["count"], "questions": sorted(c["questions"])} for c in clusters
    ]
    none = runner.invoke(_app(), ["faq", "suggest", "--db", db, "--min-count", "50"])
    assert none.exit_code == 0 and "no cluster of 50" in none.stdout
