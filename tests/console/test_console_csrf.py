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
    "/groups/{group_id}/appeals/{appeal_id}/{decision}": {"note": "n"},
    "/blocklist": {"platform": "telegram", "member_id": "user900000003"},
    "/blocklist/{entry_id}/lift": {"note": "n"},
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
    # layers in action
    "/groups/{group_id}/layers/act": {"member": "user900000003", "layer": "active"},
    "/groups/{group_id}/layers/act-layer": {"layer": "active"},
    # settings, templates and FAQ banks
    "/groups/{group_id}/settings": {"gate.mode": "open"},
    "/templates": {"name": "t", "group": "telegram:1000000001"},
    "/templates/{template_id}/apply": {"group": "telegram:1000000001"},
    "/templates/{template_id}/delete": {},
    "/settings/faq": {"name": "b", "scope": "group:telegram:1000000001"},
    "/settings/faq/{bank_id}/delete": {},
    "/settings/faq/{bank_id}/entries": {"question": "q", "answer": "a"},
    "/settings/faq/{bank_id}/entries/{entry_key}/delete": {},
    "/settings/faq/{bank_id}/import": {},
    # invite links, 活码 and fission
    "/invites/codes": {"name": "x", "group": "telegram:1000000001"},
    "/invites/codes/{code_id}": {"name": "y"},
    "/invites/codes/{code_id}/targets": {"group": "telegram:1000000001"},
    "/invites/targets/{target_id}": {"cap": "80"},
    "/invites/targets/{target_id}/platform-link": {},
    "/invites/campaigns": {"name": "c"},
    "/invites/campaigns/{campaign_id}": {"name": "d"},
    "/invites/campaigns/{campaign_id}/enrol": {"member": "telegram:user900000003"},
    "/invites/rewards/{reward_id}/handed-out": {},
    "/invites/seeds": {"member": "telegram:user900000003"},
    # members (CRM), segments and orders
    "/members/orders": {"order_id": "o1", "amount": "9.9"},
    "/members/orders/import": {},
    "/members/segments": {"name": "s"},
    "/members/segments/{segment_id}/campaign": {"name": "c"},
    "/members/segments/{segment_id}/delete": {},
    "/members/segments/{segment_id}/export": {"format": "csv"},
    "/members/segments/{segment_id}/tag": {"tag": "vip"},
    "/members/{platform}/{member_id}/link": {"other": "telegram:user900000004"},
    "/members/{platform}/{member_id}/notes": {"text": "n"},
    "/members/{platform}/{member_id}/orders": {"order_id": "o2", "amount": "1"},
    "/members/{platform}/{member_id}/tags": {"tag": "vip"},
    "/members/{platform}/{member_id}/tags/remove": {"tag": "vip"},
    "/members/{platform}/{member_id}/unlink": {},
}  # fmt: skip


def _fill(path: str, gid: int) -> str:
    path = (
        path.replace("{group_id}", str(gid))
        .replace("{action_id}", "1")
        .replace("{kind}", "alert")
        .replace("{item_id}", "1")
        .replace("{user_id}", "1")
        .replace("{plan_id}", "1")
        .replace("{status}", "pause")
        .replace("{platform}", "telegram")
        .replace("{member_id}", "user900000003")
        .replace("{decision}", "accept")
    )
    for name in ("template_id", "bank_id", "entry_key", "code_id", "target_id", "campaign_id",
                 "reward_id", "segment_id", "appeal_id", "entry_id"):  # fmt: skip
        path = path.replace("{" + name + "}", "1")
    return path


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
