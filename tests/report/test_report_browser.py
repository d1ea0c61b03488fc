"""A real browser opens the report: ECharts draws every chart, hostile text stays text.

Uses Debian's headless chromium. Skipped only on a developer machine without it; with
``CI`` set a missing browser is a failure (the CI script installs it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from report_browser import drawn_charts, dump_and_shoot, elements, find_chromium, png_size
from report_contract import make_report

from shequn.report import write_html
from shequn.report.data import to_jsonable
from shequn.report.html import chart_data


@pytest.fixture(scope="module")
def chromium() -> str:
    return find_chromium()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_charts_draw_in_a_real_browser(chromium: str, tmp_path: Path, lang: str) -> None:
    page = write_html(make_report(), tmp_path / f"report-{lang}.html", lang)
    expected = sorted(chart_data(to_jsonable(make_report()), lang)["charts"])
    shot = tmp_path / f"phone-{lang}.png"

    dom = dump_and_shoot(chromium, page, shot, tmp_path)

    assert drawn_charts(dom) == expected
    assert dom.count("<canvas") >= len(expected)
    # The hostile names did not turn into elements: still exactly our three scripts.
    names = elements(dom)
    assert names.count("script") == 3
    assert "img" not in names and "b" not in names
    assert png_size(shot) == (390, 844)
    assert shot.stat().st_size > 20_000  # a drawn page, not a blank one
