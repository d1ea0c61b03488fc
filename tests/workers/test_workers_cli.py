"""``shequn bot --receiver-only / --worker``: the flags exist and refuse what cannot work."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from shequn.commands import bot

CONFIG = """
[bot]
database = "{db}"

[accounts.telegram]
token_env = "SHEQUN_TEST_TG_TOKEN"
"""


def _app() -> typer.Typer:
    app = typer.Typer()
    bot.register(app)
    app.command("noop")(lambda: None)  # a group, so "bot" is a subcommand as in shequn
    return app


def test_the_bot_command_has_the_flags_once() -> None:
    app = _app()
    assert [c.name for c in app.registered_commands].count("bot") == 1
    out = CliRunner().invoke(app, ["bot", "--help"], env={"COLUMNS": "200"}).output
    assert "--receiver-only" in out and "--worker" in out


def test_workers_refuse_sqlite_and_both_flags(tmp_path: Path) -> None:
    cfg = tmp_path / "shequn.toml"
    cfg.write_text(CONFIG.format(db=tmp_path / "a.db"), encoding="utf-8")
    env = {"SHEQUN_TEST_TG_TOKEN": "123:abc", "COLUMNS": "200"}
    app = _app()
    both = CliRunner().invoke(app, ["bot", "-c", str(cfg), "--worker", "--receiver-only"], env=env)
    assert both.exit_code == 2 and "exclude each other" in both.output
    lite = CliRunner().invoke(app, ["bot", "-c", str(cfg), "--receiver-only"], env=env)
    assert lite.exit_code == 2 and "PostgreSQL" in lite.output, lite.output
