"""Review figures against hand-computed ones on a small constructed archive (both engines)."""

from __future__ import annotations

import pytest
from console_helpers import add_user
from fastapi.testclient import TestClient
from sqlalchemy import insert

from shequn.console import auth
from shequn.features.reviews import all_items, find_item, review
from shequn.store import Store, schema

T = 1_700_000_000.0
D = 86_400.0


def _build(store: Store) -> None:
    with store.engine.begin() as conn:
        gid = {}
        for key, platform in (
            ("A", "telegram"),
            ("B", "telegram"),
            ("C", "telegram"),
            ("X", "discord"),
        ):
            gid[key] = conn.execute(
                insert(schema.groups).values(
                    platform=platform, platform_id=key, name=f"group {key}"
                )
            ).inserted_primary_key[0]
        mid: dict[str, int] = {}

        def member(name: str) -> int:
            if name not in mid:
                mid[name] = conn.execute(
                    insert(schema.members).values(platform="telegram", platform_id=name, name=name)
                ).inserted_primary_key[0]
            return mid[name]

        n = 0

        def say(g: str, who: str, ts: float) -> None:
            nonlocal n
            n += 1
            conn.execute(insert(schema.messages).values(
                group_id=gid[g], platform_id=f"m{n}", member_id=member(who), ts=ts, kind="text", text="hi"))  # fmt: skip

        def event(g: str, who: str, ts: float, action: str) -> None:
            nonlocal n
            n += 1
            conn.execute(insert(schema.membership_events).values(
                group_id=gid[g], platform_id=f"e{n}", member_id=member(who), ts=ts, action=action))  # fmt: skip

        for i in range(1, 5):  # sizes: A 4 (+1 newcomer), B 4, C 20, X 4 (other platform)
            say("A", f"a{i}", T - 10 * D)
            say("B", f"b{i}", T - 10 * D)
            say("X", f"x{i}", T - 10 * D)
        for i in range(20):
            say("C", f"c{i}", T - 10 * D)
        say("A", "a1", T - 5 * D)
        say("A", "a1", T - 2 * D)
        say("A", "a2", T - 1 * D + 3600)
        event("A", "a5", T - 3 * D, "join")
        event("A", "a5", T - 1 * D, "leave")  # gone within 7 days: not retained
        for who in ("a1", "a2", "a3"):
            say("A", who, T + 2 * D)
        event("A", "a6", T + 1 * D, "join")  # stays
        say("B", "b1", T - 4 * D)
        say("B", "b1", T + 1 * D)
        say("B", "b1", T + 3 * D)
        conn.execute(insert(schema.polls).values(
            platform="telegram", group_id="A", message_id="p1", starter_id="a1", title="周末去哪儿？",
            options='["a","b"]', created_at=T, status="closed"))  # fmt: skip
        sid = auth.ensure_group_set(conn, "only-A", now=T)
        conn.execute(insert(schema.console_group_set_members).values(
            group_set_id=sid, platform="telegram", group_id="A"))  # fmt: skip


def test_review_figures_by_hand(store: Store) -> None:
    _build(store)
    with store.engine.connect() as conn:
        (item,) = [i for i in all_items(conn) if i.kind == "poll"]
        assert find_item(conn, "poll", item.id) == item
        rv = review(conn, item, days=7, now=T + 30 * D)
    assert [g["name"] for g in rv.treated.groups] == ["group A"]
    assert [g["name"] for g in rv.controls.groups] == ["group B"]  # C too big, X other platform
    tb, ta, cb, ca = rv.treated.before, rv.treated.after, rv.controls.before, rv.controls.after
    assert (tb.active, tb.messages, tb.newcomers, tb.retention) == (2, 3, 1, 0.0)
    assert (ta.active, ta.messages, ta.newcomers, ta.retention) == (3, 3, 1, 1.0)
    assert (cb.active, cb.messages, cb.newcomers, cb.retention) == (1, 1, 0, None)
    assert (ca.active, ca.messages, ca.newcomers) == (1, 2, 0)
    assert rv.did == {
        "active": 1,
        "messages": -1,
        "newcomers": 0,
        "retention": None,
        "orders": None,
    }
    assert rv.treated.daily == [0, 0, 1, 0, 0, 1, 1, 0, 0, 3, 0, 0, 0, 0]
    assert rv.controls.daily == [0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0]


@pytest.fixture
def built(store: Store) -> Store:
    _build(store)
    return store


def test_review_pages_by_permission(built: Store) -> None:
    from console_helpers import log_in

    from shequn.console.app import create_app

    add_user(built, "boss", "owner")
    add_user(built, "pia", "partner", "only-A")
    app = create_app(built, clock=lambda: T + 30 * D)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        log_in(c, "boss")
        page = c.get("/reviews")
        assert page.status_code == 200 and "周末去哪儿？" in page.text
        (item,) = [i for i in all_items(built.engine.connect()) if i.kind == "poll"]
        r = c.get(f"/reviews/poll/{item.id}")
        assert r.status_code == 200 and 'data-testid="review-chart"' in r.text
        assert (
            "group B" in r.text
            and "<script>" not in r.text.split("<main>")[1].split("<script src")[0]
        )
        js = c.get(f"/reviews/poll/{item.id}", params={"format": "json"}).json()
        assert js["did"]["active"] == 1 and js["controls"]["groups"][0]["name"] == "group B"
        html = c.get(f"/reviews/poll/{item.id}", params={"format": "html", "days": 7})
        assert "attachment" in html.headers["content-disposition"] and "group A" in html.text
        assert c.get(f"/reviews/poll/{item.id}", params={"days": 5}).status_code == 400
        assert c.get("/static/report/echarts.min.js").status_code == 200
        assert c.get("/static/reviews.js").status_code == 200
    with TestClient(app, base_url="http://127.0.0.1") as c:
        log_in(c, "pia")  # sees A only: the control group is counted but not named
        r = c.get(f"/reviews/poll/{item.id}")
        assert r.status_code == 200 and "group B" not in r.text
    add_user(built, "nobody", "partner")
    with TestClient(app, base_url="http://127.0.0.1") as c:
        log_in(c, "nobody")
        assert "周末去哪儿？" not in c.get("/reviews").text
        assert c.get(f"/reviews/poll/{item.id}").status_code == 404
