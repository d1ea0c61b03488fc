"""The ``shequn`` command end to end, as a subprocess like a user runs it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

COMMANDS = ["import", "report", "formats", "demo"]


def shequn(
    *args: str, cwd: Path | None = None, lang: str = "en"
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHEQUN_LANG": lang, "COLUMNS": "200"}
    env.pop("SHEQUN_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "shequn.cli", *args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=120,
    )  # fmt: skip


def _messages(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, lang: str) -> None:
    res = shequn(command, "--help", lang=lang)
    assert res.returncode == 0, res.stderr
    assert "--db" in res.stdout or command == "formats"
    if lang == "zh":
        assert any("\u4e00" <= ch <= "\u9fff" for ch in res.stdout)


def test_lang_flag_overrides_env() -> None:
    res = shequn("--lang", "zh", "--help", lang="en")
    assert "社群" in res.stdout and "导入" in res.stdout


def test_import_reimport_and_default_db_location(tmp_path: Path, data_dir: Path) -> None:
    sample = data_dir / "formats" / "telegram_desktop_result_sample.json"
    chat = data_dir / "chatlogs" / "telegram_exports" / "oop.json"
    first = shequn("import", str(sample), str(chat), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "telegram" in first.stdout
    db = tmp_path / "shequn.db"  # the embedded default
    n = _messages(db)
    assert n > 0
    again = shequn("import", str(sample), cwd=tmp_path)
    assert again.returncode == 0
    assert " 0 new rows" in again.stdout
    assert _messages(db) == n


def test_bad_input_names_the_file_exits_nonzero_and_keeps_nothing(
    tmp_path: Path, data_dir: Path
) -> None:
    raw = (data_dir / "chatlogs" / "telegram_exports" / "oop.json").read_bytes()
    cut = tmp_path / "cut.json"
    cut.write_bytes(raw[: len(raw) // 2])
    notes = tmp_path / "notes.txt"
    notes.write_text("just some notes\nnot a chat\n", encoding="utf-8")
    db = tmp_path / "a.db"
    res = shequn("import", "--db", str(db), str(cut), str(notes))
    assert res.returncode == 1
    err = " ".join(res.stderr.split())
    assert "cut.json:" in err and "broken JSON" in err and "nothing from this file was kept" in err
    assert "notes.txt" in err and "not a chat export" in err
    assert _messages(db) == 0


def test_forced_wrong_format_is_an_error_not_garbage(tmp_path: Path, data_dir: Path) -> None:
    sample = data_dir / "formats" / "telegram_desktop_result_sample.json"
    res = shequn("import", "--db", str(tmp_path / "a.db"), "--format", "nosuch", str(sample))
    assert res.returncode == 1
    assert "unknown format 'nosuch'" in " ".join(res.stderr.split())


def test_unreachable_database_is_a_clear_error(tmp_path: Path, data_dir: Path) -> None:
    sample = data_dir / "formats" / "telegram_desktop_result_sample.json"
    res = shequn("import", "--db", "postgresql://nobody@127.0.0.1:1/none", str(sample))
    assert res.returncode == 2
    assert "Cannot open the archive" in " ".join(res.stderr.split())


def test_chinese_messages(tmp_path: Path, data_dir: Path) -> None:
    sample = data_dir / "formats" / "telegram_desktop_result_sample.json"
    res = shequn("import", "--db", str(tmp_path / "a.db"), str(sample), lang="zh")
    assert res.returncode == 0
    assert "新增" in res.stdout
