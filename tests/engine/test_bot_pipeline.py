"""The pipeline's guarantees: exactly-once effects across redelivery, restarts and crashes."""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass, field

import pytest
from bot_transcript import GROUP, Chat, audit, make_chat, make_pipeline, params, rows, user
from sqlalchemy import func, select

from shequn.botconfig import GroupSettings
from shequn.events import Event, GroupSeen, MemberLeft, MessagePosted, ReactionAdded
from shequn.features.checkin import CheckinSettings
from shequn.pipeline import Context, event_key
from shequn.platforms.port import FakePlatform, PlatformError
from shequn.store import Store, schema

AD = "加微信 abc123"
ALICE = user("alice", "Alice")
BOB = user("bob", "Bob")


def count(store: Store, table: object) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


async def test_restart_and_redelivery_act_once_and_lose_nothing(store: Store) -> None:
    chat = make_chat(store)
    await chat.say(ALICE, "hello")
    await chat.say(ALICE, AD)
    first = chat.take()
    assert [c[0] for c in first] == ["delete", "send"]

    # The process restarts; the adapter redelivers everything it had not acknowledged,
    # plus one new event.
    again = make_pipeline(store, clock=chat.clock)
    for ev in chat.sent:
        assert await again.handle(ev, chat.platform) is False
    assert chat.take() == []
    new = MessagePosted("fake", GROUP, "m3", chat.clock.advance(1), ALICE, AD)
    assert await again.handle(new, chat.platform) is True
    # the second strike, not a first: muted, and the group told why
    assert [c[0] for c in chat.take()] == ["delete", "mute", "send"]
    assert count(store, schema.processed_events) == 3
    assert count(store, schema.messages) == 3  # every event is in the archive, once
    assert [a[1] for a in audit(store)] == ["done"] * 5


class Crash(BaseException):
    """Stands for the process dying (kill -9, power cut): nothing after it runs."""


@dataclass
class FlakyPlatform(FakePlatform):
    """Fails the first call of ``fail_on`` with ``error``, then works."""

    fail_on: str = "mute"
    error: BaseException | None = None

    async def mute(self, group_id: str, member_id: str, seconds: int) -> None:
        if self.fail_on == "mute" and self.error is not None:
            err, self.error = self.error, None
            raise err
        await super().mute(group_id, member_id, seconds)


async def test_a_crash_after_the_audit_row_is_retried_exactly_once(store: Store) -> None:
    platform = FlakyPlatform(error=Crash())
    chat = make_chat(store, platform=platform)
    await chat.say(ALICE, AD)
    with pytest.raises(Crash):
        await chat.say(ALICE, AD)  # decided and committed; died before the mute went out
    assert [c[0] for c in chat.take()] == ["delete", "send", "delete"]
    assert audit(store)[-2] == ("mute", "planned", "strike.ad", params(seconds=3600))
    assert audit(store)[-1][:2] == ("send", "planned")  # the notice waits for the mute

    restarted = make_pipeline(store, clock=chat.clock)
    restarted.attach(platform)
    assert await restarted.resume() == 2
    mute, notice = chat.take()
    assert mute == ("mute", {"group_id": GROUP, "member_id": "alice", "seconds": 3600})
    assert notice[0] == "send" and "被禁言 1 小时" in notice[1]["text"]
    for ev in [*chat.sent, chat.sent[-1]]:  # the adapter redelivers; nothing more happens
        await restarted.handle(ev, platform)
    await restarted.tick()
    assert await restarted.resume() == 0
    assert chat.take() == []
    assert [a[1] for a in audit(store)] == ["done"] * 5


async def test_a_platform_error_stays_planned_and_tick_retries_it(store: Store) -> None:
    platform = FlakyPlatform(error=PlatformError("429", retry_after=1))
    chat = make_chat(store, platform=platform)
    await chat.say(ALICE, AD)
    await chat.say(ALICE, AD)
    assert [c[0] for c in chat.take()] == ["delete", "send", "delete"]
    mute = next(r for r in rows(store, schema.bot_actions) if r.kind == "mute")
    assert (mute.status, mute.attempts, mute.error) == ("planned", 1, "429")
    await chat.pipeline.tick()  # the platform said: wait 1 s
    assert chat.take() == []
    chat.clock.advance(1)
    await chat.pipeline.tick()
    assert [c[0] for c in chat.take()] == ["mute", "send"]  # the notice after the mute
    mute = next(r for r in rows(store, schema.bot_actions) if r.kind == "mute")
    assert (mute.status, mute.attempts, mute.error) == ("done", 2, None)


