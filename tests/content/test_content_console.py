"""Console pages for content plans and mass messages: permissions, CSRF, audit rows."""

from __future__ import annotations

from collections.abc import Callable

from console_helpers import AI, RUN, TG, add_user, csrf_of
from fastapi.testclient import TestClient
from sqlalchemy import select

from shequn.store import Store, schema

PLAN = {
    "name": "早报",
    "text": "早安，今日资讯",
    "kind": "weekly",
    "weekday": ["0", "1", "2", "3", "4"],
    "window_start": "09:00",
    "window_end": "10:00",
    "timezone": "Asia/Shanghai",
    "jitter": "on",
}


def _audit(store: Store) -> list[tuple[str, str | None]]:
    a = schema.console_audit
    with store.engine.connect() as conn:
        return [(r.action, r.group_id) for r in conn.execute(select(a).order_by(a.c.id))]


def _post(client: TestClient, url: str, data: dict[str, object]) -> object:
    csrf = csrf_of(client.get("/content").text)
    return client.post(url, data={**data, "csrf_token": csrf}, follow_redirects=False)


def test_manager_creates_previews_edits_and_pauses_a_plan(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "mia", "manager", "B")
    c = app_client("mia")
    page = c.get("/content").text
    assert "AI 应用开发者社群" in page and "Public tech supergroup" not in page  # only set B
    r = _post(c, "/content/plans", {**PLAN, "group": [f"{AI[0]}:{AI[1]}", f"{RUN[0]}:{RUN[1]}"]})
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    url = r.headers["location"].split("?")[0]  # type: ignore[attr-defined]
    detail = c.get(url).text
    assert detail.count("<li>") >= 10  # the preview lists the next occurrences
    assert "09:" in detail
    r = _post(c, url + "/pause", {})
    assert r.status_code == 303  # type: ignore[attr-defined]
    assert 'data-testid="plan-status">paused' in c.get(url + "?lang=en").text
    edited = {**PLAN, "name": "晨报", "group": [f"{AI[0]}:{AI[1]}"]}
    r = _post(c, url, edited)
    assert r.status_code == 303  # type: ignore[attr-defined]
    assert "晨报" in c.get(url).text
    actions = [a for a, _ in _audit(seeded) if a.startswith("content.")]
    assert actions == ["content.plan.create", "content.plan.pause", "content.plan.edit"]
    p = schema.content_plans
    with seeded.engine.connect() as conn:
        row = conn.execute(select(p)).one()
    assert (row.name, row.status, row.weekdays, row.created_by) == (
        "晨报",
        "paused",
        "0,1,2,3,4",
        "console:mia",
    )


def test_permissions_no_reach_no_role_and_csrf(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "ann", "manager", "A")
    add_user(seeded, "vic", "viewer", "B")
    ann, vic = app_client("ann"), app_client("vic")
    # a manager of set A may not post to a group of set B
    r = _post(ann, "/content/plans", {**PLAN, "group": [f"{AI[0]}:{AI[1]}"]})
    assert r.status_code == 403  # type: ignore[attr-defined]
    r = _post(ann, "/content/mass", {"text": "hi", "group": [f"{AI[0]}:{AI[1]}"]})
    assert r.status_code == 403  # type: ignore[attr-defined]
    # a viewer sees the page but no forms, and may not create
    assert 'action="/content/plans"' not in vic.get("/content").text
    r = _post(vic, "/content/plans", {**PLAN, "group": [f"{RUN[0]}:{RUN[1]}"]})
    assert r.status_code == 403  # type: ignore[attr-defined]
    # ann's own plan is invisible (404) to the viewer of set B
    r = _post(ann, "/content/plans", {**PLAN, "group": [f"{TG[0]}:{TG[1]}"]})
    url = r.headers["location"].split("?")[0]  # type: ignore[attr-defined]
    assert vic.get(url).status_code == 404
    assert _post(vic, url + "/pause", {}).status_code == 404  # type: ignore[attr-defined]
    # no CSRF token: refused, nothing written
    r = ann.post("/content/plans", data={**PLAN, "group": [f"{TG[0]}:{TG[1]}"]})
    assert r.status_code == 403
    p = schema.content_plans
    with seeded.engine.connect() as conn:
        assert len(conn.execute(select(p)).all()) == 1
    assert [a for a, _ in _audit(seeded) if a.startswith("content.")] == ["content.plan.create"]


def test_a_bad_plan_is_refused_with_a_message(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "mia", "manager", "B")
    c = app_client("mia")
    r = _post(c, "/content/plans", {**PLAN, "weekday": [], "group": [f"{AI[0]}:{AI[1]}"]})
    assert r.status_code == 200 and "weekday" in r.text  # type: ignore[attr-defined]
    with seeded.engine.connect() as conn:
        assert conn.execute(select(schema.content_plans)).all() == []


