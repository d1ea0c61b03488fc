"""Lottery transcripts: eligibility by activity and points, a draw anyone can recompute."""

from __future__ import annotations

import hashlib
import json
import re

import typer
from bot_transcript import GROUP, Chat, make_chat, rows
from helpers import ADMIN, ALICE, BOB, CAROL, DAVE, ERIN, FRANK, replies, said, tick
from sqlalchemy import update
from typer.testing import CliRunner

from shequn.commands import activity
from shequn.features.activities import verify_draw
from shequn.features.checkin import award
from shequn.store import Store, schema

DAY = 86400.0


def give_points(store: Store, member: str, points: int) -> None:
    with store.engine.begin() as conn:
        award(conn, "fake", GROUP, member, points=points, reason="test", day="2026-09-20",
              ts=1.0, cap=points)  # fmt: skip


def recompute(
    lottery_id: int, close_ref: str, secret: str, entrants: list[str], k: int
) -> list[str]:
    """The published rule, written out again independently of the implementation."""
    seed = hashlib.sha256(f"{lottery_id}:{close_ref}:{secret}".encode()).hexdigest()
    score = {m: hashlib.sha256(f"{seed}:{m}".encode()).hexdigest() for m in entrants}
    return sorted(sorted(entrants), key=lambda m: (score[m], m))[:k]


async def setup_lottery(store: Store) -> Chat:
    chat = make_chat(store)
    await chat.say(BOB, "我先潜水了")  # ten days before: too long ago
    chat.clock.advance(10 * DAY)
    for who in (ALICE, DAVE, ERIN, FRANK):
        await chat.say(who, f"大家好，我是{who.name}")
    for member in ("alice", "bob", "erin", "frank"):
        give_points(store, member, 30)
    chat.take()
    return chat


async def test_ineligible_members_are_refused_and_the_draw_recomputes(store: Store) -> None:
    chat = await setup_lottery(store)
    await chat.say(ADMIN, "发起抽奖 2人 近7天 20积分 周边礼包")
    (announced,) = said(chat)
    commitment = re.search(r"sha256\(secret\) = ([0-9a-f]{64})", announced)
    assert commitment is not None
    assert announced.startswith(
        "🎁 抽奖 #1：周边礼包\n名额 2 人；发送「参与抽奖」参与（条件：近 7 天在群里发过言，积分 ≥ 20）；"
    )
    for who in (ALICE, BOB, CAROL, DAVE, ERIN, FRANK):
        await chat.say(who, "参与抽奖")
    await chat.say(ALICE, "参与抽奖")
    assert [text for _to, text in replies(chat)] == [
        "🎟 @Alice 参与成功（第 1 位）。",
        "@Bob 抱歉，本次抽奖需要近 7 天在群里发过言。",
        "@Carol 抱歉，本次抽奖需要近 7 天在群里发过言。",  # the entry itself does not count
        "@Dave 抱歉，本次抽奖需要 20 积分，你有 0。",
        "🎟 @Erin 参与成功（第 2 位）。",
        "🎟 @Frank 参与成功（第 3 位）。",
        "@Alice 你已经参与过了。",
    ]
    await chat.say(ADMIN, "开奖了吗？")  # a question, not the command
    assert said(chat) == []
    await chat.say(ALICE, "开奖")  # not the starter
    close = await chat.say(ADMIN, "开奖")
    refused, drawn = said(chat)
    assert refused == "@Alice 只有发起人或管理员可以开奖。"
    secret = re.search(r"secret = ([0-9a-f]{64})", drawn)
    assert secret is not None
    # the secret revealed now is the one committed to at the start
    assert hashlib.sha256(secret.group(1).encode()).hexdigest() == commitment.group(1)
    winners = recompute(1, close.message_id, secret.group(1), ["alice", "erin", "frank"], 2)
    names = {"alice": "Alice", "erin": "Erin", "frank": "Frank"}
    assert f"中奖：@{names[winners[0]]} @{names[winners[1]]}\n共 3 人参与。" in drawn
    lottery = rows(store, schema.lotteries)[0]
    assert json.loads(lottery.entrants) == ["alice", "erin", "frank"]
    assert json.loads(lottery.result) == winners
    with store.engine.connect() as conn:
        check = verify_draw(conn, 1)
    assert check.ok and check.winners == winners and check.problems == []
    await chat.say(FRANK, "参与抽奖")  # drawn: the keyword is just a message now
    assert said(chat) == []


async def test_tampering_is_detected(store: Store) -> None:
    chat = await setup_lottery(store)
    await chat.say(ADMIN, "/lottery --winners 1 --days 30 --keyword 抽我 T-shirt")
    for who in (ALICE, ERIN, FRANK):
        await chat.say(who, "抽我")
    await chat.say(ADMIN, "/draw")
    lt, le = schema.lotteries, schema.lottery_entries

    def problems() -> list[str]:
        with store.engine.connect() as conn:
            return verify_draw(conn, 1).problems

    assert problems() == []
    honest = json.loads(rows(store, lt)[0].result)
    other = next(m for m in ("alice", "erin", "frank") if m not in honest)
    with store.engine.begin() as conn:  # someone swaps the winner afterwards
        conn.execute(update(lt).values(result=json.dumps([other])))
    assert problems() == ["the announced winners are not the recomputed ones"]
    with store.engine.begin() as conn:
        conn.execute(update(lt).values(result=json.dumps(honest)))
        conn.execute(le.insert().values(lottery_id=1, member_id="zed", name="Zed",
                                        message_id="x", ts=1.0))  # fmt: skip
    assert problems() == ["the logged entrant list differs from the entries"]
    with store.engine.begin() as conn:
        conn.execute(le.delete().where(le.c.member_id == "zed"))
        conn.execute(update(lt).values(secret="0" * 64))  # a different secret
    assert problems()[0] == "the secret does not match the announced commitment"


async def test_deadline_draw_and_the_cli_verifies_it(store: Store) -> None:
    chat = await setup_lottery(store)
    t0 = chat.clock.now
    await chat.say(ADMIN, "发起抽奖 30分钟 近7天 新书一本")
    await chat.say(ERIN, "参与抽奖")
    await chat.say(FRANK, "参与抽奖")
    chat.take()
    assert await tick(chat, t0 + 20 * 60) == []
    (drawn,) = await tick(chat, t0 + 31 * 60)
    assert drawn.startswith("🎉 抽奖 #1 开奖：新书一本\n中奖：@")
    deadline = rows(store, schema.lotteries)[0].deadline
    assert f"seed = sha256(1:deadline:{deadline:.0f}:secret)" in drawn
    assert await tick(chat, t0 + 40 * 60) == []  # drawn once
    if store.dialect != "sqlite":
        return  # the CLI test needs a URL it can open again; SQLite's is enough
    runner = CliRunner()
    app = typer.Typer()  # just this command: the test does not depend on the others
    activity.register(app)

    def build_app() -> typer.Typer:
        return app

    ok = runner.invoke(build_app(), ["activity", "verify-draw", "1", "--db", store.url, "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["ok"] is True
    with store.engine.begin() as conn:
        conn.execute(update(schema.lotteries).values(seed="f" * 64))
    bad = runner.invoke(build_app(), ["activity", "verify-draw", "1", "--db", store.url])
    assert bad.exit_code == 1
    assert "the logged seed is not sha256(id:close_ref:secret)" in bad.stdout
    missing = runner.invoke(build_app(), ["activity", "verify-draw", "9", "--db", store.url])
    assert missing.exit_code == 2
