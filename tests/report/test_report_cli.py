"""End to end: real exports in through ``shequn import``, ``shequn report`` out, all consistent.

Runs the real analytics (``shequn.analytics.analyse``); skipped only while that package
does not exist yet. The files are checked against the JSON the same run wrote.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from markupsafe import escape
from report_browser import drawn_charts, dump_and_shoot, find_chromium

import shequn
from shequn import i18n
from shequn.report.html import NAME_CHARS
from shequn.report.text import clean

CONTRACT_KEYS = {
    "meta",
    "groups",
    "members",
    "messages",
    "layers",
    "kols",
    "buyers",
    "retention",
    "health",
    "heatmap",
    "concentration",
    "keywords",
    "ugc",
    "lurkers",
}
MIN_KEYS = {
    "groups",
    "members",
    "messages",
    "layers",
    "kols",
    "buyers",
    "retention",
    "health",
    "heatmap",
    "concentration",
}

pytestmark = pytest.mark.skipif(
    not (Path(shequn.__file__).parent / "analytics" / "__init__.py").exists(),
    reason="shequn.analytics is not there yet",
)


def _shequn(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "shequn.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _shown(name: object) -> str:
    return str(escape(clean(name, NAME_CHARS) or "?"))


@pytest.fixture(scope="module")
def run(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("e2e")
    env = {**os.environ, "SHEQUN_DB": f"sqlite:///{tmp / 'archive.db'}", "COLUMNS": "160"}
    env.pop("SHEQUN_LANG", None)
    files = [data_dir / "formats" / "telegram_desktop_result_sample.json"]
    files += sorted((data_dir / "chatlogs" / "telegram_exports").glob("*.json"))
    _shequn("import", *map(str, files), env=env)
    out = tmp / "out"
    proc = _shequn(
        "report",
        "-o",
        str(out / "X.html"),
        "--json",
        str(out / "X.json"),
        "--xlsx",
        str(out / "X.xlsx"),
        "--lang",
        "zh",
        env=env,
    )
    return {
        "tmp": tmp,
        "stdout": proc.stdout,
        "data": json.loads((out / "X.json").read_text(encoding="utf-8")),
        "html_path": out / "X.html",
        "html": (out / "X.html").read_text(encoding="utf-8"),
        "xlsx": out / "X.xlsx",
    }


def test_json_follows_the_contract(run: dict[str, Any]) -> None:
    data = run["data"]
    assert set(data) >= MIN_KEYS
    missing = CONTRACT_KEYS - set(data)
    assert not missing, f"keys of docs/report-json.md missing: {missing}"
    assert data["messages"]["total"] > 0
    assert data["groups"] and data["members"]
    assert len(data["health"]) == len(data["groups"])
    assert len(data["heatmap"]["weekday_hour"]) == 7


def test_html_shows_what_the_json_says(run: dict[str, Any]) -> None:
    data, page = run["data"], run["html"]
    assert '<html lang="zh-CN">' in page
    assert i18n.t("html.title", lang="zh") in page
    for kol in data["kols"]:
        assert _shown(kol["name"]) in page, kol["name"]
    for buyer in data["buyers"]:
        assert _shown(buyer["name"]) in page, buyer["name"]
    for group in data["groups"][:300]:
        assert _shown(group["name"]) in page, group["name"]
    m = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    assert m
    charts = json.loads(m.group(1))["charts"]
    assert "chart-heatmap" in charts and "chart-daily" in charts


def test_xlsx_holds_every_member_and_group(run: dict[str, Any]) -> None:
    data = run["data"]
    wb = openpyxl.load_workbook(run["xlsx"], read_only=True)
    members, kols, buyers, groups = (wb.worksheets[i] for i in range(4))
    assert wb.sheetnames[0] == i18n.t("report.xlsx.sheet.members", lang="zh")
    assert members.max_row == len(data["members"]) + 1
    assert kols.max_row == len(data["kols"]) + 1
    assert buyers.max_row == len(data["buyers"]) + 1
    assert groups.max_row == len(data["groups"]) + 1
    names = [row[0] for row in members.iter_rows(min_row=2, max_col=1, values_only=True)]
    assert names == [clean(m["name"], 255) or None for m in data["members"]]
    wb.close()


def test_terminal_summary(run: dict[str, Any]) -> None:
    out = run["stdout"]
    assert i18n.t("report.summary.title", lang="zh") in out
    assert "X.html" in out and "X.json" in out and "X.xlsx" in out


def test_real_report_draws_in_a_browser(run: dict[str, Any]) -> None:
    chromium = find_chromium()
    m = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>', run["html"], re.S
    )
    assert m
    expected = sorted(json.loads(m.group(1))["charts"])
    dom = dump_and_shoot(chromium, run["html_path"], run["tmp"] / "phone.png", run["tmp"])
    assert drawn_charts(dom) == expected
