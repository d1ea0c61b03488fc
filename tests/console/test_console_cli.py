"""``shequn serve`` refuses open addresses; ``shequn user add`` creates a working account."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from shequn.cli import build_app
from shequn.commands.console import is_loopback
from shequn.console import auth
from shequn.store import open_store, schema


@pytest.mark.parametrize(
    ("host", "ok"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("192.168.1.5", False), ("example.com", False)],
)  # fmt: skip
def test_loopback(host: str, ok: bool) -> None:
    assert is_loopback(host) is ok


def test_serve_refuses_a_public_address_and_says_why(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        build_app(), ["serve", "--host", "0.0.0.0", "--db", str(tmp_path / "a.db"), "--lang", "en"]
    )
    assert result.exit_code == 2
    assert "plain HTTP" in result.output and "--allow-remote" in result.output


@pytest.mark.parametrize(
    ("toml", "says"),
    [(None, "bot.toml"), ("[bot]\ntick_seconds = 'often'\n", "tick_seconds"),
     ("[bot]\n", "no account")],
)  # fmt: skip
def test_serve_with_bot_refuses_a_bad_config_before_listening(
    tmp_path: Path, toml: str | None, says: str
) -> None:
    config = tmp_path / "bot.toml"
    if toml is not None:
        config.write_text(toml, encoding="utf-8")
    result = CliRunner().invoke(
        build_app(),
        ["serve", "--bot", "--config", str(config), "--db", str(tmp_path / "a.db"), "--lang", "en"],
    )
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert "Console at" not in result.output


def test_user_add_with_group_sets(tmp_path: Path) -> None:
    db = str(tmp_path / "a.db")
    runner = CliRunner()
    result = runner.invoke(
        build_app(),
        [
            "user",
            "add",
            "mia",
            "--role",
            "manager",
            "--group-set",
            "A",
            "--group-set",
            "B",
            "--password-stdin",
            "--db",
            db,
        ],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    bad = runner.invoke(build_app(), ["user", "add", "x", "--role", "king", "--db", db])
    assert bad.exit_code == 2
    short = runner.invoke(
        build_app(),
        ["user", "add", "y", "--role", "viewer", "--password-stdin", "--db", db],
        input="short\n",
    )
    assert short.exit_code == 1
    st = open_store(db)
    with st.engine.connect() as conn:
        names = conn.execute(select(schema.console_users.c.name)).scalars().all()
        mia = auth.load_user(conn, 1)
        sets = conn.execute(select(schema.console_group_sets.c.name)).scalars().all()
    st.close()
    assert names == ["mia"] and sorted(sets) == ["A", "B"]
    assert mia is not None and mia.role == "manager"
    login = auth.log_in(st, "mia", "a long enough password", ip="t", now=1.0)
    assert login.outcome is auth.LoginOutcome.OK
