"""Every POST route refuses a request without the session's CSRF token."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from console_helpers import PASSWORD, TG, add_user, csrf_of, group_id
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shequn.console.app import create_app
from shequn.store import Store, schema


def _post_routes() -> list[str]:
    from shequn.store import open_store

    app = create_app(open_store("sqlite://", upgrade=False))
    return sorted(path for path, ops in app.openapi()["paths"].items() if "post" in ops)


def test_the_post_routes_are_the_ones_tested_here() -> None:
    # a new POST route must be added to the list below (and so gets the CSRF check)
    assert _post_routes() == sorted(ROUTES)


ROUTES = {
    "/login": {"name": "boss", "password": PASSWORD},
    "/logout": {},
    "/setup": {"token": "x", "name": "n", "password": PASSWORD},
    "/settings/lang": {"lang": "en"},
    "/groups/{group_id}/actions/{action_id}/undo": {},
    "/groups/{group_id}/escalations/{kind}/{item_id}/resolve": {},
    "/users": {"name": "eve", "role": "owner", "password": PASSWORD},
    "/users/{user_id}": {"role": "viewer"},
    "/group-sets": {"name": "evil"},
    "/content/plans": {"name": "p", "text": "t", "kind": "weekly", "weekday": "0",
                       "group": "telegram:1000000001"},
    "/content/plans/{plan_id}": {"name": "p", "text": "t", "kind": "weekly", "weekday": "0"},
    "/content/plans/{plan_id}/{status}": {},
    "/content/mass": {"text": "t", "group": "telegram:1000000001"},
    "/content/topics": {"group": "telegram:1000000001", "day": "2026-01-01", "post_at": "20:00",
                        "text": "t"},
}  # fmt: skip


def _fill(path: str, gid: int) -> str:
    return (
        path.replace("{group_id}", str(gid)).replace("{action_id}", "1")
        .replace("{kind}", "alert").replace("{item_id}", "1").replace("{user_id}", "1")
        .replace("{plan_id}", "1").replace("{status}", "pause")
    )  # fmt: skip


@pytest.mark.parametrize("token", ["missing", "wrong", "other session's"])
def test_posts_without_the_right_token_are_rejected_and_change_nothing(
    seeded: Store, app_client: Callable[..., TestClient], token: str
) -> None:
    add_user(seeded, "boss", "owner")
    other = app_client("boss")
    client = app_client("boss")
    gid = group_id(seeded, TG)
    with seeded.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(schema.console_audit)).scalar()
    for path, data in ROUTES.items():
        form = dict(data)
        if token == "wrong":
            form["csrf_token"] = "x" * 43
        elif token == "other session's":
            form["csrf_token"] = csrf_of(other.get("/").text)
        r = client.post(_fill(path, gid), data=form, follow_redirects=False)
        assert r.status_code == 403, (path, r.status_code)
    with seeded.engine.connect() as conn:
        after = conn.execute(select(func.count()).select_from(schema.console_audit)).scalar()
        users = conn.execute(select(schema.console_users.c.name)).scalars().all()
    assert after == before  # not even a failed login was processed
    assert users == ["boss"]
    assert client.get("/users").status_code == 200  # still signed in (logout refused)


def test_a_json_body_is_no_way_around_it(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "boss", "owner")
    client = app_client("boss")
    r = client.post("/users", json={"name": "eve", "role": "owner", "password": PASSWORD})
    assert r.status_code == 403


def test_the_sign_in_form_needs_its_cookie_token(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "boss", "owner")
    attacker = app_client()
    token = csrf_of(attacker.get("/login").text)
    victim = app_client()  # a browser that never loaded our login form
    r = victim.post("/login", data={"name": "boss", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 403


def test_with_the_token_the_same_post_works(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "boss", "owner")
    client = app_client("boss")
    token = csrf_of(client.get("/").text)
    r = client.post("/settings/lang", data={"lang": "en", "csrf_token": token, "next": "/"})
    assert r.status_code == 200 and "Groups" in r.text
