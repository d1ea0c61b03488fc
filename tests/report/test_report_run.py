"""``run_report`` and ``run_demo`` on a real archive, with analytics replaced by the fixture.

These pin down the plumbing (empty archive, files written, JSON as written, exit codes,
per-file demo import) independently of the analytics being right; the end-to-end test
in ``test_report_cli.py`` runs the real thing.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import openpyxl
import orjson
import pytest
from report_contract import make_report
from rich.console import Console

from shequn import i18n
from shequn.actions.imports import import_file
from shequn.demo import find_sample, run_demo, sample_files
from shequn.report import run_report
from shequn.report.data import to_jsonable
from shequn.store import Store


@pytest.fixture
def fake_analytics(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """``shequn.analytics.analyse`` returning the contract fixture; records its calls."""
    calls: list[dict[str, Any]] = []

    def analyse(store: Store, settings: Any = None, **kw: Any) -> dict[str, Any]:
        calls.append(kw)
        return make_report()

    module = types.ModuleType("shequn.analytics")
    module.analyse = analyse  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "shequn.analytics", module)
    return calls


def _console() -> Console:
    return Console(record=True, width=140, color_system=None)


def test_empty_archive_says_so_and_returns_1(
    sqlite_store: Store, tmp_path: Path, fake_analytics: list[dict[str, Any]]
) -> None:
    console = _console()
    code = run_report(sqlite_store, html=tmp_path / "r.html", lang="zh", console=console)
    assert code == 1
    assert i18n.t("report.empty", lang="zh") in console.export_text().replace("\n", "")
    assert not (tmp_path / "r.html").exists()
    assert fake_analytics == []


def test_writes_html_json_xlsx_and_prints_the_summary(
    sqlite_store: Store, tmp_path: Path, data_dir: Path, fake_analytics: list[dict[str, Any]]
) -> None:
    import_file(sqlite_store, data_dir / "formats" / "telegram_desktop_result_sample.json")
    console = _console()
    out = tmp_path / "out"
    code = run_report(
        sqlite_store,
        html=out / "r.html",
        json_path=out / "r.json",
        xlsx_path=out / "r.xlsx",
        top=7,
        lang="en",
        console=console,
    )
    assert code == 0
    assert fake_analytics == [{"top": 7, "lang": "en", "engine": None, "parquet": None}]
    raw = (out / "r.json").read_bytes()
    assert "张三".encode() in raw  # non-ASCII kept, not \\u-escaped
    assert raw.startswith(b'{\n  "')  # indented
    assert orjson.loads(raw) == to_jsonable(make_report())
    assert "张三" in (out / "r.html").read_text(encoding="utf-8")
    assert openpyxl.load_workbook(out / "r.xlsx").sheetnames[0] == "Members"
    text = console.export_text()
    assert i18n.t("report.summary.title", lang="en") in text
    for name in ("r.html", "r.json", "r.xlsx"):
        assert name in text


def test_unwritable_output_returns_2(
    sqlite_store: Store, tmp_path: Path, data_dir: Path, fake_analytics: list[dict[str, Any]]
) -> None:
    import_file(sqlite_store, data_dir / "formats" / "telegram_desktop_result_sample.json")
    (tmp_path / "taken").mkdir()
    console = _console()
    assert run_report(sqlite_store, html=tmp_path / "taken", console=console) == 2
    assert "taken" in console.export_text()


def test_demo_imports_every_sample_file_and_writes_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_analytics: list[dict[str, Any]]
) -> None:
    monkeypatch.chdir(tmp_path)  # no examples/ here: found through the source tree
    folder = find_sample()
    assert folder is not None and folder.is_dir()
    files = sample_files(folder)
    assert any(p.suffix == ".json" for p in files)
    assert not any(p.name.startswith(("LICENSE", "README")) for p in files)
    console = _console()
    code = run_demo(
        db=str(tmp_path / "demo.db"), html=tmp_path / "demo.html", lang="zh", console=console
    )
    assert code == 0
    assert (tmp_path / "demo.html").is_file() and (tmp_path / "demo.json").is_file()
    text = console.export_text()
    for path in files:  # each file is reported, imported or skipped
        assert path.name in text
    assert (tmp_path / "demo.html").resolve().as_uri() in text.replace("\n", "")
    assert fake_analytics == [{"top": 20, "lang": "zh", "engine": None, "parquet": None}]
