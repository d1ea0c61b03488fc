"""``shequn faq match``: one JSON line per stdin line, through the real CLI app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from shequn import cli
from shequn.commands.faq import register

BANK = (
    "id,question,answer,variants,keywords\n"
    "checkin,怎么签到？,发送「打卡」即可。,如何每日打卡|在哪里签到,\n"
    "rules,群规是什么？,见群公告。,,re:^群规$\n"
    "refund,How do I get a refund?,Write to support.,Can I have my money back,\n"
)


@pytest.fixture
def bank(tmp_path: Path) -> Path:
    path = tmp_path / "bank.csv"
    path.write_text(BANK, encoding="utf-8")
    return path


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_one_json_line_per_input_line(bank: Path) -> None:
    stdin = "請問怎麼簽到\n\n群规\nhow can i get my money refunded?\n今天天气如何"
    result = CliRunner().invoke(_app(), ["faq", "match", "--bank", str(bank)], input=stdin)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["query"] for r in rows] == stdin.split("\n")
    assert [r["match_id"] for r in rows] == ["checkin", None, "rules", "refund", None]
    assert all(set(r) == {"query", "match_id", "score"} for r in rows)
    assert rows[2]["score"] == 1.0
    assert "請問" in result.stdout  # not \\u-escaped


def test_threshold_option_and_build_app(bank: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_COMMAND_MODULES", ("shequn.commands.faq",))
    args = ["faq", "match", "--bank", str(bank), "--threshold", "0.99", "--mode", "bm25"]
    result = CliRunner().invoke(cli.build_app(), args, input="怎么签到\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["match_id"] is None


def test_bad_bank_and_mode(tmp_path: Path, bank: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text("id,question,answer\n1,only\n", encoding="utf-8")
    result = CliRunner().invoke(_app(), ["faq", "match", "--bank", str(broken)], input="x\n")
    assert result.exit_code == 2
    assert "broken.csv:2" in result.stderr
    result = CliRunner().invoke(
        _app(), ["faq", "match", "--bank", str(bank), "--mode", "magic"], input="x\n"
    )
    assert result.exit_code == 2 and "unknown mode" in result.stderr
    missing = tmp_path / "missing.csv"
    result = CliRunner().invoke(_app(), ["faq", "match", "--bank", str(missing)], input="x\n")
    assert result.exit_code == 2 and "cannot load" in result.stderr
