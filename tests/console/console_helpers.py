"""Helpers shared by the console tests (fixtures live in ``conftest.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import uvicorn
from fastapi.testclient import TestClient

from shequn.actions import moderation
from shequn.console import auth
from shequn.platforms.port import FakePlatform
from shequn.store import Store, schema

REPO = Path(__file__).resolve().parents[2]
TELEGRAM = REPO / "examples" / "sample" / "oop.json"  # telegram 1000000001
WECHAT = REPO / "tests" / "fixtures" / "wechat" / "chatlog_two_rooms.json"

TG = ("telegram", "1000000001")
AI = ("wechat", "43218765432@chatroom")  # AI 应用开发者社群
RUN = ("wechat", "56789012345@chatroom")  # 上海跑步俱乐部
PASSWORD = "correct horse battery"
T0 = 1_760_000_000.0
CHROMIUM = Path("/usr/bin/chromium")  # Debian's, driven by Playwright in the browser tests


@contextlib.contextmanager
def served(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port in a thread; yields its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class Clock:
    """A settable clock for the console (sessions expire without sleeping)."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "the page has no CSRF field"
    return m.group(1)


def group_id(store: Store, key: tuple[str, str]) -> int:
    g = schema.groups
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                g.select()
                .with_only_columns(g.c.id)
                .where(g.c.platform == key[0], g.c.platform_id == key[1])
            ).scalar_one()
        )


def add_user(store: Store, name: str, role: str, *sets: str) -> int:
    with store.engine.begin() as conn:
        return auth.create_user(conn, name, role, PASSWORD, now=T0, group_sets=sets)


def log_in(client: TestClient, name: str, password: str = PASSWORD) -> TestClient:
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return client


def plan_mute(store: Store, platform: FakePlatform, key: tuple[str, str], member: str) -> int:
    """A strike and a 10-minute mute, decided and carried out as the bot does it."""
    with store.engine.begin() as conn:
        strike = moderation.add_strike(
            conn, platform=key[0], group_id=key[1], member_id=member, rule="ad",
            message_id="m1", evidence={"text": "buy now"}, now=T0, ttl_days=30,
        )  # fmt: skip
        aid = moderation.plan(
            conn, platform, group_id=key[1], member_id=member, kind="mute",
            params={"seconds": 600}, reason="strike.ad", now=T0, strike_id=strike,
        )  # fmt: skip
    # in a thread of its own: the browser tests call this while Playwright runs a loop
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, moderation.carry_out(store, platform, now=T0)).result()
    return aid
