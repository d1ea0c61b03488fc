"""The HTML page on the contract fixture: self-contained, escaped, bilingual, complete."""

from __future__ import annotations

import json
import re
import time
from html.parser import HTMLParser
from typing import Any

import pytest
from markupsafe import escape
from report_contract import BIG_TEXT, FORMULA_NAME, RLO_NAME, SCRIPT_GROUP, XSS_NAME, make_report

from shequn import i18n
from shequn.report import render_html, write_html
from shequn.report.data import to_jsonable
from shequn.report.html import LAYER_ROWS, _static, chart_data, json_script
from shequn.report.text import clean

SECTIONS = [
    "overview",
    "groups",
    "layers",
    "kols",
    "buyers",
    "retention",
    "activity",
    "concentration",
    "ugc",
    "keywords",
    "lurkers",
]
CHARTS = [
    "chart-daily",
    "chart-layers",
    "chart-trend",
    "chart-retention",
    "chart-heatmap",
    "chart-lorenz",
    "chart-ugc",
]


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text of each <style>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def _tags(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    # strict: a typo in the template (an undefined name) fails instead of rendering empty
    return {lang: render_html(make_report(), lang, strict=True) for lang in ("en", "zh")}


def _data_block(page: str) -> str:
    m = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    assert m, "the chart data block is missing"
    return m.group(1)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_is_self_contained(pages: dict[str, str], lang: str) -> None:
    page = pages[lang]
    parsed = _tags(page)
    names = [tag for tag, _ in parsed.tags]
    assert "link" not in names and "iframe" not in names and "img" not in names
    for tag, attrs in parsed.tags:
        for attr in ("src", "href", "action", "srcset", "data", "poster"):
            value = (attrs.get(attr) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//", "data:")), (tag, attr, value)
        if tag == "script":
            assert "src" not in attrs
    css = "".join(parsed.styles)
    assert "@import" not in css and "url(" not in css
    assert "@font-face" not in css
    # ECharts is inlined, not fetched
    assert 'version="5.6.0"' in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_hostile_content_is_escaped(pages: dict[str, str], lang: str) -> None:
    page = pages[lang]
    # Exactly our three scripts: the data block, ECharts, the chart drawing code.
    scripts = [attrs for tag, attrs in _tags(page).tags if tag == "script"]
    assert len(scripts) == 3
    assert scripts[0] == {"type": "application/json", "id": "report-data"}
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "<b>bold</b>" not in page
    assert str(escape(XSS_NAME)) in page  # shown, as text
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    # Invisible / direction-changing characters are gone; the visible part stays.
    assert "\u202e" not in page and "\u200b" not in page
    assert "evil.exe" in page
    # The 1 MB message is cut for display.
    assert "x" * 400 not in page
    assert len(page) - len(_static("echarts.min.js")) < 100_000 < len(BIG_TEXT)
    assert str(escape(FORMULA_NAME)) in page


def test_one_megabyte_text_renders_fast() -> None:
    report = make_report()
    for b in report["buyers"]:
        for e in b["evidence"]:
            e["text"] = BIG_TEXT
    started = time.perf_counter()
    render_html(report, "en")
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_json_block_parses_back_to_the_chart_data(pages: dict[str, str], lang: str) -> None:
    raw = _data_block(pages[lang])
    for ch in ("<", ">", "&", "\u2028", "\u2029"):
        assert ch not in raw
    parsed = json.loads(raw)
    assert parsed == chart_data(to_jsonable(make_report()), lang)
    assert sorted(parsed["charts"]) == sorted(CHARTS)
    legend = [s["name"] for s in parsed["charts"]["chart-trend"]["series"]]
    assert clean(SCRIPT_GROUP, 24) in legend  # the hostile name, intact as data


def test_json_script_escapes_everything_that_could_end_the_block() -> None:
    value = {"a": "</script><!--<script>", "b": "\u2028\u2029&", 1: [1.5, None, True]}
    out = str(json_script(value))
    assert "<" not in out and ">" not in out and "&" not in out
    assert "\u2028" not in out and "\u2029" not in out
    assert json.loads(out) == {
        "a": "</script><!--<script>",
        "b": "\u2028\u2029&",
        "1": [1.5, None, True],
    }


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_all_sections_and_charts_are_there(pages: dict[str, str], lang: str) -> None:
    page = pages[lang]
    ids = {attrs.get("id") for _, attrs in _tags(page).tags}
    assert set(SECTIONS) <= ids
    assert set(CHARTS) <= ids
    report = make_report()
    for kol in report["kols"]:
        assert str(escape(clean(kol["name"], 60))) in page
    for buyer in report["buyers"]:
        assert str(escape(clean(buyer["name"], 60))) in page
    assert "多少钱？怎么买" in page  # evidence message
    assert "2024-W01" in page  # retention cohort
    assert "装饰器" in page  # keyword
    assert "Lurker Li" in page


def test_each_language_uses_its_own_labels(pages: dict[str, str]) -> None:
    assert '<html lang="zh-CN">' in pages["zh"]
    assert '<html lang="en">' in pages["en"]
    for key in [f"html.sec.{s}" for s in SECTIONS] + ["html.title", "html.stage.flooded"]:
        zh, en = i18n.t(key, lang="zh"), i18n.t(key, lang="en")
        assert zh != key and en != key, key
        assert str(escape(zh)) in pages["zh"], key
        assert str(escape(en)) in pages["en"], key
        if zh != en:
            assert str(escape(zh)) not in pages["en"], key
    # Layer names and playbook actions come from the data, in the chosen language.
    assert "旁观者：行动建议" in pages["zh"] and "Bystander: do this" in pages["en"]
    assert "Bystander: do this" not in pages["zh"]


def test_long_layer_lists_are_capped_with_a_note() -> None:
    report: dict[str, Any] = make_report()
    extra = [
        {**report["members"][3], "id": 100 + i, "name": f"member-{i:03d}", "messages": 5}
        for i in range(LAYER_ROWS + 30)
    ]
    report["members"] += extra
    report["layers"]["counts"]["active"] += len(extra)
    page = render_html(report, "en")
    shown = sum(1 for i in range(len(extra)) if f"member-{i:03d}<" in page)
    assert shown == LAYER_ROWS - 2  # two actives in the fixture come first
    total = report["layers"]["counts"]["active"]
    assert i18n.t("html.capped", lang="en", shown=LAYER_ROWS, total=total) in page


def test_incomplete_data_still_renders() -> None:
    page = render_html({"meta": {}, "messages": {"total": 3}}, "zh")
    assert i18n.t("html.none", lang="zh") in page
    assert json.loads(_data_block(page)) == {"charts": {}}


def test_write_html_creates_the_file(tmp_path: Any) -> None:
    path = write_html(make_report(), tmp_path / "sub" / "r.html", "zh")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_in_process_dict_with_int_keys_renders_like_its_json() -> None:
    report = make_report()
    report["keywords"] = {int(k): v for k, v in report["keywords"].items()}
    report["ugc"]["by_group"] = {int(k): v for k, v in report["ugc"]["by_group"].items()}
    assert render_html(report, "en") == render_html(make_report(), "en")


def test_rlo_name_is_kept_visible() -> None:
    assert clean(RLO_NAME) == "evil.exe"
