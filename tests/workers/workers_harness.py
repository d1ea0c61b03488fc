"""Helpers for the worker tests: a fresh PostgreSQL database, events, worker processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from shequn.events import MemberRef, MessagePosted
from shequn.store import Store, open_store, resolve_url

PG_URL = os.environ.get("SHEQUN_TEST_PG_URL")
needs_pg = pytest.mark.skipif(
    not PG_URL,
    reason="worker leases are PostgreSQL advisory locks: set SHEQUN_TEST_PG_URL to a real "
    "PostgreSQL (CI does) to run these",
)
T0 = 1_790_000_000.0


def fresh_database() -> Iterator[tuple[str, Store]]:
    """A migrated, empty database; its URL and an open store. Dropped afterwards."""
    assert PG_URL is not None
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(resolve_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    store = open_store(url)
    try:
        yield url, store
    finally:
        store.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def message(group: str, n: int, *, ad: bool = False, member: str = "") -> MessagePosted:
    """Message ``n`` of ``group``: an ad (``加微信``) or small talk, from a stable member."""
    who = MemberRef(member or f"u{n % 7}", f"成员{n % 7}")
    body = f"加微信 abc{n:05d} 领福利" if ad else f"{group} 第 {n} 条: 大家好"
    return MessagePosted("fake", group, f"{group}-m{n}", T0 + n, who, body)


_started: list[WorkerProcess] = []


def kill_leftovers() -> None:
    """SIGKILL every worker process a test started and left running (a failed test)."""
    while _started:
        w = _started.pop()
        if w.proc.poll() is None:
            w.proc.kill()
            w.proc.wait()


class WorkerProcess:
    """``python -m shequn.workers.loadsim`` in a child process."""

    def __init__(self, url: str, worker_id: str, calls: Path) -> None:
        _started.append(self)
        self.worker_id = worker_id
        self.calls = calls
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shequn.workers.loadsim",
                "--db",
                url,
                "--id",
                worker_id,
                "--calls",
                str(calls),
            ],
            stdout=subprocess.DEVNULL,
        )

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.wait(timeout)


def wait_for(cond: object, timeout: float, step: float = 0.05) -> float:
    """Seconds until ``cond()`` is true; ``AssertionError`` after ``timeout``."""
    start = time.monotonic()
    while not cond():  # type: ignore[operator]
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not within {timeout} s: {cond}")
        time.sleep(step)
    return time.monotonic() - start
