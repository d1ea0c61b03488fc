"""Plans, mass messages and topics through the real Pipeline, FakePlatform and database."""

from __future__ import annotations

from datetime import UTC, datetime

from content_helpers import Clock, pipeline, rows, settings

from shequn.events import MemberJoined, MemberRef, MessagePosted
from shequn.features import content
from shequn.features.content import PlanInput, create_mass, create_plan, set_status
from shequn.features.content.schedule import zone
from shequn.platforms.port import Capability, FakePlatform
from shequn.store import Store, schema

BERLIN = zone("Europe/Berlin")


def berlin(*a: int) -> float:
    return datetime(*a, tzinfo=BERLIN).timestamp()


def weekday_plan(store: Store, now: float, groups: tuple[tuple[str, str], ...]) -> int:
    with store.engine.begin() as conn:
        return create_plan(
            conn,
            PlanInput(
                name="早报", text="☀️ 早安！今日资讯", kind="weekly", weekdays="0,1,2,3,4",
                window_start="09:00", window_end="10:00", link="https://example.org/news",
                groups=groups,
            ),
            by="test", now=now,
        )  # fmt: skip


async def test_each_occurrence_is_sent_once_across_ticks_and_a_restart(store: Store) -> None:
    clock = Clock(berlin(2026, 3, 26, 8, 0))  # Thursday before the DST change
    fake = FakePlatform(name="fake")
    s = settings(timezone="Europe/Berlin")
    pid = weekday_plan(store, clock.now, (("fake", "g1"), ("fake", "g2")))
    p = pipeline(store, clock, s)
    p.attach(fake)
    await p.tick()
    assert fake.calls == []  # not yet 09:00
    for _ in range(12):  # every 10 minutes until 10:00
        clock.now += 600
        await p.tick()
        await p.tick()
    texts = [(c.args["group_id"], c.args["text"]) for c in fake.calls]
    assert sorted(g for g, _ in texts) == ["g1", "g2"]
    assert texts[0][1] == "☀️ 早安！今日资讯\nhttps://example.org/news"
    # a restart: a new pipeline on the same database finds the sends and does nothing
    p2 = pipeline(store, clock, s)
    p2.attach(fake)
    await p2.tick()
    assert len(fake.calls) == 2
    # Friday, Saturday, Sunday (DST change), Monday: two more working days
    for _ in range(4 * 24):
        clock.now += 3600
        await p2.tick()
    sends = rows(store, schema.content_sends, schema.content_sends.c.source_id == pid)
    assert [(r.group_id, r.occurrence) for r in sends if r.group_id == "g1"] == [
        ("g1", "2026-03-26"), ("g1", "2026-03-27"), ("g1", "2026-03-30"),
    ]  # fmt: skip
    assert len(fake.calls) == 6
    for r in sends:  # sent inside the local window, Monday included (now UTC+2)
        local = datetime.fromtimestamp(r.planned_at, BERLIN)
        assert 9 <= local.hour < 11, local
    acts = rows(store, schema.bot_actions)
    assert {a.status for a in acts} == {"done"} and len(acts) == 6
    assert all(a.event_key.startswith(f"content.plan:{pid}:") for a in acts)


async def test_pause_skips_and_resume_does_not_catch_up(store: Store) -> None:
    clock = Clock(berlin(2026, 6, 1, 8, 0))  # a Monday
    fake = FakePlatform(name="fake")
    pid = weekday_plan(store, clock.now, (("fake", "g1"),))
    p = pipeline(store, clock, settings(timezone="Europe/Berlin"))
    p.attach(fake)
    with store.engine.begin() as conn:
        set_status(conn, pid, "paused", now=clock.now)
    clock.now = berlin(2026, 6, 1, 11, 0)
    await p.tick()
    with store.engine.begin() as conn:
        set_status(conn, pid, "active", now=clock.now)
    await p.tick()
    assert fake.calls == []  # Monday's post fell due while paused: not posted late
    clock.now = berlin(2026, 6, 2, 11, 0)
    await p.tick()
    assert len(fake.calls) == 1


