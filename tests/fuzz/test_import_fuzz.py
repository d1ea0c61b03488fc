"""Every importer under generated malformed input: a clear error or a clean import, never more.

Seeds are the real export samples (``shared/data/formats`` and ``tests/fixtures``).
Hypothesis mutates them at the level each format is written in — JSON nodes replaced,
dropped or given the wrong type; lines dropped, duplicated, swapped or garbled; bytes
truncated, flipped or re-encoded; hostile unicode and huge values — and imports the
result. The property: the import either succeeds or raises :class:`ImportFormatError`
(which names the file); any other exception is a bug; and a failed import leaves the
archive exactly as it was (no partial import).

CI runs ``SHEQUN_FUZZ_EXAMPLES`` (default 60) cases per format; ``bench/fuzz.py`` runs
thousands.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from fuzz_mutations import mutate_bytes, mutate_json, mutate_lines
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from shequn.actions.imports import import_file
from shequn.importers.base import ImportFormatError
from shequn.store import Store, open_store, schema

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("SHEQUN_FUZZ_EXAMPLES", "60"))
RANDOM = os.environ.get("SHEQUN_FUZZ_RANDOM") == "1"

#: format → seed file (relative to the shared data folder or the repo).
SEEDS = {
    "telegram": ("data", "formats/telegram_desktop_result_sample.json", "json"),
    "discord": ("data", "formats/discordchatexporter_thread_sample.json", "json"),
    "qq": ("data", "formats/qq_native_export_sample.txt", "lines"),
    "chatlog": ("repo", "tests/fixtures/wechat/chatlog_two_rooms.json", "json"),
    "wechatmsg": ("repo", "tests/fixtures/wechat/产品体验交流群.csv", "lines"),
    "irc": ("repo", "examples/sample/2005-02-08.train-a.raw.txt", "lines"),
}


def _counts(store: Store) -> tuple[int, ...]:
    tables = (schema.messages, schema.members, schema.groups, schema.membership_events)
    with store.engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables)


def _seed_bytes(fmt: str, data_dir: Path) -> tuple[bytes, str]:
    base, rel, kind = SEEDS[fmt]
    path = (data_dir if base == "data" else REPO) / rel
    raw = path.read_bytes()
    if fmt == "irc":  # a day of IRC is long; the first 300 lines carry every line kind
        raw = b"\n".join(raw.splitlines()[:300])
    return raw, kind


def _mutated(raw: bytes, kind: str, data: st.DataObject) -> bytes:
    level = data.draw(st.sampled_from(["structure", "bytes"]), label="level")
    if level == "bytes":
        return mutate_bytes(raw, data)
    if kind == "json":
        return json.dumps(mutate_json(json.loads(raw), data), ensure_ascii=False).encode()
    return mutate_lines(raw.decode("utf-8"), data).encode("utf-8")


@pytest.mark.parametrize("fmt", sorted(SEEDS))
def test_importer_survives_malformed_input(fmt: str, data_dir: Path, tmp_path: Path) -> None:
    raw, kind = _seed_bytes(fmt, data_dir)
    name = Path(SEEDS[fmt][1]).name
    store = open_store(f"sqlite:///{tmp_path / 'fuzz.db'}")
    outcomes = {"imported": 0, "refused": 0}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,  # measured below instead: a hang shows as a slow case
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
        derandomize=not RANDOM,  # CI runs the same cases; bench/fuzz.py new ones
    )
    @given(st.data())
    def case(data: st.DataObject) -> None:
        folder = tmp_path / "case"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        path = folder / name
        path.write_bytes(_mutated(raw, kind, data))
        before = _counts(store)
        try:
            import_file(store, path, fmt=fmt)
        except ImportFormatError as e:
            assert str(path) in str(e) or path.name in str(e), f"error does not name the file: {e}"
            assert _counts(store) == before, "a failed import left rows behind"
            outcomes["refused"] += 1
        else:
            outcomes["imported"] += 1

    try:
        case()
    finally:
        store.close()
    print(f"fuzz import {fmt}: {outcomes['imported']} imported, {outcomes['refused']} refused")
    # both outcomes must occur, or the mutations are too weak (or too strong) to test anything
    assert outcomes["refused"] > 0
    assert outcomes["imported"] > 0
