"""``shequn invites``: create a 活码 from the command line, print a campaign's leaderboard."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from shequn.cli import build_app
from shequn.features.invites import campaigns
from shequn.store import open_store, schema


def test_create_code_and_leaderboard(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    runner, app = CliRunner(), build_app()
    r = runner.invoke(app, ["invites", "create-code", "春季", "--group", "telegram:-1001",
                            "--group", "qq:12345", "--link", "telegram:-1001=https://t.me/+a",
                            "--code", "spring", "--base-url", "https://ops.example", "--db", db])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "https://ops.example/j/spring" in r.output
    bad = runner.invoke(app, ["invites", "create-code", "x", "--group", "nogroup", "--db", db])
    assert bad.exit_code == 2 and "platform:group_id" in bad.output
    taken = runner.invoke(app, ["invites", "create-code", "y", "--group", "qq:1", "--code",
                                "spring", "--db", db])  # fmt: skip
    assert taken.exit_code == 2
    store = open_store(db)
    with store.engine.begin() as conn:
        t = schema.invite_targets
        got = conn.execute(t.select().order_by(t.c.position)).all()
        assert [(x.platform, x.group_id, x.link, x.invite_key) for x in got] == [
            ("telegram", "-1001", "https://t.me/+a", "t.me/+a"), ("qq", "12345", "", None),
        ]  # fmt: skip
        cid = campaigns.create_campaign(conn, name="老带新", now=1.0, tiers=[], code_id=1)
        campaigns.enrol(conn, cid, "qq", "777", name="Mia", group_id="12345", now=1.0)
    store.close()
    r = runner.invoke(app, ["invites", "leaderboard", str(cid), "--json", "--db", db])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["campaign"] == "老带新" and out["leaderboard"][0]["member_id"] == "777"
    r = runner.invoke(app, ["invites", "leaderboard", str(cid), "--db", db])
    assert r.exit_code == 0 and "Mia" in r.output
    assert runner.invoke(app, ["invites", "leaderboard", "99", "--db", db]).exit_code == 2
