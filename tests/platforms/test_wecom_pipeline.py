"""The strike ladder in a WeCom customer group: owner tasks and app messages, no calls.

The story the other adapters' transcripts tell (an ad three times: deleted and
warned, muted, kicked), told where the app can do none of it. Messages come from the
session archive (the only way a WeCom app sees customer-group messages) through the
adapter into the real Pipeline on a real archive (the ``store`` fixture). Every
action becomes a ``human_tasks`` row, and the pipeline's hook (after it carries out
actions it calls ``platform.notify_human_tasks(store, now)``) tells the group's
owner through ``message/send`` exactly what to do. The fake WeCom API proves that
nothing else was called.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from bot_transcript import Clock, audit, params, rows, stand_in_moderate
from test_wecom_adapter import (
    ACCESS_TOKEN,
    AGENT,
    CHAT,
    CUSTOMER,
    FakeWeCom,
    detail,
    fake_wecom,
    make_adapter,
)

from shequn.botconfig import GroupSettings
from shequn.pipeline import Pipeline
from shequn.platforms.port import Platform
from shequn.store import Store, schema


@pytest.fixture
async def wecom() -> AsyncIterator[tuple[FakeWeCom, str]]:
    async with fake_wecom() as served:
        yield served


T0 = 1_790_000_000.0  # 2026-09-21 22:13:20 in Shanghai
AD = "优惠多多 加微信 abc123"


def record(seq: int, text: str, sender: str = CUSTOMER) -> dict[str, Any]:
    """A decrypted session-archive text record (fields as 会话内容存档 documents them)."""
    return {"seq": seq, "msgid": f"1001{seq}_{int(T0) + seq}", "action": "send",
            "from": sender, "tolist": ["ZhuShengBen"], "roomid": CHAT,
            "msgtime": int((T0 + seq) * 1000), "msgtype": "text",
            "text": {"content": text}}  # fmt: skip


def owner_notice(text: str) -> tuple[str, str, dict[str, str], Any]:
    return ("POST", "/message/send", {"access_token": ACCESS_TOKEN},
            {"touser": "ZhuShengBen", "msgtype": "text", "agentid": AGENT,
             "text": {"content": text}})  # fmt: skip


HEAD = "【销售客服群】社群机器人无法在企业微信客户群里直接操作，请您手动处理（原因：广告）：\n"
TAIL = "\n完成后请在控制台任务列表中标记完成。"
WHO = f"顾客老王（{CUSTOMER}）"


async def test_an_ad_becomes_owner_tasks_and_app_messages_not_calls(
    store: Store, wecom: tuple[FakeWeCom, str]
) -> None:
    fake, base = wecom
    fake.groups[CHAT] = detail()
    records = [record(1, "大家好"), record(2, AD), record(3, AD), record(4, AD)]

    async def archive(after: int) -> list[dict[str, Any]]:
        return [r for r in records if r["seq"] > after]

    clock = Clock(T0 + 10)
    adapter = make_adapter(base, archive=archive)
    adapter.clock = clock
    pipeline = Pipeline(store, stand_in_moderate, lambda _p, _g: GroupSettings(), clock)
    handled: list[Any] = []

    async def handle(event: Any, platform: Platform) -> None:
        clock.advance(1)
        await pipeline.handle(event, platform)
        handled.append(event)

    task = asyncio.create_task(adapter.start(handle))
    async with asyncio.timeout(10):
        while adapter.archive_seq < 4:
            await asyncio.sleep(0.01)
    await adapter.stop()
    await asyncio.wait_for(task, 5)

    m2, m3, m4 = (r["msgid"] for r in records[1:])
    warn = "@顾客老王 请勿发布广告，这是第 1 次违规，再犯将被禁言或移出。如有误判，可发送「申诉 理由」。"
    # every decision is audited, and none could be carried out by API
    assert audit(store) == [
        ("delete", "human_task", "strike.ad", params(message_id=m2)),
        ("send", "human_task", "strike.ad", params(text=warn)),
        ("delete", "human_task", "strike.ad", params(message_id=m3)),
        ("mute", "human_task", "strike.ad", params(seconds=3600)),
        ("delete", "human_task", "strike.ad", params(message_id=m4)),
        ("kick", "human_task", "strike.ad", params()),
    ]
    tasks = rows(store, schema.human_tasks, schema.human_tasks.c.id)
    assert [(t.kind, t.member_id, t.status) for t in tasks] == [
        ("delete", CUSTOMER, "open"), ("send", CUSTOMER, "open"), ("delete", CUSTOMER, "open"),
        ("mute", CUSTOMER, "open"), ("delete", CUSTOMER, "open"), ("kick", CUSTOMER, "open"),
    ]  # fmt: skip

    calls = fake.take()
    sync = [c[1] for c in calls[:3]]
    assert sync == ["/gettoken", "/externalcontact/groupchat/list",
                    "/externalcontact/groupchat/get"]  # fmt: skip
    # then nothing but one app message to the owner per task, saying exactly what to do
    assert calls[3:] == [
        owner_notice(
            f"{HEAD}撤回 {WHO} 09-21 22:13 发的消息：「{AD}」（群主可长按该消息 → 撤回）{TAIL}"
        ),
        owner_notice(f"{HEAD}在群里发送以下内容：\n{warn}{TAIL}"),
        owner_notice(
            f"{HEAD}撤回 {WHO} 09-21 22:13 发的消息：「{AD}」（群主可长按该消息 → 撤回）{TAIL}"
        ),
        owner_notice(f"{HEAD}企业微信客户群没有禁言：请私下提醒 {WHO}，再犯请将其移出群聊{TAIL}"),
        owner_notice(
            f"{HEAD}撤回 {WHO} 09-21 22:13 发的消息：「{AD}」（群主可长按该消息 → 撤回）{TAIL}"
        ),
        owner_notice(f"{HEAD}将 {WHO} 移出群聊（群详情 → 群成员 → 删除）{TAIL}"),
    ]
    notices = rows(store, schema.wecom_owner_tasks, schema.wecom_owner_tasks.c.id)
    assert [(n.human_task_id, n.owner, n.msgid, n.status) for n in notices] == [
        (t.id, "ZhuShengBen", "xxxx", "notified") for t in tasks
    ]
    # the groups the sync saw are remembered for mass sends and the 活码
    g = rows(store, schema.wecom_groups)
    assert [(r.chat_id, r.name, r.owner, r.size) for r in g] == [
        (CHAT, "销售客服群", "ZhuShengBen", 2)
    ]

    # a second pass (the next tick) notifies nobody twice
    await adapter.notify_human_tasks(store, clock())
    assert fake.take() == []
    await adapter.aclose()


async def test_staff_are_not_moderated_and_a_failed_notice_is_recorded(
    store: Store, wecom: tuple[FakeWeCom, str]
) -> None:
    fake, base = wecom
    fake.groups[CHAT] = detail()
    fake.errors["/message/send"] = [{"errcode": 81013, "errmsg": "user & party & tag all invalid"}]
    records = [record(1, AD, sender="abel"), record(2, AD)]

    async def archive(after: int) -> list[dict[str, Any]]:
        return [r for r in records if r["seq"] > after]

    clock = Clock(T0 + 10)
    adapter = make_adapter(base, archive=archive)
    pipeline = Pipeline(store, stand_in_moderate, lambda _p, _g: GroupSettings(), clock)

    async def handle(event: Any, platform: Platform) -> None:
        await pipeline.handle(event, platform)

    task = asyncio.create_task(adapter.start(handle))
    async with asyncio.timeout(10):
        while adapter.archive_seq < 2:
            await asyncio.sleep(0.01)
    await adapter.stop()
    await asyncio.wait_for(task, 5)
    # abel is staff (a company member): only the customer's ad is acted on
    assert [(a[0], a[1]) for a in audit(store)] == [("delete", "human_task"),
                                                   ("send", "human_task")]  # fmt: skip
    notices = rows(store, schema.wecom_owner_tasks, schema.wecom_owner_tasks.c.id)
    assert [(n.kind, n.status) for n in notices] == [("delete", "failed"), ("send", "notified")]
    assert "81013" in notices[0].error
    # the task itself stays open in the console's list
    assert [t.status for t in rows(store, schema.human_tasks)] == ["open", "open"]
