"""The Excel workbook on the contract fixture, read back with openpyxl."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from report_contract import FORMULA_NAME, XSS_NAME

from shequn import i18n
from shequn.report import write_xlsx

SHEETS = ["members", "kols", "buyers", "groups", "retention", "lurkers"]


def _rows(ws: Any) -> list[tuple[Any, ...]]:
    return list(ws.iter_rows(values_only=True))


@pytest.fixture(params=["en", "zh"])
def book(request: pytest.FixtureRequest, report: dict[str, Any], tmp_path: Path) -> Any:
    path = write_xlsx(report, tmp_path / "report.xlsx", request.param)
    wb = openpyxl.load_workbook(path)
    wb.lang = request.param
    return wb


def test_sheets_and_headers_are_in_the_chosen_language(book: Any) -> None:
    lang = book.lang
    assert book.sheetnames == [i18n.t(f"report.xlsx.sheet.{s}", lang=lang) for s in SHEETS]
    members = book.worksheets[0]
    header = next(members.iter_rows(max_row=1, values_only=True))
    for key in ("name", "platform_id", "groups", "layer", "reasons", "messages", "active_days"):
        assert i18n.t(f"report.xlsx.col.{key}", lang=lang) in header
    for key in ("first_speak", "last_speak", "joined", "replies", "reach", "invites", "pagerank"):
        assert i18n.t(f"report.xlsx.col.{key}", lang=lang) in header
    for ws in book.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert ws.auto_filter.ref, ws.title
        assert ws.cell(1, 1).font.b, ws.title


def test_rows_match_the_data(book: Any, report: dict[str, Any]) -> None:
    lang = book.lang
    members, kols, buyers, groups, retention, lurkers = (_rows(ws)[1:] for ws in book.worksheets)
    assert [r[0] for r in members] == [
        m["name"].replace("\u202e", "").replace("\u200b", "") for m in report["members"]
    ]
    assert len(kols) == len(report["kols"]) and kols[0][1] == XSS_NAME
    assert len(buyers) == len(report["buyers"])
    evidence = buyers[0][4]
    assert "多少钱？怎么买" in evidence and len(evidence) < 10_000  # the 1 MB text is cut
    # groups: health order (at risk first), stage in the chosen language
    assert [g[0] for g in groups][1] == "Python 学习群"
    assert groups[0][3] == i18n.t("html.stage.flooded", lang=lang) and groups[0][4] is True
    assert groups[0][11] == pytest.approx(0.4)
    assert len(retention) == len(report["retention"]["cohorts"]) + 1  # + overall
    assert retention[1][3] is None  # too young to tell stays empty
    assert len(lurkers) == len(report["lurkers"])
    # layer names from the data, in the chosen language
    layer_col = members[0][7]
    assert layer_col == ("意见领袖" if lang == "zh" else "Opinion leader")
    # times are real Excel dates
    assert isinstance(members[0][12], datetime)


def test_formula_like_text_stays_text(book: Any) -> None:
    ws = book.worksheets[0]
    seen = {}
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)
            if isinstance(cell.value, str):
                seen[cell.value] = cell.data_type
    assert seen[FORMULA_NAME] in ("s", "inlineStr")
    assert seen["+SUM(1,2)"] in ("s", "inlineStr")
    assert seen["@admin"] in ("s", "inlineStr")
    assert seen["-12345"] in ("s", "inlineStr")  # a platform id, not a negative number
    buyers = book.worksheets[2]
    for row in buyers.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"


def test_large_member_list_streams(tmp_path: Path, report: dict[str, Any]) -> None:
    template = report["members"][3]
    report["members"] = [
        {**template, "id": i, "name": f"m{i}", "platform_id": str(i)} for i in range(5_000)
    ]
    path = write_xlsx(report, tmp_path / "big.xlsx", "en")
    wb = openpyxl.load_workbook(path, read_only=True)
    assert wb.worksheets[0].max_row == 5_001
    wb.close()
