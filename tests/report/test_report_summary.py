"""The terminal summary: the operator's first look, safe against hostile names."""

from __future__ import annotations

from typing import Any

import pytest
from report_contract import XSS_NAME
from rich.console import Console

from shequn import i18n
from shequn.report import print_summary


def _summary(report: dict[str, Any], lang: str) -> str:
    console = Console(record=True, width=140, color_system=None)
    print_summary(report, console, lang)
    return console.export_text()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_summary_covers_what_to_look_at(report: dict[str, Any], lang: str) -> None:
    text = _summary(report, lang)
    assert i18n.t("report.summary.title", lang=lang) in text
    # at-risk group first
    assert text.index("</script><script>alert('g')") < text.index("Python 学习群")
    assert i18n.t("html.stage.flooded", lang=lang) in text
    assert XSS_NAME in text and "张三" in text  # KOLs, printed literally
    assert "evil.exe" in text and "\u202e" not in text
    assert i18n.t("html.signal.price", lang=lang) + "×3" in text
    assert ("旁观者" if lang == "zh" else "Bystander") in text
    assert "100.0%" in text and "60.0%" in text  # retention D1 / D30
    assert "62.0%" in text  # 80/20


def test_markup_and_escape_sequences_in_names_print_as_text(report: dict[str, Any]) -> None:
    report["kols"][0]["name"] = "[bold red]boss[/] \x1b]0;pwned\x07"
    console = Console(record=True, width=140, force_terminal=True)
    print_summary(report, console, "en")
    out = console.export_text(styles=False)
    assert "[bold red]boss[/]" in out
    assert "\x1b]0" not in console.export_text(styles=True)


def test_summary_of_empty_sections_does_not_fail() -> None:
    text = _summary({"meta": {}, "messages": {"total": 1}}, "zh")
    assert i18n.t("report.summary.title", lang="zh") in text
