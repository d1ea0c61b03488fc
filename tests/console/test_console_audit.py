"""The audit log: who, what, when, before/after for every change; who may read which rows."""

from __future__ import annotations

import json
from collections.abc import Callable

from console_helpers import AI, T0, TG, Clock, add_user, csrf_of
from fastapi.testclient import TestClient
from sqlalchemy import select

from shequn.actions import moderation
from shequn.console import audit
from shequn.store import Store, schema


def _alert(store: Store, key: tuple[str, str], detail: str) -> int:
    with store.engine.begin() as conn:
        return moderation.raise_alert(conn, platform=key[0], group_id=key[1], kind="question",
                                      now=T0, detail=detail)  # fmt: skip


def test_every_console_change_leaves_a_row(
    seeded: Store, app_client: Callable[..., TestClient], clock: Clock
) -> None:
    add_user(seeded, "boss", "owner")
    client = app_client("boss")
    clock.now += 5
    token = csrf_of(client.get("/").text)
    client.post("/settings/lang", data={"csrf_token": token, "lang": "en"})
    client.post("/users", data={"csrf_token": token, "name": "vic", "role": "viewer",
                                "password": "0123456789ab", "group_sets": "A"})  # fmt: skip
    with seeded.engine.connect() as conn:
        vic = conn.execute(select(schema.console_users.c.id).where(
            schema.console_users.c.name == "vic")).scalar_one()  # fmt: skip
    client.post(f"/users/{vic}", data={"csrf_token": token, "role": "partner",
                                       "group_sets": "B", "disabled": "on"})  # fmt: skip
    client.post("/logout", data={"csrf_token": token})
    a = schema.console_audit
    with seeded.engine.connect() as conn:
        rows = conn.execute(select(a).order_by(a.c.id)).all()
    assert [r.action for r in rows] == ["login", "user.lang", "user.create", "user.update",
                                        "logout"]  # fmt: skip
    assert all(r.user_name == "boss" and r.ip for r in rows)
    assert rows[0].ts == T0 and rows[1].ts == T0 + 5
    update = rows[3]
    assert update.target == "vic"
    assert json.loads(update.before) == {"role": "viewer", "disabled": False, "group_sets": ["A"]}
    assert json.loads(update.after) == {"role": "partner", "disabled": True, "group_sets": ["B"]}


def test_owner_reads_all_a_manager_only_their_groups_others_nothing(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "boss", "owner")
    add_user(seeded, "mia", "manager", "A")
    add_user(seeded, "pat", "partner", "A")
    tg_alert, ai_alert = _alert(seeded, TG, "tg question"), _alert(seeded, AI, "ai question")
    from console_helpers import group_id

    boss = app_client("boss")
    for key, alert in ((TG, tg_alert), (AI, ai_alert)):
        gid = group_id(seeded, key)
        token = csrf_of(boss.get(f"/groups/{gid}").text)
        boss.post(f"/groups/{gid}/escalations/alert/{alert}/resolve", data={"csrf_token": token})
    owner_page = boss.get("/audit").text
    assert f"alert:{tg_alert}" in owner_page and f"alert:{ai_alert}" in owner_page
    assert "login" in owner_page
    mia_page = app_client("mia").get("/audit").text
    assert f"alert:{tg_alert}" in mia_page and f"alert:{ai_alert}" not in mia_page
    assert ">login<" not in mia_page  # sign-ins are the owner's business
    assert app_client("pat").get("/audit").status_code == 403


def test_record_stores_before_and_after_as_json(store: Store) -> None:
    with store.engine.begin() as conn:
        rid = audit.record(conn, actor=None, actor_name="cli", action="x.y", target="t",
                           group=TG, before={"a": 1}, after={"a": "二"}, now=T0)  # fmt: skip
        row = conn.execute(select(schema.console_audit).where(
            schema.console_audit.c.id == rid)).one()  # fmt: skip
    assert (row.user_id, row.user_name, row.platform, row.group_id) == (None, "cli", *TG)
    assert json.loads(row.before) == {"a": 1} and json.loads(row.after) == {"a": "二"}
