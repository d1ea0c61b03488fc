"""Content fixtures: the console's seeded archive and clients (helpers from tests/console)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))

from argon2 import PasswordHasher
from console_helpers import AI, RUN, T0, TELEGRAM, TG, WECHAT, Clock, log_in
from fastapi.testclient import TestClient

from shequn.actions.imports import import_file
from shequn.console import auth
from shequn.console.app import create_app
from shequn.platforms.port import FakePlatform
from shequn.store import Store, schema


@pytest.fixture(autouse=True, scope="session")
def cheap_argon2_content() -> Iterator[None]:
    old = auth.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    auth.use_hasher(old)


@pytest.fixture
def seeded_content(store: Store) -> Store:
    """Three real groups: set A = the Telegram group, set B = the two WeChat rooms."""
    import_file(store, TELEGRAM)
    import_file(store, WECHAT)
    with store.engine.begin() as conn:
        for name, groups in (("A", [TG]), ("B", [AI, RUN])):
            sid = auth.ensure_group_set(conn, name, now=T0)
            for platform, gid in groups:
                conn.execute(
                    schema.console_group_set_members.insert().values(
                        group_set_id=sid, platform=platform, group_id=gid
                    )
                )
    return store


@pytest.fixture
def content_client(seeded_content: Store) -> Iterator[Callable[..., TestClient]]:
    app = create_app(
        seeded_content, clock=Clock(), platforms={"telegram": FakePlatform("telegram")}
    )
    clients: list[TestClient] = []

    def make(name: str | None = None) -> TestClient:
        client = TestClient(app, base_url="http://127.0.0.1")
        clients.append(client)
        return log_in(client, name) if name else client

    yield make
    for c in clients:
        c.close()