async def test_a_platform_that_cannot_send_gets_a_human_task_with_the_text(store: Store) -> None:
    clock = Clock(berlin(2026, 6, 1, 8, 0))
    wecom = FakePlatform(name="wecom", capabilities=frozenset({Capability.DELETE}))
    with store.engine.begin() as conn:
        create_plan(
            conn,
            PlanInput(name="视频", text="今天的视频来了", kind="once", at_local="2026-06-01 13:30",
                      image_url="https://example.org/v.png", groups=(("wecom", "room1"),),
                      timezone="Europe/Berlin"),
            by="t", now=clock.now,
        )  # fmt: skip
    p = pipeline(store, clock)
    p.attach(wecom)
    clock.now = berlin(2026, 6, 1, 13, 31)
    await p.tick()
    await p.tick()
    assert wecom.calls == []
    [task] = rows(store, schema.human_tasks)
    assert task.kind == "send" and task.group_id == "room1"
    assert "今天的视频来了" in task.text and "https://example.org/v.png" in task.text
    [action] = rows(store, schema.bot_actions)
    assert action.status == "human_task" and action.id == task.action_id


async def test_newcomer_nurture_n_days_after_join(store: Store) -> None:
    clock = Clock(datetime(2026, 5, 1, 0, 0, tzinfo=UTC).timestamp())
    fake = FakePlatform(name="fake")
    with store.engine.begin() as conn:
        create_plan(
            conn,
            PlanInput(name="新人第3天", text="@{name} 来了三天啦，看看精华帖吧", kind="after_join",
                      days=3, window_start="20:00", window_end="20:30",
                      groups=(("fake", "g1"),)),
            by="t", now=clock.now,
        )  # fmt: skip
    p = pipeline(store, clock)  # Asia/Shanghai by default
    p.attach(fake)
    clock.now += 3600
    await p.handle(MemberJoined("fake", "g1", "j1", clock.now, MemberRef("u1", "小王")), fake)
    fake.calls.clear()  # whatever the gate said
    for _ in range(5 * 24):
        clock.now += 3600
        await p.tick()
    sent = [c.args["text"] for c in fake.calls if "精华帖" in c.args["text"]]
    assert sent == ["@小王 来了三天啦，看看精华帖吧"]
    [row] = rows(store, schema.content_sends)
    local = datetime.fromtimestamp(row.due_at, zone("Asia/Shanghai"))
    assert (local.date().isoformat(), local.hour) == ("2026-05-04", 20)


async def test_mass_message_rate_limit_daily_cap_and_report(store: Store) -> None:
    clock = Clock(berlin(2026, 6, 1, 9, 0))
    fake = FakePlatform(name="fake")
    wecom = FakePlatform(name="wecom", capabilities=frozenset())
    s = settings(timezone="Europe/Berlin", mass_per_second=0.5, mass_daily_cap=2)
    groups = [("fake", f"g{i:02}") for i in range(12)] + [("wecom", "w1")]
    with store.engine.begin() as conn:
        first = create_mass(conn, text="双十一活动", groups=groups, by="t", now=clock.now)
        second = create_mass(conn, text="第二条", groups=[("fake", "g00")], by="t", now=clock.now)
        third = create_mass(conn, text="第三条", groups=[("fake", "g00")], by="t", now=clock.now)
    p = pipeline(store, clock, s)
    p.attach(fake)
    p.attach(wecom)
    await p.tick()
    assert len(fake.calls) == 5  # a burst of 10 s at 0.5/s
    clock.now += 4
    await p.tick()
    assert len(fake.calls) == 7  # 4 s later: 2 more
    clock.now += 60
    await p.tick()  # the bucket holds 5 at most
    assert len(fake.calls) == 12
    clock.now += 60
    await p.tick()
    with store.engine.connect() as conn:
        report = content.report(conn, "mass", first)
        assert content.summary(report) == {"sent": 12, "human_task": 1}
        assert {d.group_id: d.state for d in report}["w1"] == "human_task"
        # g00 got the first and the second today; the third waits for tomorrow (cap 2)
        assert [d.state for d in content.report(conn, "mass", second)] == ["sent"]
        assert [d.state for d in content.report(conn, "mass", third)] == ["queued"]
    assert len(fake.calls) == 13
    clock.now = berlin(2026, 6, 2, 0, 5)
    await p.tick()
    with store.engine.connect() as conn:
        assert [d.state for d in content.report(conn, "mass", third)] == ["sent"]
    assert [c.args["group_id"] for c in fake.calls].count("g00") == 3


