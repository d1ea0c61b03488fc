"""Tracked topic links: the bot posts /l/<code>, the public redirect counts, orders attribute."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime

from console_helpers import TG, add_user
from content_helpers import Clock, pipeline, rows
from fastapi.testclient import TestClient
from sqlalchemy import select

from shequn.botconfig import GroupSettings
from shequn.events import MemberRef, MessagePosted
from shequn.features import content
from shequn.features.content.links import ORDER_WINDOW, topic_results
from shequn.features.content.schedule import zone
from shequn.features.invites import InvitesSettings
from shequn.platforms.port import FakePlatform
from shequn.store import Store, schema

BERLIN = zone("Europe/Berlin")
BASE = "https://console.example.org"


def _settings(public_url: str) -> GroupSettings:
    return dataclasses.replace(GroupSettings(), invites=InvitesSettings(public_url=public_url))


async def _run_topic(store: Store, public_url: str) -> tuple[FakePlatform, float]:
    """A topic in the Telegram group: posted at 20:00, three replies, the product link."""
    clock = Clock(datetime(2026, 6, 1, 19, 0, tzinfo=BERLIN).timestamp())
    fake = FakePlatform(name=TG[0])
    with store.engine.begin() as conn:
        content.add_topic(
            conn, platform=TG[0], group_id=TG[1], day="2026-06-01", post_at="20:00",
            text="今日话题：你最爱的跑鞋？", product_text="今日好物", product_link="https://shop.example/x?a=1",
            link_after_messages=3, timezone="Europe/Berlin", now=clock.now,
        )  # fmt: skip
    p = pipeline(store, clock, _settings(public_url))
    p.attach(fake)
    clock.now += 3660
    await p.tick()
    for i, who in enumerate(["u1", "u2", "u1"]):
        clock.now += 60
        ev = MessagePosted(TG[0], TG[1], f"t{i}", clock.now, MemberRef(who, who), "我喜欢这双")
        await p.handle(ev, fake)
        await p.tick()
    clock.now += 3600
    await p.tick()
    return fake, clock.now


def _order(store: Store, member: str, at: float, cents: int, ext: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            schema.crm_orders.insert().values(
                shop="s", external_id=ext, platform=TG[0], member_id=member, amount_cents=cents,
                item="跑鞋", ordered_at=at, source="manual", created_at=at,
            )
        )  # fmt: skip


async def test_the_product_link_is_tracked_counted_and_orders_are_attributed(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    fake, _ = await _run_topic(seeded, BASE + "/")
    link_text = fake.calls[-1].args["text"]
    assert link_text.startswith(f"今日好物\n{BASE}/l/")
    code = link_text.rsplit("/l/", 1)[1]
    assert len(code) == 8 and "shop.example" not in link_text
    [topic] = rows(seeded, schema.content_topics)
    assert topic.status == "done" and topic.linked_at is not None

    anonymous = app_client()  # members click in the chat: no console sign-in
    for _ in range(2):
        r = anonymous.get(f"/l/{code}", follow_redirects=False)
        assert r.status_code == 302 and r.headers["location"] == "https://shop.example/x?a=1"
    assert anonymous.get("/l/nosuchcd", follow_redirects=False).status_code == 404
    # orders: u1 (spoke in the group) within a day counts; after a day, or a stranger, not
    _order(seeded, "u1", topic.linked_at + 600, 19900, "o1")
    _order(seeded, "u1", topic.linked_at + ORDER_WINDOW + 1, 5000, "o2")
    _order(seeded, "stranger", topic.linked_at + 600, 7000, "o3")
    with seeded.engine.connect() as conn:
        [res] = topic_results(conn, [topic]).values()
    assert (res.tracked, res.clicks, res.orders, res.amount_cents) == (True, 2, 1, 19900)

    add_user(seeded, "boss", "owner")
    page = app_client("boss").get("/content", params={"lang": "en"}).text
    cell = page.split(f'data-testid="topic-conversion-{topic.id}">', 1)[1].split("</td>", 1)[0]
    assert "2 clicks" in cell and "1 orders (199.00)" in cell
    with seeded.engine.connect() as conn:  # one link for the topic, with its two clicks
        [link] = conn.execute(select(schema.content_links)).all()
    assert (link.source, link.source_id, link.clicks) == ("topic", topic.id, 2)
    assert link.first_click_at is not None


async def test_without_a_public_address_the_plain_link_goes_out_untracked(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    fake, _ = await _run_topic(seeded, "")
    assert fake.calls[-1].args["text"] == "今日好物\nhttps://shop.example/x?a=1"
    assert rows(seeded, schema.content_links) == []
    add_user(seeded, "boss", "owner")
    page = app_client("boss").get("/content", params={"lang": "zh"}).text
    [topic] = rows(seeded, schema.content_topics)
    cell = page.split(f'data-testid="topic-conversion-{topic.id}">', 1)[1].split("</td>", 1)[0]
    assert "链接未追踪" in cell and "0 单" in cell
