"""Importing one export file into the archive, all or nothing."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, select, update

from shequn import importers
from shequn.gcpause import paused_gc
from shequn.importers.base import DEFAULT_LOCAL_TZ, ImportFormatError, Source
from shequn.store import Store, schema
from shequn.store.writer import ArchiveWriter, WriteStats

_HOST = socket.gethostname()[:255]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def mark_interrupted(conn: Connection, *, now: float) -> list[int]:
    """Mark ``running`` imports of this host whose process is gone as ``interrupted``.

    Their transaction died with the process, so nothing of them is in the archive;
    the row says so and the file can simply be imported again.
    """
    i = schema.imports
    rows = conn.execute(
        select(i.c.id, i.c.pid).where(i.c.status == "running", i.c.host == _HOST)
    ).all()
    dead = [r.id for r in rows if r.pid is not None and r.pid != os.getpid() and not _alive(r.pid)]
    if dead:
        conn.execute(
            update(i)
            .where(i.c.id.in_(dead))
            .values(
                status="interrupted",
                finished_at=now,
                error="the importing process ended without finishing (killed or crashed); "
                "nothing of this file was kept: import it again",
            )
        )
    return dead


@dataclass(slots=True)
class ImportResult:
    path: Path
    format: str
    stats: WriteStats
    seconds: float
    sha256: str | None


def import_file(
    store: Store,
    path: Path,
    *,
    fmt: str | None = None,
    tz: str = DEFAULT_LOCAL_TZ,
    group_name: str | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import ``path`` in one transaction; on any error nothing of it stays in the archive.

    The attempt is logged in ``imports`` either way (a failed one with its error), so
    operators can see what was tried. Raises :class:`ImportFormatError` for bad input.
    """
    path = Path(path)
    if fmt is None:
        cls = importers.detect(path)
    else:
        try:
            cls = importers.get(fmt)
        except KeyError:
            raise ImportFormatError(
                path, f"unknown format {fmt!r}", expected=", ".join(importers.available())
            ) from None
    source = Source(path=path, tz=tz, group_name=group_name, on_progress=on_progress)
    started = time.time()
    with store.engine.begin() as conn:
        mark_interrupted(conn, now=started)
        import_id = conn.execute(
            schema.imports.insert().values(
                path=str(path),
                format=cls.name,
                status="running",
                started_at=started,
                host=_HOST,
                pid=os.getpid(),
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    try:
        with store.engine.begin() as conn:
            writer = ArchiveWriter(conn, import_id=import_id)
            try:
                with paused_gc():
                    stats = writer.add_all(cls().read(source))
            finally:
                source.close()
            conn.execute(
                update(schema.imports)
                .where(schema.imports.c.id == import_id)
                .values(
                    status="done",
                    finished_at=time.time(),
                    sha256=source.digest(),
                    n_events=stats.events,
                    n_new=stats.new_rows,
                )
            )
    except BaseException as exc:  # Ctrl-C too: the archive keeps nothing of this file
        with store.engine.begin() as conn:
            conn.execute(
                update(schema.imports)
                .where(schema.imports.c.id == import_id)
                .values(
                    status="failed", finished_at=time.time(), error=str(exc)[:2000] or repr(exc)
                )
            )
        raise
    return ImportResult(path, cls.name, stats, time.time() - started, source.digest())
