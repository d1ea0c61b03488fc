"""``processed_events`` keeps one dedupe horizon of keys, not every event ever seen."""

from __future__ import annotations

from bot_transcript import Chat, make_pipeline, rows, user
from sqlalchemy import func, select

from shequn.platforms.port import FakePlatform
from shequn.store import Store, schema

DAY = 86400
ALICE = user("alice", "Alice")


def keys(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(select(func.count()).select_from(schema.processed_events)).scalar_one()
        )


async def test_keys_past_the_horizon_are_forgotten_and_recent_ones_still_dedupe(
    store: Store,
) -> None:
    pipeline = make_pipeline(store, dedupe_days=30, dedupe_grace=0)
    chat = Chat(pipeline, FakePlatform(), pipeline.clock)  # type: ignore[arg-type]
    for i in range(3):
        await chat.say(ALICE, f"早上好 {i}")
    chat.clock.advance(29 * DAY)
    recent = await chat.say(ALICE, "还在吗")
    await pipeline.tick()
    assert keys(store) == 4  # nothing is 30 days old yet
    chat.clock.advance(2 * DAY)
    await pipeline.tick()
    assert keys(store) == 1  # the three from 31 days ago are forgotten
    assert await pipeline.handle(recent, chat.platform) is False  # still deduped
    assert len(rows(store, schema.messages)) == 4  # the archive keeps every message


async def test_a_young_process_forgets_nothing(store: Store) -> None:
    """After a long outage the restarted bot's redelivered events still find their keys."""
    pipeline = make_pipeline(store, dedupe_days=30)  # default grace: an hour of uptime
    chat = Chat(pipeline, FakePlatform(), pipeline.clock)  # type: ignore[arg-type]
    first = await chat.say(ALICE, "宕机前的最后一条")
    chat.clock.advance(40 * DAY)
    await pipeline.tick()
    assert keys(store) == 1
    assert await pipeline.handle(first, chat.platform) is False
