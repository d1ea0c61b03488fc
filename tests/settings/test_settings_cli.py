"""``shequn settings template save|apply|list`` and ``shequn settings show``."""

from __future__ import annotations

import json

import pytest
from console_helpers import AI, RUN, T0, TG
from sqlalchemy import select
from typer.testing import CliRunner

from shequn.cli import build_app
from shequn.features.faq import FaqEntry, banks_db
from shequn.groupsettings import layers_of, save_doc
from shequn.store import Store, schema


@pytest.fixture
def store(sqlite_store: Store) -> Store:
    """SQLite only: the same functions run on PostgreSQL in the console tests."""
    return sqlite_store


def _run(store: Store, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), [*args, "--db", store.url])
    return result.exit_code, result.output


def test_templates_from_the_command_line(seeded: Store) -> None:
    with seeded.engine.begin() as conn:
        bid = banks_db.create_bank(conn, "tg", now=T0, group=TG)
        banks_db.replace_entries(conn, bid, [FaqEntry("a", "怎么签到？", "发「签到」")], now=T0)
        save_doc(conn, TG, {"gate": {"mode": "captcha"}, "faq": {"enabled": True, "bank": "db:tg"}},
                 by="mia", now=T0)  # fmt: skip
    code, out = _run(seeded, "settings", "template", "save", "入门群", "--group", ":".join(TG))
    assert code == 0, out
    code, out = _run(seeded, "settings", "template", "apply", "入门群",
                     "-g", ":".join(AI), "-g", ":".join(RUN))  # fmt: skip
    assert code == 0, out
    assert out.count("入门群 · wechat:") == 2
    with seeded.engine.connect() as conn:
        assert layers_of(conn, RUN).doc["gate"] == {"mode": "captcha"}
        a = schema.console_audit
        rows = conn.execute(select(a.c.action, a.c.user_name).order_by(a.c.id)).all()
    assert [tuple(r) for r in rows] == [("template.save", "cli")] + [("template.apply", "cli")] * 2
    code, out = _run(seeded, "settings", "template", "list")
    assert code == 0 and json.loads(out.strip().splitlines()[0])["faq_entries"] == 1
    code, out = _run(seeded, "settings", "show", ":".join(RUN))
    assert code == 0 and json.loads(out)["effective"]["gate"] == {"mode": "captcha"}
    code, out = _run(seeded, "settings", "template", "apply", "nope", "-g", ":".join(AI))
    assert code == 2
    code, out = _run(seeded, "settings", "template", "save", "入门群", "--group", ":".join(TG))
    assert code == 2 and "exists already" in out