def test_mass_message_and_its_delivery_report(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "mia", "manager", "B")
    c = app_client("mia")
    groups = [f"{AI[0]}:{AI[1]}", f"{RUN[0]}:{RUN[1]}"]
    r = _post(c, "/content/mass", {"text": "周末活动报名", "group": groups})
    assert r.status_code == 303  # type: ignore[attr-defined]
    url = r.headers["location"].split("?")[0]  # type: ignore[attr-defined]
    page = c.get(url + "?lang=en").text
    assert "queued 2" in page
    assert ("content.mass.create", AI[1]) in _audit(seeded)
    s = schema.content_sends
    with seeded.engine.connect() as conn:
        assert sorted(r.group_id for r in conn.execute(select(s))) == sorted([AI[1], RUN[1]])


def test_every_content_post_needs_the_csrf_token(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "boss", "owner")
    c = app_client("boss")
    r = _post(c, "/content/plans", {**PLAN, "group": [f"{TG[0]}:{TG[1]}"]})
    url = r.headers["location"].split("?")[0]  # type: ignore[attr-defined]
    before = _audit(seeded)
    group = {"group": [f"{TG[0]}:{TG[1]}"]}
    for path, data in (
        ("/content/plans", {**PLAN, **group}),
        (url, {**PLAN, **group, "name": "changed"}),
        (url + "/pause", {}),
        ("/content/mass", {"text": "hi", **group}),
    ):
        for token in (None, "x" * 43):
            form = dict(data) if token is None else {**data, "csrf_token": token}
            assert c.post(path, data=form, follow_redirects=False).status_code == 403, path
    assert _audit(seeded) == before
    with seeded.engine.connect() as conn:
        row = conn.execute(select(schema.content_plans)).one()
        assert (row.name, row.status) == ("早报", "active")
        assert conn.execute(select(schema.content_mass)).all() == []


def test_a_plan_for_a_whole_group_set(seeded: Store, app_client: Callable[..., TestClient]) -> None:
    add_user(seeded, "mia", "manager", "B")
    add_user(seeded, "ann", "manager", "A")
    gs = schema.console_group_sets
    with seeded.engine.connect() as conn:
        ids = {r.name: r.id for r in conn.execute(select(gs))}
    ann = app_client("ann")
    assert f'<option value="{ids["B"]}"' not in ann.get("/content").text
    r = _post(ann, "/content/plans", {**PLAN, "group_set": str(ids["B"])})
    assert r.status_code == 403  # type: ignore[attr-defined]
    mia = app_client("mia")
    assert f'<option value="{ids["B"]}"' in mia.get("/content").text
    r = _post(mia, "/content/plans", {**PLAN, "group_set": str(ids["B"])})
    assert r.status_code == 303  # type: ignore[attr-defined]
    url = r.headers["location"].split("?")[0]  # type: ignore[attr-defined]
    page = mia.get(url).text
    assert AI[1] in page and RUN[1] in page  # the preview covers both groups of the set
    assert ann.get(url).status_code == 404
    with seeded.engine.connect() as conn:
        row = conn.execute(select(schema.content_plans)).one()
    assert row.group_set_id == ids["B"]


def test_plan_a_topic_for_a_group(seeded: Store, app_client: Callable[..., TestClient]) -> None:
    add_user(seeded, "mia", "manager", "B")
    c = app_client("mia")
    topic = {
        "group": f"{RUN[0]}:{RUN[1]}", "day": "2025-10-10", "post_at": "20:00",
        "text": "今日话题：你最爱的跑鞋？", "product_link": "https://shop.example/x",
        "link_after": "5",
    }  # fmt: skip
    assert _post(c, "/content/topics", topic).status_code == 303  # type: ignore[attr-defined]
    again = _post(c, "/content/topics", topic)
    assert again.status_code == 200 and "already has a topic" in again.text  # type: ignore[attr-defined]
    page = c.get("/content?lang=en").text
    assert "今日话题" in page and "scheduled" in page
    r = _post(c, "/content/topics", {**topic, "group": f"{TG[0]}:{TG[1]}"})
    assert r.status_code == 403  # type: ignore[attr-defined]
    with seeded.engine.connect() as conn:
        [row] = conn.execute(select(schema.content_topics)).all()
    assert (row.group_id, row.link_after_messages) == (RUN[1], 5)
    assert [a for a, _ in _audit(seeded)].count("content.topic.create") == 1
