"""WeCom tasks followed to their effect: seen done, expired, and what a mass send did.

The strike-ladder story of test_wecom_pipeline.py (an ad three times in a customer
group: owner tasks, no API calls), then what the owner does about it as WeCom shows
it: the session archive records a recall of one ad (``msgtype: revoke``) and the
warning posted by the owner; the documented ``del_member`` callback (QuitScene 1:
removed by the owner) and the next sync show the customer gone. Each closes its task
with ``confirmed_by``; the rest expire. A mass send is then followed through
``get_groupmsg_send_result`` (the documented ``send_list`` shape) on the loopback
WeCom, and its effect is the group's messages the day before and after it.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from test_wecom_adapter import (
    API,
    CALLBACKS,
    CHAT,
    CUSTOMER,
    FakeWeCom,
    detail,
    fake_wecom,
    make_adapter,
)

from shequn.botconfig import GroupSettings
from shequn.events import MemberRef, MessagePosted
from shequn.pipeline import Pipeline
from shequn.platforms.port import Platform
from shequn.platforms.wecom import (
    confirm_from_archive,
    effects,
    expire_owner_tasks,
    owner_message,
    parse_xml,
    plan_mass_send,
)
from shequn.platforms.wecom.tasks import MASS_SEND_SECONDS, save_groups
from shequn.store import Store, schema
from shequn.store.writer import ArchiveWriter

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from bot_transcript import Clock, stand_in_moderate

T0 = 1_790_000_000.0
AD = "优惠多多 加微信 abc123"
OWNER = "ZhuShengBen"
OTHER = "wrOgQhDgAAcwMTB7YmDkbeBsAAAA"
RESULT = "/externalcontact/get_groupmsg_send_result"


@pytest.fixture
async def wecom() -> AsyncIterator[tuple[FakeWeCom, str]]:
    async with fake_wecom() as served:
        yield served


def record(seq: int, at: float, sender: str = CUSTOMER, **body: Any) -> dict[str, Any]:
    """A decrypted session-archive record (fields as 会话内容存档 documents them)."""
    kind = "revoke" if "revoke" in body else "text"
    return {"seq": seq, "msgid": f"1001{seq}_{int(at)}", "action": "recall" if kind == "revoke"
            else "send", "from": sender, "tolist": [OWNER], "roomid": CHAT,
            "msgtime": int(at * 1000), "msgtype": kind, **body}  # fmt: skip


def said(seq: int, at: float, text: str, sender: str = CUSTOMER) -> dict[str, Any]:
    return record(seq, at, sender, text={"content": text})


def owner_tasks(store: Store) -> list[tuple[str, str, str | None]]:
    o = schema.wecom_owner_tasks
    with store.engine.connect() as conn:
        rows = conn.execute(select(o).order_by(o.c.id)).all()
    return [(r.kind, r.status, r.confirmed_by) for r in rows]


def human(store: Store) -> list[tuple[str, str]]:
    h = schema.human_tasks
    with store.engine.connect() as conn:
        return [(r.kind, r.status) for r in conn.execute(select(h).order_by(h.c.id))]


async def test_owner_tasks_are_closed_by_what_wecom_shows(
    store: Store, wecom: tuple[FakeWeCom, str]
) -> None:
    fake, base = wecom
    fake.groups[CHAT] = detail()
    records = [said(1, T0 + 1, "大家好"), said(2, T0 + 2, AD), said(3, T0 + 3, AD),
               said(4, T0 + 4, AD)]  # fmt: skip

    async def archive(after: int) -> list[dict[str, Any]]:
        return [r for r in records if r["seq"] > after]

    clock = Clock(T0 + 10)
    adapter = make_adapter(base, archive=archive, store=store)
    adapter.clock = clock
    pipeline = Pipeline(store, stand_in_moderate, lambda _p, _g: GroupSettings(), clock)

    async def handle(event: Any, platform: Platform) -> None:
        clock.advance(1)
        await pipeline.handle(event, platform)

    adapter._handle = handle  # what start() sets; the steps are driven one by one here
    await adapter.sync()
    await adapter.pull_archive()
    assert owner_tasks(store) == [(k, "notified", None) for k in
                                  ("delete", "send", "delete", "mute", "delete", "kick")]  # fmt: skip
    a = schema.bot_actions
    with store.engine.connect() as conn:
        warn = json.loads(conn.execute(select(a.c.params).where(a.c.kind == "send")).scalar_one())
    m2 = records[1]["msgid"]

    # the text seen before the task was made, or in another group, does not count
    with store.engine.begin() as conn:
        early = said(9, T0, warn["text"])
        assert confirm_from_archive(conn, [early, {**early, "msgtime": int(clock() * 1000),
                                                   "roomid": OTHER}]) == 0  # fmt: skip
    # the owner recalls the first ad and posts the warning: the archive shows both
    records += [
        record(5, clock() + 60, OWNER, revoke={"pre_msgid": m2}),
        said(6, clock() + 120, f"【群公告】{warn['text']}  ", sender=OWNER),
    ]
    await adapter.pull_archive()
    assert owner_tasks(store) == [
        ("delete", "done", "archive"), ("send", "done", "archive"),
        ("delete", "notified", None), ("mute", "notified", None),
        ("delete", "notified", None), ("kick", "notified", None),
    ]  # fmt: skip
    # ... and removes the customer: the leave callback says so
    fake.groups[CHAT] = detail(
        member_list=[m for m in detail()["member_list"] if m["userid"] != CUSTOMER]
    )
    await adapter.deliver(parse_xml(CALLBACKS["chat_del_member_removed"]))
    assert owner_tasks(store)[5] == ("kick", "done", "sync")
    assert human(store)[:2] == [("delete", "done"), ("send", "done")]
    assert human(store)[5] == ("kick", "done")

    # what nobody did expires after a day; the effect of it all, measured
    with store.engine.begin() as conn:
        assert expire_owner_tasks(conn, clock() + 86400) == 3
        got = effects(conn, clock() + 86400)
    assert got.owner_tasks == {"delete": {"done": 1, "expired": 2}, "send": {"done": 1},
                               "mute": {"expired": 1}, "kick": {"done": 1}}  # fmt: skip
    assert got.confirmed_by == {"archive": 2, "sync": 1}
    assert got.median_minutes_to_done is not None and 0 < got.median_minutes_to_done < 5
    await adapter.aclose()


async def test_a_removal_seen_only_by_the_next_sync_closes_the_task_too(
    store: Store, wecom: tuple[FakeWeCom, str]
) -> None:
    fake, base = wecom
    fake.groups[CHAT] = detail()
    adapter = make_adapter(base, store=store)
    handled: list[Any] = []

    async def handle(event: Any, platform: Platform) -> None:
        handled.append(event)

    adapter._handle = handle
    await adapter.sync()
    h, o = schema.human_tasks, schema.wecom_owner_tasks
    with store.engine.begin() as conn:
        for member, kind in ((CUSTOMER, "ban"), ("abel", "kick")):
            tid = conn.execute(h.insert().values(platform="wecom", group_id=CHAT, member_id=member,
                                                 kind=kind, text="", status="open",
                                                 created_at=T0))  # fmt: skip
            conn.execute(o.insert().values(
                human_task_id=tid.inserted_primary_key[0], chat_id=CHAT, owner=OWNER, kind=kind,
                text="", status="notified", created_at=T0, expires_at=T0 + 86400))  # fmt: skip
    await adapter.sync()  # both still there: nothing closes
    assert owner_tasks(store) == [("ban", "notified", None), ("kick", "notified", None)]
    fake.groups[CHAT] = detail(
        member_list=[m for m in detail()["member_list"] if m["userid"] != CUSTOMER]
    )
    await adapter.sync()
    assert owner_tasks(store) == [("ban", "done", "sync"), ("kick", "notified", None)]
    await adapter.aclose()


async def test_mass_sends_are_followed_to_the_group_and_their_effect_measured(
    store: Store, wecom: tuple[FakeWeCom, str]
) -> None:
    fake, base = wecom
    adapter = make_adapter(base, store=store)
    adapter.clock = lambda: T0
    with store.engine.begin() as conn:
        info = {c: type("G", (), {"name": c, "owner": OWNER, "size": 10})() for c in (CHAT, OTHER)}
        save_groups(conn, info, T0)
        plan = plan_mass_send(conn, [CHAT, OTHER], "周五晚八点直播", now=T0)
    assert await adapter.submit_mass_sends(store, T0) == 2
    msgid = API["add_msg_template"]["msgid"]
    fake.take()
    sent_at = T0 + 3600
    fake.answers[RESULT] = {"errcode": 0, "errmsg": "ok", "next_cursor": "", "send_list": [
        {"chat_id": CHAT, "userid": OWNER, "status": 1, "send_time": int(sent_at)},
        {"chat_id": OTHER, "userid": OWNER, "status": 0, "send_time": 0}]}  # fmt: skip
    assert await adapter.check_mass_sends() == 1
    [(_m, path, _q, body)] = [c for c in fake.take() if c[1] != "/gettoken"]
    assert path == RESULT and body["userid"] == OWNER and body["msgid"] == msgid
    ms = schema.wecom_mass_sends
    with store.engine.connect() as conn:
        rows = {r.chat_id: r for r in conn.execute(select(ms))}
    assert (rows[CHAT].status, rows[CHAT].sent_at) == ("sent", sent_at)
    assert rows[OTHER].status == "submitted"  # not yet: asked again next round
    # the other group's owner never sends: expired after three days
    adapter.clock = lambda: T0 + MASS_SEND_SECONDS
    assert await adapter.check_mass_sends() == 0
    with store.engine.connect() as conn:
        assert conn.execute(select(ms.c.status).where(ms.c.chat_id == OTHER)).scalar() == "expired"

    # the effect: the group's messages in the day before and the day after the send
    who = MemberRef(CUSTOMER, "顾客老王")
    times = [
        sent_at - 7200,
        sent_at - 60,
        sent_at + 10,
        sent_at + 600,
        sent_at + 3600,
        sent_at - 2 * 86400,
        sent_at + 2 * 86400,
    ]  # the last two: outside both days
    with store.engine.begin() as conn:
        w = ArchiveWriter(conn)
        w.add_all([MessagePosted("wecom", CHAT, f"m{i}", t, who, "好") for i, t in
                   enumerate(times)])  # fmt: skip
        w.flush()
        early = effects(conn, sent_at + 3600)
        late = effects(conn, sent_at + 86400)
    assert early.mass_sends == {"sent": 1, "expired": 1}
    assert [(e.chat_id, e.before, e.after) for e in early.sent] == [(CHAT, 2, None)]
    assert [(e.chat_id, e.before, e.after) for e in late.sent] == [(CHAT, 2, 3)]
    assert plan.planned.keys() == {CHAT, OTHER}
    await adapter.aclose()


async def test_the_running_adapter_submits_and_follows_mass_sends(
    sqlite_store: Store, wecom: tuple[FakeWeCom, str]
) -> None:
    fake, base = wecom
    fake.groups[CHAT] = detail()
    store = sqlite_store
    with store.engine.begin() as conn:
        save_groups(conn, {CHAT: type("G", (), {"name": "g", "owner": OWNER, "size": 2})()}, T0)
        plan_mass_send(conn, [CHAT], "周五晚八点直播", now=T0)
    fake.answers[RESULT] = {"errcode": 0, "errmsg": "ok", "next_cursor": "", "send_list": [
        {"chat_id": CHAT, "userid": OWNER, "status": 1, "send_time": int(T0 + 60)}]}  # fmt: skip
    adapter = make_adapter(base, store=store)

    async def handle(event: Any, platform: Platform) -> None:
        return None

    ms = schema.wecom_mass_sends

    def status() -> str | None:
        with store.engine.connect() as conn:
            return conn.execute(select(ms.c.status)).scalar()

    task = asyncio.create_task(adapter.start(handle))
    async with asyncio.timeout(10):
        while status() != "sent":
            await asyncio.sleep(0.02)
    await adapter.stop()
    await asyncio.wait_for(task, 5)
    paths = [c[1] for c in fake.calls]
    assert paths.index("/externalcontact/add_msg_template") < paths.index(RESULT)


def test_a_role_grant_in_a_customer_group_is_worded_for_the_owner() -> None:
    text = owner_message("销售客服群", "grant_role", member="顾客老王", params={"role": "活跃成员"})
    assert "为 顾客老王 授予身份「活跃成员」" in text and text.startswith("【销售客服群】")