async def test_a_call_that_keeps_failing_goes_to_a_human(store: Store) -> None:
    @dataclass
    class Broken(FakePlatform):
        async def mute(self, group_id: str, member_id: str, seconds: int) -> None:
            raise PlatformError("no permission")

    chat = make_chat(store, platform=Broken())
    await chat.say(ALICE, AD)
    await chat.say(ALICE, AD)
    tried_at = []
    for _ in range(40):  # a tick a second: retries back off 1, 2, 4, 8 s, never a tight loop
        await chat.pipeline.tick()
        mute = next(r for r in rows(store, schema.bot_actions) if r.kind == "mute")
        if not tried_at or mute.attempts > tried_at[-1][0]:
            tried_at.append((mute.attempts, chat.clock.now))
        chat.clock.advance(1)
    assert (mute.kind, mute.status, mute.attempts) == ("mute", "failed", 5)
    gaps = [b[1] - a[1] for a, b in itertools.pairwise(tried_at)]
    assert gaps == [1, 2, 4, 8]
    (task,) = rows(store, schema.human_tasks)
    assert (task.kind, task.action_id, task.status) == ("mute", mute.id, "open")
    # the group is not told of a mute that did not happen: its notice is dropped
    notice = next(r for r in rows(store, schema.bot_actions) if r.id > mute.id)
    assert (notice.kind, notice.status) == ("send", "dropped")
    assert notice.error == f"not said: action {mute.id} was not made (failed)"
    assert "被禁言 1 小时" not in str(chat.platform.calls)


async def test_a_penalty_notice_waits_for_its_penalty(store: Store) -> None:
    platform = FlakyPlatform(error=PlatformError("502 bad gateway"))  # once, not a rate limit
    chat = make_chat(store, platform=platform)
    await chat.say(ALICE, AD)
    await chat.say(ALICE, AD)
    assert [c[0] for c in chat.take()] == ["delete", "send", "delete"]  # no notice yet
    await chat.pipeline.tick()
    assert chat.take() == []  # both wait for the mute's back-off
    chat.clock.advance(1)
    await chat.pipeline.tick()
    assert [c[0] for c in chat.take()] == ["mute", "send"]
    notice = rows(store, schema.bot_actions, schema.bot_actions.c.id)[-1]
    assert (notice.status, notice.attempts) == ("done", 1)  # waiting spent no attempt


