"""The database goes away mid-traffic: events are held, nothing is lost or done twice.

A real PostgreSQL sits behind a TCP proxy on loopback that the test unplugs (every
open connection cut, new ones refused) for a few seconds while a member posts an ad.
The pipeline holds the event and retries; when the proxy is plugged back the ad is
archived once, removed once, and an alert tells the operators how long it lasted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from bot_transcript import make_chat, rows, user
from sqlalchemy import create_engine, text

from shequn.store import Store, open_store, resolve_url, schema

PG_URL = os.environ.get("SHEQUN_TEST_PG_URL")
pytestmark = pytest.mark.skipif(not PG_URL, reason="needs a real PostgreSQL (SHEQUN_TEST_PG_URL)")


class Proxy:
    """A loopback TCP proxy that can be unplugged: live connections cut, new ones refused."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.plugged = True
        self._live: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.plugged:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._live += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def unplug(self) -> None:
        self.plugged = False
        with self._lock:
            live, self._live = self._live, []
        for s in live:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def plug(self) -> None:
        self.plugged = True

    def close(self) -> None:
        self.unplug()
        self.listener.close()


@pytest.fixture
def pg_through_proxy() -> Iterator[tuple[Store, Proxy]]:
    assert PG_URL is not None
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(resolve_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    parts = urlsplit(PG_URL)
    proxy = Proxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    auth = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    store = open_store(f"{parts.scheme}://{auth}127.0.0.1:{proxy.port}/{name}")
    try:
        yield store, proxy
    finally:
        store.close()
        proxy.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


async def test_an_outage_holds_events_and_loses_nothing(
    pg_through_proxy: tuple[Store, Proxy],
) -> None:
    store, proxy = pg_through_proxy
    chat = make_chat(store)
    alice = user("alice", "Alice")
    await chat.say(alice, "大家早上好")
    assert chat.take() == []

    proxy.unplug()
    started = time.monotonic()
    posting = asyncio.create_task(chat.say(alice, "加微信 abc12345 领福利"))
    await asyncio.sleep(3.0)
    assert not posting.done()  # held, not dropped, not crashed
    proxy.plug()
    ad = await asyncio.wait_for(posting, 30)
    assert time.monotonic() - started >= 3.0

    names = [name for name, _ in chat.take()]
    assert names.count("delete") == 1 and "send" in names  # acted on once
    assert [m.platform_id for m in rows(store, schema.messages)] == ["m1", "m2"]
    (alert,) = [a for a in rows(store, schema.alerts) if a.kind == "database"]
    assert "unavailable" in alert.detail
    assert not await chat.pipeline.handle(ad, chat.platform)  # a redelivery does nothing
    assert chat.take() == []


async def test_an_outage_longer_than_the_patience_raises(
    pg_through_proxy: tuple[Store, Proxy],
) -> None:
    store, proxy = pg_through_proxy
    chat = make_chat(store, db_patience=1.0)
    await chat.say(user("bob"), "hello")
    proxy.unplug()
    with pytest.raises(Exception, match=r"connection|server|closed|refused"):
        await chat.say(user("bob"), "still there?")
    proxy.plug()
    await chat.say(user("bob"), "back")  # the adapter's restart redelivers; the store works
    assert [m.text for m in rows(store, schema.messages)] == ["hello", "back"]
