"""kill -9 in the middle of an import: nothing of the file stays, the next import says so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from shequn.actions.imports import import_file
from shequn.store import Store, schema

REPO = Path(__file__).resolve().parents[2]
MESSAGES = 120_000


def _count(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(schema.messages)).scalar_one()


def _status(store: Store) -> list[str]:
    i = schema.imports
    with store.engine.connect() as conn:
        return list(conn.execute(select(i.c.status).order_by(i.c.id)).scalars())


def test_killed_import_leaves_nothing_and_is_marked(store: Store, tmp_path: Path) -> None:
    export = tmp_path / "big.json"
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "generate.py"), "--messages", str(MESSAGES),
         "--groups", "1", "--out", str(export)],
        check=True,
    )  # fmt: skip
    files = [export] if export.is_file() else sorted(export.glob("*.json"))
    url = store.engine.url.render_as_string(hide_password=False)
    child = subprocess.Popen(
        [sys.executable, "-m", "shequn.cli", "import", str(files[0]), "--db", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while "running" not in _status(store):  # the import has begun ...
        assert child.poll() is None, "the import ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)  # ... and is writing inside its transaction
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert _count(store) == 0
    assert _status(store) == ["running"]  # nobody could say otherwise yet

    result = import_file(store, files[0])
    assert _status(store) == ["interrupted", "done"]
    assert _count(store) == result.stats.messages > 0
