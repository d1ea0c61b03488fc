"""Run an importer in a child process so parsing and writing use both cores.

Parsing an export (JSON tokenising, building events) and writing the archive
(member lookups, SQLite inserts) each take about half of an import. A child process
runs ``Importer.read`` and ships events in msgpack batches through a pipe; the
parent decodes them (msgspec, typed) and writes. Errors raised in the child come back
as the same :class:`ImportFormatError` with file and line, so callers cannot tell the
difference except by the clock.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

import msgspec

from shequn.events import Event
from shequn.importers.base import Importer, ImportFormatError, Source

_BATCH = 4096
_EVENTS = msgspec.msgpack.Decoder(list[Event])
_ENVELOPE = msgspec.msgpack.Decoder()


def _child(cls: type[Importer], source: Source, conn: Connection) -> None:
    """Child process: read, encode in batches, report progress, errors and the digest."""
    enc = msgspec.msgpack.Encoder()
    progress = [0]  # bytes reported by the importer since the last batch

    def count(n: int) -> None:
        progress[0] += n

    source.on_progress = count  # whatever the importer reports (zip members too)
    try:
        batch: list[Event] = []
        for ev in cls().read(source):
            batch.append(ev)
            if len(batch) >= _BATCH:
                conn.send_bytes(enc.encode(("b", progress[0], enc.encode(batch))))
                progress[0] = 0
                batch = []
        conn.send_bytes(enc.encode(("b", progress[0], enc.encode(batch))))
        conn.send_bytes(enc.encode(("d", source.digest())))
    except ImportFormatError as e:
        conn.send_bytes(
            enc.encode(("e", [e.path, e.problem, e.line, e.offset, e.expected, type(e).__name__]))
        )
    except KeyboardInterrupt:
        pass  # the parent got the same Ctrl-C and rolls back
    except BaseException as e:  # an importer bug: report it rather than hang the parent
        conn.send_bytes(enc.encode(("x", f"{type(e).__name__}: {e}")))
    finally:
        source.close()
        conn.close()


def read_in_child(cls: type[Importer], source: Source) -> Iterator[Event]:
    """Yield ``cls().read(source)``'s events, produced in a forked child process.

    ``source.on_progress`` is called in this process as batches arrive, and the
    child's SHA-256 of the file is put on ``source.child_digest`` when it finishes.
    """
    ctx = mp.get_context("fork")
    parent_conn, child_conn = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(cls, source, child_conn), daemon=True)
    proc.start()
    child_conn.close()
    try:
        while True:
            try:
                frame: Any = _ENVELOPE.decode(parent_conn.recv_bytes())
            except EOFError:
                raise ImportFormatError(
                    source.path, f"the import worker stopped unexpectedly (exit {proc.exitcode})"
                ) from None
            tag = frame[0]
            if tag == "b":
                if source.on_progress is not None and frame[1]:
                    source.on_progress(frame[1])
                yield from _EVENTS.decode(frame[2])
            elif tag == "d":
                source.child_digest = frame[1]
                return
            elif tag == "e":
                path, problem, line, offset, expected, _name = frame[1]
                raise ImportFormatError(path, problem, line=line, offset=offset, expected=expected)
            else:
                raise RuntimeError(f"importer {cls.name} failed on {source.path}: {frame[1]}")
    finally:
        parent_conn.close()
        if proc.is_alive():
            proc.terminate()
        proc.join(timeout=5)