async def test_topic_posts_then_links_at_the_peak_and_records_the_result(store: Store) -> None:
    clock = Clock(berlin(2026, 6, 1, 19, 0))
    fake = FakePlatform(name="fake")
    with store.engine.begin() as conn:
        content.add_topic(
            conn, platform="fake", group_id="g1", day="2026-06-01", post_at="20:00",
            text="今日话题：你最爱的跑鞋？", product_text="今日好物", product_link="https://shop/x",
            link_after_messages=3, timezone="Europe/Berlin", now=clock.now,
        )  # fmt: skip
    p = pipeline(store, clock)
    p.attach(fake)
    clock.now = berlin(2026, 6, 1, 20, 1)
    await p.tick()
    assert [c.args["text"] for c in fake.calls] == ["今日话题：你最爱的跑鞋？"]
    for i, who in enumerate(["a", "b", "a"]):
        clock.now += 60
        ev = MessagePosted("fake", "g1", f"m{i}", clock.now, MemberRef(who, who), "我喜欢这双")
        await p.handle(ev, fake)
        await p.tick()
    assert fake.calls[-1].args["text"] == "今日好物\nhttps://shop/x"
    clock.now += 3600
    await p.tick()
    [topic] = rows(store, schema.content_topics)
    assert (topic.status, topic.replies, topic.participants) == ("done", 3, 2)
    assert len(fake.calls) == 2


async def test_late_occurrences_are_missed_and_group_sets_and_group_age(store: Store) -> None:
    clock = Clock(berlin(2026, 6, 1, 8, 0))  # a Monday
    fake = FakePlatform(name="fake")
    # the archive knows g1 from its first message on Friday, May 29
    p = pipeline(store, clock, settings(timezone="Europe/Berlin"))
    born = berlin(2026, 5, 29, 18, 0)
    await p.handle(MessagePosted("fake", "g1", "m0", born, MemberRef("a", "a"), "hello"), fake)
    with store.engine.begin() as conn:
        sid = conn.execute(
            schema.console_group_sets.insert().values(name="S", created_at=clock.now)
        ).inserted_primary_key[0]
        conn.execute(
            schema.console_group_set_members.insert().values(
                group_set_id=sid, platform="fake", group_id="g1"
            )
        )
        create_plan(
            conn,
            PlanInput(name="第4天", text="建群第四天", kind="after_creation", days=3,
                      window_start="10:00", group_set_id=sid),
            by="t", now=clock.now,
        )  # fmt: skip
        weekly = create_plan(
            conn,
            PlanInput(name="早报", text="早安", kind="weekly", weekdays="0", window_start="09:00",
                      groups=(("fake", "g1"),)),
            by="t", now=clock.now,
        )  # fmt: skip
    p.attach(fake)
    fake.calls.clear()
    clock.now = berlin(2026, 6, 1, 12, 30)  # the bot was down until 12:30
    await p.tick()
    # May 29 + 3 days = Monday June 1, 10:00: 2.5 h late (> 120 min) -> missed, like 09:xx
    sends = rows(store, schema.content_sends)
    assert sorted((r.occurrence, r.status) for r in sends) == [
        ("2026-06-01", "missed"),
        ("day3", "missed"),
    ]
    assert fake.calls == []
    clock.now = berlin(2026, 6, 8, 9, 59)
    await p.tick()
    assert [c.args["text"] for c in fake.calls] == ["早安"]
    with store.engine.connect() as conn:
        assert [d.state for d in content.report(conn, "plan", weekly)] == ["missed", "sent"]
