"""Sign-in: wrong passwords, the rate limit, expiry, logout, the one-time setup link."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from console_helpers import PASSWORD, Clock, add_user, csrf_of, log_in
from fastapi.testclient import TestClient
from sqlalchemy import select

from shequn.console import auth
from shequn.console.app import create_app
from shequn.console.context import SESSION_COOKIE
from shequn.store import Store, schema


def _post_login(client: TestClient, name: str, password: str) -> int:
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    return r.status_code


def test_wrong_password_and_unknown_name_are_refused_alike(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "ana", "manager", "A")
    client = app_client()
    assert _post_login(client, "ana", "not the password") == 401
    assert _post_login(client, "nobody", PASSWORD) == 401
    assert SESSION_COOKIE not in client.cookies
    assert client.get("/", follow_redirects=False).status_code == 303
    with seeded.engine.connect() as conn:
        actions = conn.execute(select(schema.console_audit.c.action)).scalars().all()
    assert actions.count("login.failed") == 2


def test_password_is_stored_as_argon2_and_the_session_token_hashed(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "ana", "manager", "A")
    client = app_client("ana")
    token = client.cookies[SESSION_COOKIE]
    with seeded.engine.connect() as conn:
        pw = conn.execute(select(schema.console_users.c.password_hash)).scalar_one()
        keys = conn.execute(select(schema.console_sessions.c.token_hash)).scalars().all()
    assert pw.startswith("$argon2id$") and PASSWORD not in pw
    assert keys == [hashlib.sha256(token.encode()).hexdigest()]


def test_cookie_flags(seeded: Store, app_client: Callable[..., TestClient]) -> None:
    add_user(seeded, "ana", "manager", "A")
    client = app_client()
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"name": "ana", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    cookie = next(
        v for k, v in r.headers.multi_items() if k == "set-cookie" and SESSION_COOKIE in v
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_the_rate_limit_holds_even_for_the_right_password(
    seeded: Store, app_client: Callable[..., TestClient], clock: Clock
) -> None:
    add_user(seeded, "ana", "manager", "A")
    client = app_client()
    for _ in range(auth.MAX_FAILS_PER_NAME):
        assert _post_login(client, "ana", "guess") == 401
    assert _post_login(client, "ana", PASSWORD) == 429
    clock.now += auth.FAIL_WINDOW + 1
    assert _post_login(client, "ana", PASSWORD) == 303


def test_sessions_expire_when_idle_and_at_the_latest_after_the_ttl(
    seeded: Store, app_client: Callable[..., TestClient], clock: Clock
) -> None:
    add_user(seeded, "ana", "manager", "A")
    client = app_client("ana")
    assert client.get("/", follow_redirects=False).status_code == 200
    clock.now += auth.IDLE_TTL - 10
    assert client.get("/", follow_redirects=False).status_code == 200  # still active
    clock.now += auth.IDLE_TTL + 1
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    with seeded.engine.connect() as conn:  # the dead session is gone from the table
        assert conn.execute(select(schema.console_sessions)).all() == []

    client = app_client("ana")
    start = clock.now
    while clock.now < start + auth.SESSION_TTL - auth.IDLE_TTL:
        clock.now += auth.IDLE_TTL / 2  # busy all day: never idle
        assert client.get("/", follow_redirects=False).status_code == 200
    clock.now = start + auth.SESSION_TTL
    assert client.get("/", follow_redirects=False).status_code == 303


def test_logout_ends_the_session_on_the_server(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "ana", "manager", "A")
    client = app_client("ana")
    token = client.cookies[SESSION_COOKIE]
    home = client.get("/")
    r = client.post("/logout", data={"csrf_token": csrf_of(home.text)}, follow_redirects=False)
    assert r.status_code == 303
    # replaying the old cookie does not work: the server forgot the session
    replay = app_client()
    replay.cookies.set(SESSION_COOKIE, token)
    assert replay.get("/", follow_redirects=False).status_code == 303


def test_disabled_users_cannot_sign_in(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    uid = add_user(seeded, "ana", "manager", "A")
    with seeded.engine.begin() as conn:
        conn.execute(
            schema.console_users.update()
            .where(schema.console_users.c.id == uid)
            .values(disabled=True)
        )
    assert _post_login(app_client(), "ana", PASSWORD) == 401


def test_next_never_leaves_the_site(seeded: Store, app_client: Callable[..., TestClient]) -> None:
    add_user(seeded, "ana", "manager", "A")
    client = app_client()
    for evil, expected in (("//evil.example/x", "/"), ("https://evil.example", "/"),
                           ("/audit", "/audit")):  # fmt: skip
        page = client.get("/login", params={"next": evil})
        r = client.post(
            "/login",
            data={
                "name": "ana",
                "password": PASSWORD,
                "csrf_token": csrf_of(page.text),
                "next": evil,
            },
            follow_redirects=False,
        )
        assert r.headers["location"] == expected
        client.cookies.clear()


def test_the_setup_link_creates_the_owner_once(seeded: Store, clock: Clock) -> None:
    app = create_app(seeded, clock=clock, setup_token="s3cret-token")
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.get("/setup", params={"token": "wrong"}).status_code == 404
        page = client.get("/setup", params={"token": "s3cret-token"})
        assert page.status_code == 200
        short = client.post(
            "/setup",
            data={
                "token": "s3cret-token",
                "name": "boss",
                "password": "short",
                "csrf_token": csrf_of(page.text),
            },
        )
        assert short.status_code == 400
        r = client.post(
            "/setup",
            data={
                "token": "s3cret-token",
                "name": "boss",
                "password": PASSWORD,
                "csrf_token": csrf_of(page.text),
            },
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert client.get("/users").status_code == 200  # signed in as the owner
        client.cookies.clear()
        assert client.get("/setup", params={"token": "s3cret-token"}).status_code == 404
    with seeded.engine.connect() as conn:
        rows = conn.execute(select(schema.console_users.c.name, schema.console_users.c.role)).all()
    assert [tuple(r) for r in rows] == [("boss", "owner")]


def test_log_in_helper_signs_in(seeded: Store, app_client: Callable[..., TestClient]) -> None:
    add_user(seeded, "ana", "viewer", "A")
    assert log_in(app_client(), "ana").get("/").status_code == 200


def test_production_hasher_parameters() -> None:
    from argon2 import PasswordHasher, Type

    prod = PasswordHasher()
    assert prod.type is Type.ID and prod.memory_cost >= 64 * 1024 and prod.time_cost >= 3
    old = auth.use_hasher(prod)
    try:
        assert auth.hash_password(PASSWORD).startswith("$argon2id$v=19$m=65536,t=3")
    finally:
        auth.use_hasher(old)
