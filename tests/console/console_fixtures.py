"""Console fixtures: an archive seeded from real exports, users, and signed-in clients.

Shared by ``tests/console`` and ``tests/content`` (their conftests import them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from argon2 import PasswordHasher
from console_helpers import AI, RUN, T0, TELEGRAM, TG, WECHAT, Clock, log_in
from fastapi.testclient import TestClient

from shequn.actions.imports import import_file
from shequn.console import auth
from shequn.console.app import create_app
from shequn.platforms.port import FakePlatform
from shequn.store import Store, schema


@pytest.fixture(autouse=True, scope="session")
def cheap_argon2() -> Iterator[None]:
    """Real argon2id with cheap parameters: the production ones cost ~0.5 s a hash here."""
    old = auth.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    auth.use_hasher(old)


@pytest.fixture
def seeded(store: Store) -> Store:
    """The test archive with three real groups: a Telegram export and two WeChat rooms."""
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
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake() -> FakePlatform:
    return FakePlatform(name="telegram")


@pytest.fixture
def app_client(
    seeded: Store, clock: Clock, fake: FakePlatform
) -> Iterator[Callable[..., TestClient]]:
    """``make(name=None)``: a client of one console app, signed in as ``name`` if given."""
    app = create_app(seeded, clock=clock, platforms={"telegram": fake})
    clients: list[TestClient] = []

    def make(name: str | None = None) -> TestClient:
        client = TestClient(app, base_url="http://127.0.0.1")
        clients.append(client)
        return log_in(client, name) if name else client

    yield make
    for c in clients:
        c.close()