async def test_handlers_run_by_priority_with_a_stop_and_one_error_hook(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    # The built-in check-in (priority 40) would answer 签到 itself: off for this test.
    chat = make_chat(store, GroupSettings(checkin=CheckinSettings(enabled=False)))
    seen: list[str] = []

    async def broken(ctx: Context) -> bool:
        ctx.plan("send", params={"text": "never sent"})
        raise RuntimeError("feature bug")

    async def faq(ctx: Context) -> bool:
        seen.append("faq")
        if isinstance(ctx.event, MessagePosted) and ctx.event.text == "签到":
            ctx.plan("send", params={"text": "已签到"})
            return True
        return False

    async def later(ctx: Context) -> bool:
        seen.append("later")
        return False

    chat.pipeline.register("later", later, priority=200)
    chat.pipeline.register("faq", faq, priority=100)
    chat.pipeline.register("broken", broken, priority=90)
    with caplog.at_level(logging.ERROR, logger="shequn.pipeline"):
        await chat.say(ALICE, "签到")
        await chat.say(ALICE, "hi")
        await chat.say(ALICE, AD)  # moderation (20) stops before the features
    assert seen == ["faq", "faq", "later"]
    assert [c[1].get("text") for c in chat.take()] == [
        "已签到",
        None,
        "@Alice 请勿发布广告，这是第 1 次违规，再犯将被禁言或移出。如有误判，可发送「申诉 理由」。",
    ]
    assert "broken" in caplog.text and "feature bug" in caplog.text
    assert not any("never sent" in a[3] for a in audit(store))  # rolled back with its savepoint
    assert count(store, schema.messages) == 3


async def test_every_event_type_is_recorded_and_keyed(store: Store) -> None:
    chat: Chat = make_chat(store)
    p, t = chat.platform, chat.clock()
    events: list[Event] = [
        GroupSeen("fake", GROUP, "Group one", t),
        ReactionAdded("fake", GROUP, "m1", "👍", 1, ALICE),
        MemberLeft("fake", GROUP, "l1", t, ALICE),
    ]
    for ev in events:
        assert await chat.pipeline.handle(ev, p) is True
        assert await chat.pipeline.handle(ev, p) is False
    assert {event_key(e).split(":")[0] for e in events} == {"group", "react", "leave"}
    assert count(store, schema.reactions) == 1
    assert count(store, schema.membership_events) == 1
    long = MessagePosted("fake", GROUP, "x" * 400, t, ALICE, "hi")
    assert len(event_key(long)) <= 255


async def test_a_tick_during_a_slow_call_does_not_send_it_twice(store: Store) -> None:
    release = asyncio.Event()

    @dataclass
    class Slow(FakePlatform):
        async def mute(self, group_id: str, member_id: str, seconds: int) -> None:
            await release.wait()
            await super().mute(group_id, member_id, seconds)

    chat = make_chat(store, platform=Slow())
    await chat.say(ALICE, AD)
    slow = asyncio.create_task(chat.say(ALICE, AD))  # the mute hangs on the platform
    await asyncio.sleep(0.05)
    ticking = asyncio.create_task(chat.pipeline.tick())
    await asyncio.sleep(0.05)
    release.set()
    await asyncio.gather(slow, ticking)
    assert [c[0] for c in chat.take()] == ["delete", "send", "delete", "mute", "send"]


async def test_a_rate_limit_pauses_the_platform_and_never_fails_the_call(store: Store) -> None:
    @dataclass
    class Limited(FakePlatform):
        limited: int = 8

        async def send(self, group_id: str, text: str, *, reply_to: str | None = None) -> str:
            if self.limited:
                self.limited -= 1
                raise PlatformError("Too Many Requests", retry_after=30)
            return await super().send(group_id, text, reply_to=reply_to)

    platform = Limited()
    chat = make_chat(store, platform=platform)
    await chat.say(ALICE, AD)  # delete, then the warning is rate-limited
    await chat.say(BOB, AD)  # delete, then the second warning waits behind the limit
    sends = [r for r in rows(store, schema.bot_actions) if r.kind == "send"]
    assert [r.status for r in sends] == ["planned", "planned"]
    for _ in range(9):  # rate limits are not failures: the warnings wait, however long
        chat.clock.advance(30)
        await chat.pipeline.tick()
    sends = [r for r in rows(store, schema.bot_actions) if r.kind == "send"]
    assert [r.status for r in sends] == ["done", "done"]
    assert rows(store, schema.human_tasks) == []


async def test_a_rate_limit_in_one_group_holds_every_group_of_the_platform(
    store: Store,
) -> None:
    """Rate limits are per bot account: a 429 in g1 stops g2's calls too, until it is over,
    and the calls held back spend no attempt."""

    @dataclass
    class Limited(FakePlatform):
        limited: set[str] = field(default_factory=lambda: {"g1"})

        async def delete(self, group_id: str, message_id: str, *, reason: str = "") -> None:
            if group_id in self.limited:
                self.limited.discard(group_id)
                raise PlatformError("Too Many Requests", retry_after=20)
            await super().delete(group_id, message_id, reason=reason)

    platform = Limited()
    first = make_chat(store, platform=platform)
    second = Chat(first.pipeline, platform, first.clock, group="g2")
    await first.say(ALICE, AD)  # g1's delete is rate-limited: the platform pauses 20 s
    assert first.take() == []
    await second.say(BOB, AD)  # g2's calls wait for the pause, without a 429 of their own
    assert first.take() == []
    t = schema.bot_actions
    planned = [(r.group_id, r.kind, r.attempts, r.not_before) for r in rows(store, t, t.c.id)]
    until = first.clock.now - 1 + 20  # g1's 429 came at its message's time
    assert planned == [
        ("g1", "delete", 1, until), ("g1", "send", 0, until),
        ("g2", "delete", 0, until), ("g2", "send", 0, until),
    ]  # fmt: skip
    first.clock.advance(5)
    await first.pipeline.tick()
    assert first.take() == []  # still paused
    first.clock.advance(20)
    await first.pipeline.tick()
    assert sorted((c[0], c[1]["group_id"]) for c in first.take()) == [
        ("delete", "g1"), ("delete", "g2"), ("send", "g1"), ("send", "g2"),
    ]  # fmt: skip
    assert {r.status for r in rows(store, schema.bot_actions)} == {"done"}


async def test_calls_are_spaced_by_the_platform_interval(store: Store) -> None:
    import time as _time

    @dataclass
    class Paced(FakePlatform):
        min_call_interval: float = 0.05
        at: list[float] = field(default_factory=list)

        async def delete(self, group_id: str, message_id: str, *, reason: str = "") -> None:
            self.at.append(_time.monotonic())
            await super().delete(group_id, message_id, reason=reason)

    platform = Paced()
    chat = make_chat(store, platform=platform)
    for i in range(4):
        await chat.say(user(f"m{i}"), AD)
    gaps = [b - a for a, b in itertools.pairwise(platform.at)]
    assert len(gaps) == 3 and min(gaps) >= 0.05


async def test_calls_side_by_side_each_take_the_next_slot() -> None:
    """Callers running at once (the carrier's groups) never wake together."""
    import asyncio

    from shequn.actions.moderation import _pace

    @dataclass
    class Paced(FakePlatform):
        name: str = "paced-side-by-side"
        min_call_interval: float = 0.05

    platform, at = Paced(), []
    loop = asyncio.get_running_loop()

    async def call() -> None:
        await _pace(platform)
        at.append(loop.time())

    start = loop.time()
    await asyncio.gather(*(call() for _ in range(6)))
    # the k-th call goes no earlier than its slot, k gaps after the start (a loaded box
    # may wake a call late, so the gaps between wake-ups themselves are not checked)
    assert len(at) == 6
    assert all(t >= start + k * 0.05 - 0.002 for k, t in enumerate(sorted(at)))
