"""群活码 roll-over: newcomers fill the groups in order; full and archived groups are skipped."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from invites_helpers import DAY, T0, Clock, fake, join, leave, pipeline, rows

from shequn.events import MemberRef, MessagePosted
from shequn.features.invites import codes
from shequn.features.invites.links import create_platform_link, invite_key, split_state
from shequn.platforms.port import Unsupported
from shequn.store import Store, schema

G1, G2, G3 = "-1001", "-1002", "-1003"


def _code(store: Store, cap: int = 5, reserve: int = 1) -> int:
    with store.engine.begin() as conn:
        cid = codes.create_code(
            conn, name="春季招募", now=T0, code="spring", cap=cap, reserve=reserve
        )
        for g in (G1, G2, G3):
            codes.add_target(conn, cid, "telegram", g, link=f"https://t.me/+link{g}")
    return cid


def _chosen(store: Store, cid: int) -> str | None:
    with store.engine.connect() as conn:
        row = conn.execute(
            schema.invite_codes.select().where(schema.invite_codes.c.id == cid)
        ).one()
        t = codes.choose(conn, row)
    return t.group_id if t else None


def test_newcomers_roll_over_to_the_next_group_with_room(store: Store) -> None:
    cid = _code(store, cap=5, reserve=1)
    clock = Clock()
    p, tg = pipeline(store, clock), fake()
    assert _chosen(store, cid) == G1
    # cap 5, reserve 1: a group takes newcomers while size + 1 < 5, i.e. up to 3 members
    for i in range(3):
        asyncio.run(p.handle(join(G1, f"10{i}", T0 + i, invite=f"https://t.me/+link{G1}"), tg))
    assert _chosen(store, cid) == G1
    # someone who was there before the bot: no join seen, but they post
    said = MessagePosted("telegram", G1, "m1", T0 + 10, MemberRef("104", "old hand"), text="hi")
    asyncio.run(p.handle(said, tg))
    assert _chosen(store, cid) == G2  # 4 members: full for the code
    asyncio.run(p.handle(leave(G1, "104", T0 + 20), tg))
    assert _chosen(store, cid) == G1  # a leave makes room again
    with store.engine.begin() as conn:
        t2 = rows(store, schema.invite_targets, schema.invite_targets.c.group_id == G2)[0]
        codes.update_target(conn, rows(store, schema.invite_targets)[0].id, status="full")
        codes.update_target(conn, t2.id, status="archived")
    assert _chosen(store, cid) == G3  # G1 marked full by hand, G2 archived
    with store.engine.begin() as conn:
        t3 = rows(store, schema.invite_targets, schema.invite_targets.c.group_id == G3)[0]
        codes.update_target(conn, t3.id, size=4)  # typed by the operator (QQ, WeChat)
    assert _chosen(store, cid) is None  # every group is full
    # one store for the rest too: a PostgreSQL database costs seconds to create
    _figures(store)
    _wecom_sizes(store)


def _wecom_sizes(store: Store) -> None:
    with store.engine.begin() as conn:
        cid = codes.create_code(conn, name="wecom", now=T0, cap=500, reserve=10)
        codes.add_target(
            conn, cid, "wecom", "wrA", qr_url="https://example.com/a.png", key="spring"
        )
        codes.add_target(conn, cid, "wecom", "wrB", qr_url="https://example.com/b.png")
        codes.add_target(conn, cid, "wecom", "wrC", qr_url="https://example.com/c.png")
        w = schema.wecom_groups
        conn.execute(w.insert().values(chat_id="wrA", size=495, status="active", synced_at=T0))
        conn.execute(w.insert().values(chat_id="wrB", size=3, status="dismissed", synced_at=T0))
        conn.execute(w.insert().values(chat_id="wrC", size=12, status="active", synced_at=T0))
        row = conn.execute(
            schema.invite_codes.select().where(schema.invite_codes.c.id == cid)
        ).one()
        got = codes.targets_of(conn, row)
    assert [(x.group_id, x.size, x.status) for x in got] == [
        ("wrA", 495, "full"), ("wrB", 3, "archived"), ("wrC", 12, "open"),
    ]  # fmt: skip


def test_invite_keys_accept_any_spelling() -> None:
    assert invite_key("https://discord.gg/mod7days") == "mod7days"
    assert invite_key("discord.com/invite/mod7days/") == "mod7days"
    assert invite_key(" https://t.me/+AbCdEf123 ") == "t.me/+AbCdEf123"
    assert invite_key("https://telegram.me/+AbCdEf123") == "t.me/+AbCdEf123"
    assert invite_key("") is None
    assert split_state("spring.ab12cd34") == ("spring", "ab12cd34")
    assert split_state("t.me/+x.y") == ("t.me/+x.y", None)


def _figures(store: Store) -> None:
    """Visits, joins, 7-day stays and leaves per link, on a code of its own."""
    g = "-2001"
    clock = Clock()
    p, tg = pipeline(store, clock), fake()
    with store.engine.begin() as conn:
        cid = codes.create_code(conn, name="figures", now=T0, code="figs", cap=100, reserve=1)
        codes.add_target(conn, cid, "telegram", g, link="https://t.me/+figs")
        row = conn.execute(
            schema.invite_codes.select().where(schema.invite_codes.c.id == cid)
        ).one()
        for _ in range(4):
            codes.record_visit(conn, row, codes.choose(conn, row), T0)
    link = "https://t.me/+figs"
    asyncio.run(p.handle(join(g, "1", T0, invite=link), tg))
    asyncio.run(p.handle(join(g, "2", T0, invite=link), tg))
    asyncio.run(p.handle(join(g, "3", T0, invite=link), tg))
    asyncio.run(p.handle(join(g, "4", T0), tg))  # no link named: not this code's join
    asyncio.run(p.handle(leave(g, "2", T0 + DAY), tg))
    asyncio.run(p.handle(leave(g, "3", T0 + 8 * DAY), tg))
    with store.engine.connect() as conn:
        f = codes.figures(conn, [cid], T0 + 9 * DAY)[cid]
    assert (f["visits"], f["joins"], f["stayed"], f["left"]) == (4, 3, 2, 2)
    t1 = rows(store, schema.invite_targets, schema.invite_targets.c.group_id == g)[0]
    assert f["targets"][t1.id]["joins"] == 3


class _Telegram:
    """The shape of TelegramAdapter.call / DiscordAdapter.rest.call, recording what is asked."""

    def __init__(self, name: str) -> None:
        self.name, self.asked = name, []  # type: ignore[var-annotated]
        self.rest = self

    async def call(self, method: str, *args: Any, **kw: Any) -> dict[str, Any]:
        self.asked.append((method, args, kw))
        if self.name == "telegram":  # ChatInviteLink, as createChatInviteLink returns it
            return {
                "invite_link": "https://t.me/+NeW",
                "name": kw["name"],
                "creates_join_request": False,
            }
        return {"code": "nEw123", "guild_id": "1", "channel": {"id": args[0].split("/")[2]}}


def test_platform_links_where_the_api_allows() -> None:
    tg, dc = _Telegram("telegram"), _Telegram("discord")
    assert asyncio.run(create_platform_link(tg, "-1001", "shequn spring")) == "https://t.me/+NeW"  # type: ignore[arg-type]
    assert tg.asked == [("createChatInviteLink", (), {"chat_id": "-1001", "name": "shequn spring"})]
    assert asyncio.run(create_platform_link(dc, "42", "x")) == "https://discord.gg/nEw123"  # type: ignore[arg-type]
    assert dc.asked[0][:2] == ("POST", ("/channels/42/invites",))
    with pytest.raises(Unsupported):
        asyncio.run(create_platform_link(fake("onebot"), "1", "x"))
