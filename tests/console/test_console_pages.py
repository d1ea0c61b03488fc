"""The pages over real imported exports: reach per role and group set, undo, escalations,
languages, and hostile names rendered as text."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from console_helpers import (
    AI,
    REPO,
    RUN,
    T0,
    TELEGRAM,
    TG,
    add_user,
    csrf_of,
    group_id,
    log_in,
    plan_mute,
)
from fastapi.testclient import TestClient
from sqlalchemy import select

from shequn.actions import moderation
from shequn.actions.imports import import_file
from shequn.platforms.port import FakePlatform
from shequn.store import Store, schema

AI_NAME, RUN_NAME, TG_NAME = "AI 应用开发者社群", "上海跑步俱乐部", "Public tech supergroup"


@pytest.mark.parametrize(
    ("role", "sets", "sees"),
    [
        ("owner", (), {TG_NAME, AI_NAME, RUN_NAME}),
        ("manager", ("B",), {AI_NAME, RUN_NAME}),
        ("partner", ("A",), {TG_NAME}),
        ("viewer", ("A", "B"), {TG_NAME, AI_NAME, RUN_NAME}),
        ("recruiter", (), set()),
    ],
)
def test_the_portfolio_lists_only_the_groups_in_reach(
    seeded: Store,
    app_client: Callable[..., TestClient],
    role: str,
    sets: tuple[str, ...],
    sees: set[str],
) -> None:
    add_user(seeded, "u", role, *sets)
    page = app_client("u").get("/").text
    shown = {name for name in (TG_NAME, AI_NAME, RUN_NAME) if name in page}
    assert shown == sees


def test_a_partner_of_a_cannot_open_b_nor_its_members(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "p", "partner", "A")
    client = app_client("p")
    assert client.get(f"/groups/{group_id(seeded, AI)}").status_code == 404
    own = client.get(f"/groups/{group_id(seeded, TG)}")
    assert own.status_code == 200
    assert 'data-testid="members"' not in own.text  # figures only, no member data
    assert 'id="moderation"' not in own.text
    assert client.get("/audit").status_code == 403
    assert client.get("/users").status_code == 403


def test_the_group_page_lists_members_with_last_speak_and_strikes(
    seeded: Store, app_client: Callable[..., TestClient], fake: FakePlatform
) -> None:
    add_user(seeded, "m", "manager", "A")
    with seeded.engine.connect() as conn:
        mem = schema.members
        someone = conn.execute(
            select(mem.c.platform_id, mem.c.name).where(mem.c.platform == "telegram").limit(1)
        ).one()
    plan_mute(seeded, fake, TG, someone.platform_id)
    page = app_client("m").get(f"/groups/{group_id(seeded, TG)}", params={"lang": "en"})
    assert page.status_code == 200
    assert someone.name in page.text
    members = page.text.split('id="members"', 1)[1]
    row = members.split(someone.platform_id, 1)[1].split("</tr>", 1)[0]
    assert '<strong class="warn">1</strong>' in row  # one active strike
    assert "Undo" in page.text


def test_undo_through_the_console_lifts_the_mute_and_the_strike(
    seeded: Store, app_client: Callable[..., TestClient], fake: FakePlatform
) -> None:
    add_user(seeded, "m", "manager", "A")
    aid = plan_mute(seeded, fake, TG, "user900000003")
    client = app_client("m")
    gid = group_id(seeded, TG)
    token = csrf_of(client.get(f"/groups/{gid}").text)
    r = client.post(f"/groups/{gid}/actions/{aid}/undo", data={"csrf_token": token})
    assert r.status_code == 200 and "msg=undone" in str(r.url)
    assert [(c.name, c.args["seconds"]) for c in fake.calls] == [("mute", 600), ("mute", 0)]
    t, s, a = schema.bot_actions, schema.strikes, schema.console_audit
    with seeded.engine.connect() as conn:
        assert conn.execute(select(t.c.status).where(t.c.id == aid)).scalar() == "undone"
        assert conn.execute(select(s.c.status)).scalar() == "revoked"
        rows = conn.execute(select(t.c.kind, t.c.operator).where(t.c.undo_of == aid)).all()
        audit_row = conn.execute(select(a).where(a.c.action == "moderation.undo")).one()
    assert sorted(rows) == [("mute", "console:m"), ("strike_removed", "console:m")]
    assert (audit_row.user_name, audit_row.platform, audit_row.group_id) == ("m", *TG)
    assert json.loads(audit_row.before)["status"] == "done"
    # a second undo is refused, and says so
    again = client.post(f"/groups/{gid}/actions/{aid}/undo", data={"csrf_token": token})
    assert "msg=undo_refused" in str(again.url)
    assert len(fake.calls) == 2


def test_undo_without_a_live_platform_becomes_a_task_for_a_person(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "boss", "owner")
    offline = FakePlatform(name="wechat")  # carried out by the bot earlier; not connected now
    aid = plan_mute(seeded, offline, AI, "wxid_someone")
    client = app_client("boss")
    gid = group_id(seeded, AI)
    token = csrf_of(client.get(f"/groups/{gid}").text)
    client.post(f"/groups/{gid}/actions/{aid}/undo", data={"csrf_token": token})
    h = schema.human_tasks
    with seeded.engine.connect() as conn:
        tasks = conn.execute(select(h.c.kind, h.c.status, h.c.group_id)).all()
    assert [tuple(x) for x in tasks] == [("mute", "open", AI[1])]
    page = client.get(f"/groups/{gid}", params={"lang": "en"}).text
    assert "Escalation queue (1)" in page


def test_roles_without_undo_get_no_button_and_a_403(
    seeded: Store, app_client: Callable[..., TestClient], fake: FakePlatform
) -> None:
    add_user(seeded, "v", "viewer", "A")
    aid = plan_mute(seeded, fake, TG, "user900000003")
    client = app_client("v")
    gid = group_id(seeded, TG)
    page = client.get(f"/groups/{gid}").text
    assert f'data-testid="action-{aid}"' in page and f'data-testid="undo-{aid}"' not in page
    r = client.post(f"/groups/{gid}/actions/{aid}/undo", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 403
    assert len(fake.calls) == 1


def test_an_action_of_another_group_cannot_be_undone_through_this_one(
    seeded: Store, app_client: Callable[..., TestClient], fake: FakePlatform
) -> None:
    add_user(seeded, "m", "manager", "B")
    wechat = FakePlatform(name="wechat")
    aid = plan_mute(seeded, fake, TG, "user900000003")  # group set A
    plan_mute(seeded, wechat, AI, "wxid_x")
    client = app_client("m")
    gid = group_id(seeded, AI)  # in reach
    token = csrf_of(client.get(f"/groups/{gid}").text)
    r = client.post(f"/groups/{gid}/actions/{aid}/undo", data={"csrf_token": token})
    assert r.status_code == 404
    assert len(fake.calls) == 1


def test_alerts_come_first_and_resolve_with_an_audit_row(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "m", "manager", "B")
    with seeded.engine.begin() as conn:
        alert = moderation.raise_alert(
            conn, platform=RUN[0], group_id=RUN[1], kind="quarrel", now=T0,
            member_id="wxid_a", detail="两位成员吵起来了",
        )  # fmt: skip
    client = app_client("m")
    home = client.get("/", params={"lang": "zh"}).text
    assert home.index(RUN_NAME) < home.index(AI_NAME)  # the group with an alert first
    gid = group_id(seeded, RUN)
    page = client.get(f"/groups/{gid}", params={"lang": "zh"}).text
    assert "两位成员吵起来了" in page and "请私聊双方降温" in page
    r = client.post(f"/groups/{gid}/escalations/alert/{alert}/resolve",
                    data={"csrf_token": csrf_of(page)})  # fmt: skip
    assert r.status_code == 200
    with seeded.engine.connect() as conn:
        status = conn.execute(select(schema.alerts.c.status)).scalar()
        row = conn.execute(select(schema.console_audit).where(
            schema.console_audit.c.action == "alert.resolve")).one()  # fmt: skip
    assert status == "done"
    assert (row.user_name, row.target, json.loads(row.after)) == (
        "m",
        f"alert:{alert}",
        {"status": "done"},
    )


def test_language_from_query_user_setting_and_accept_language(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "u", "owner")
    client = app_client("u")
    assert "群组总览" in client.get("/", headers={"accept-language": "zh-CN,zh;q=0.9"}).text
    assert "Groups" in client.get("/", headers={"accept-language": "en-US"}).text
    assert "Groups" in client.get("/?lang=en", headers={"accept-language": "zh-CN"}).text
    page = client.get("/", headers={"accept-language": "en"}).text
    client.post("/settings/lang", data={"lang": "zh", "csrf_token": csrf_of(page)})
    assert "群组总览" in client.get("/", headers={"accept-language": "en"}).text  # saved


def test_hostile_names_are_shown_as_text(
    store: Store, app_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    export = json.loads(TELEGRAM.read_text("utf-8"))
    evil = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    export["name"] = evil
    for msg in export["messages"]:
        if msg.get("type") == "message":
            msg["from"] = evil
            msg["text"] = evil
    path = tmp_path / "result.json"
    path.write_text(json.dumps(export, ensure_ascii=False), "utf-8")
    import_file(store, path)  # the seeded archive is replaced by the hostile export
    add_user(store, "boss", "owner")
    client = app_client("boss")
    home = client.get("/").text
    gid = group_id(store, TG)
    page = client.get(f"/groups/{gid}").text
    for html in (home, page):
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    headers = client.get("/").headers
    assert "script-src 'self'" in headers["content-security-policy"]


def test_users_page_creates_users_and_group_sets_with_audit(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "boss", "owner")
    client = app_client("boss")
    token = csrf_of(client.get("/users").text)
    r = client.post("/users", data={"csrf_token": token, "name": "rita", "role": "recruiter",
                                    "password": "0123456789ab", "group_sets": "C"})  # fmt: skip
    assert r.status_code == 200 and "msg=saved" in str(r.url)
    client.post("/group-sets", data={"csrf_token": token, "name": "C",
                                     "group": [f"{RUN[0]}:{RUN[1]}"]})  # fmt: skip
    rita = log_in(app_client(), "rita", "0123456789ab")
    home = rita.get("/").text
    assert RUN_NAME in home and AI_NAME not in home and TG_NAME not in home
    with seeded.engine.connect() as conn:
        actions = conn.execute(
            select(schema.console_audit.c.action, schema.console_audit.c.user_name)
        ).all()
    assert ("user.create", "boss") in actions and ("group_set.save", "boss") in actions


def test_the_last_owner_stays(seeded: Store, app_client: Callable[..., TestClient]) -> None:
    uid = add_user(seeded, "boss", "owner")
    client = app_client("boss")
    token = csrf_of(client.get("/users").text)
    r = client.post(f"/users/{uid}", data={"csrf_token": token, "role": "viewer"})
    assert "last owner" in r.text or "最后一位创建者" in r.text
    with seeded.engine.connect() as conn:
        assert conn.execute(select(schema.console_users.c.role)).scalar() == "owner"


def test_health_is_cached_until_the_archive_changes(seeded: Store) -> None:
    from shequn.console.portfolio import HealthCache, figures

    cache = HealthCache(min_age=0)
    first = {f.key: f for f in figures(seeded, cache, "en")}
    assert first[TG].members > 0 and first[AI].stage is not None
    import_file(seeded, REPO / "examples" / "sample" / "tdd-and-clean-architecture.json")
    second = {f.key: f for f in figures(seeded, cache, "en")}
    assert second[TG].members > first[TG].members  # recomputed: more people spoke
    stale = HealthCache(min_age=3600)  # a busy archive: recompute at most hourly
    figures(seeded, stale, "en")
    import_file(seeded, REPO / "examples" / "sample" / "pujangga-kode-1.json")
    assert {f.key: f.members for f in figures(seeded, stale, "en")}[TG] == second[TG].members
    fresh = {f.key: f.members for f in figures(seeded, HealthCache(), "en")}
    assert fresh[TG] > second[TG].members
