"""Secrets from a private KEY=value file or the environment, and never in logs."""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shequn import secrets
from shequn.botconfig import parse_config

TOKEN = "syt_c2hlcXVu_SecretTokenValue_1234567890"


def _file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    p = tmp_path / "secrets.env"
    p.write_text(text, encoding="utf-8")
    p.chmod(mode)
    return p


def test_the_file_format(tmp_path: Path) -> None:
    p = _file(
        tmp_path,
        "# bot accounts\n\nMATRIX_TOKEN = 'a b=c'\nexport TG_TOKEN=\"123:abc\"\nEMPTY=\nDB=x#y\n",
    )
    assert secrets.read_file(p) == {
        "MATRIX_TOKEN": "a b=c",
        "TG_TOKEN": "123:abc",
        "EMPTY": "",
        "DB": "x#y",
    }


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_file_others_can_read_is_refused(tmp_path: Path, mode: int) -> None:
    p = _file(tmp_path, f"MATRIX_TOKEN={TOKEN}\n", mode)
    with pytest.raises(secrets.SecretsError) as info:
        secrets.read_file(p)
    assert f"chmod 600 {p}" in str(info.value)
    assert TOKEN not in str(info.value)


def test_a_bad_line_is_named_but_never_quoted(tmp_path: Path) -> None:
    p = _file(tmp_path, f"OK=1\n{TOKEN}\n")
    with pytest.raises(secrets.SecretsError, match="line 2: expected KEY=value") as info:
        secrets.read_file(p)
    assert TOKEN not in str(info.value)
    with pytest.raises(secrets.SecretsError, match="set twice"):
        secrets.read_file(_file(tmp_path, "A=1\nA=2\n"))
    with pytest.raises(secrets.SecretsError, match="No such file"):
        secrets.read_file(tmp_path / "missing")


def test_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    p = _file(tmp_path, f"MATRIX_TOKEN=from-the-file-123\nTG_TOKEN={TOKEN}\n")
    env = {"MATRIX_TOKEN": "from-the-env-456", secrets.ENV_VAR: str(p)}
    secrets.apply(None, env)  # the file named by SHEQUN_SECRETS_FILE
    assert env["MATRIX_TOKEN"] == "from-the-env-456"
    assert env["TG_TOKEN"] == TOKEN
    # both file values are secrets, also the one the environment overrode
    assert secrets.redact("a from-the-file-123 b") == "a <secret MATRIX_TOKEN> b"
    cfg = parse_config({"accounts": {"telegram": {"token_env": "TG_TOKEN"}}}, env)
    assert cfg.accounts["telegram"].token == TOKEN
    assert TOKEN not in repr(cfg)


def test_no_file_no_change() -> None:
    env: dict[str, str] = {"A": "1"}
    assert secrets.apply(None, env) == {}
    assert env == {"A": "1"}


def test_logs_never_carry_a_known_secret() -> None:
    secrets.remember("TG_TOKEN", TOKEN)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logger = logging.getLogger("shequn.test_secrets_logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        secrets.install_log_redaction(logger)
        child = logging.getLogger("shequn.test_secrets_logs.child")  # propagates to it
        child.error("calling https://api.telegram.org/bot%s/getUpdates", TOKEN)
        try:
            raise RuntimeError(f"connect failed for bot{TOKEN}")
        except RuntimeError:
            child.exception("adapter stopped")
        child.warning("plain text, %d groups", 3)
    finally:
        logger.removeHandler(handler)
    text = out.getvalue()
    assert TOKEN not in text
    assert text.count("<secret TG_TOKEN>") == 2
    assert "RuntimeError: connect failed for bot<secret TG_TOKEN>" in text
    assert "plain text, 3 groups" in text


def test_short_values_are_not_redacted() -> None:
    secrets.remember("PORT", "80")
    assert secrets.redact("port 80") == "port 80"


def test_the_bot_command_reads_the_secrets_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shequn.cli import build_app

    monkeypatch.delenv("SHEQUN_TEST_SECRET_TOKEN", raising=False)
    monkeypatch.delenv(secrets.ENV_VAR, raising=False)
    cfg = tmp_path / "shequn.toml"
    # An option the adapter does not take: the command stops after reading the token.
    cfg.write_text(
        '[accounts.matrix]\ntoken_env = "SHEQUN_TEST_SECRET_TOKEN"\ncolour = "red"\n',
        encoding="utf-8",
    )
    run = CliRunner().invoke
    app = build_app()
    # Without the file the token is missing.
    result = run(app, ["bot", "--config", str(cfg)])
    assert result.exit_code == 2
    assert "nor in the secrets file" in result.output
    # A world-readable file is refused, with the fix.
    p = _file(tmp_path, f"SHEQUN_TEST_SECRET_TOKEN={TOKEN}\n", 0o644)
    result = run(app, ["bot", "--config", str(cfg), "--secrets", str(p)])
    assert result.exit_code == 2
    assert "chmod 600" in result.output.replace("\n", "")
    # A private one, named by the environment variable, provides the token.
    p.chmod(0o600)
    result = run(app, ["bot", "--config", str(cfg)], env={secrets.ENV_VAR: str(p)})
    assert result.exit_code == 2
    assert "colour" in result.output
    assert "token_env" not in result.output
    assert TOKEN not in result.output
    assert os.environ["SHEQUN_TEST_SECRET_TOKEN"] == TOKEN  # monkeypatch removes it
