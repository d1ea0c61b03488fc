"""A member's data on request: export everything, erase with an audit row, nothing else harmed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shequn.actions.imports import import_file
from shequn.actions.privacy import MemberNotFound, erase_member, export_member
from shequn.features.checkin import award
from shequn.store import Store, schema

QQ = Path(__file__).resolve().parents[1] / "fixtures" / "qq" / "qq_group_export.txt"


@pytest.fixture
def archive(store: Store) -> Store:
    import_file(store, QQ, fmt="qq")
    with store.engine.begin() as conn:  # feature rows keyed by the platform id
        award(
            conn, "qq", "g", "10002", points=10, reason="checkin", day="2023-03-01", ts=1.0, cap=99
        )
        award(
            conn, "qq", "g", "10003", points=10, reason="checkin", day="2023-03-01", ts=1.0, cap=99
        )
    return store


def _texts(store: Store, pid: str) -> list[str]:
    m, msg = schema.members, schema.messages
    with store.engine.connect() as conn:
        return list(
            conn.execute(
                select(msg.c.text).join(m, m.c.id == msg.c.member_id).where(m.c.platform_id == pid)
            ).scalars()
        )


def test_export_has_messages_names_and_feature_rows(archive: Store) -> None:
    data = export_member(archive, "qq", "10002")
    assert data["member"]["name"].startswith("张三")
    assert len(data["messages"]) == len(_texts(archive, "10002")) > 0
    assert [r["delta"] for r in data["points_ledger"]] == [10]
    json.dumps(data, ensure_ascii=False, default=str)  # JSON-ready
    with pytest.raises(MemberNotFound):
        export_member(archive, "qq", "99999")


def test_erase_redacts_the_member_and_keeps_everyone_else(archive: Store) -> None:
    before_other = _texts(archive, "10003")
    with archive.engine.connect() as conn:
        n_messages = conn.execute(select(func.count()).select_from(schema.messages)).scalar_one()
    counts = erase_member(archive, "qq", "10002", operator="alice", reason="member request")
    assert counts["messages"] > 0 and counts["points_ledger"] == 1
    with pytest.raises(MemberNotFound):
        export_member(archive, "qq", "10002")  # the id is gone everywhere
    with archive.engine.connect() as conn:
        m = schema.members
        row = conn.execute(select(m).where(m.c.name == "[erased]")).one()
        assert row.platform_id.startswith("erased:") and "10002" not in row.platform_id
        texts = conn.execute(
            select(schema.messages.c.text).where(schema.messages.c.member_id == row.id)
        ).scalars()
        assert set(texts) == {""}
        # activity is still counted (group statistics stay true)
        assert (
            conn.execute(select(func.count()).select_from(schema.messages)).scalar_one()
            == n_messages
        )
        names = conn.execute(
            select(schema.member_names.c.name).where(schema.member_names.c.member_id == row.id)
        ).all()
        assert names == []
        audit = conn.execute(
            select(schema.bot_actions).where(schema.bot_actions.c.kind == "erase")
        ).one()
        assert audit.operator == "alice" and audit.reason == "member request"
        assert "10002" not in audit.evidence + (audit.member_id or "")
        ledger = conn.execute(select(schema.points_ledger.c.member_id)).scalars().all()
        assert "10002" not in ledger and "10003" in ledger
    assert _texts(archive, "10003") == before_other


def test_erase_unknown_member_changes_nothing(archive: Store) -> None:
    with pytest.raises(MemberNotFound):
        erase_member(archive, "qq", "99999", operator="alice", reason="x")
    with archive.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.bot_actions)).scalar_one() == 0


def test_cli_export_and_erase(archive: Store, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from shequn.cli import build_app

    url = str(archive.engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    out = tmp_path / "m.json"
    r = runner.invoke(build_app(), ["member", "export", "qq", "10002", "--db", url, "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text(encoding="utf-8"))["member"]["platform_id"] == "10002"
    r = runner.invoke(
        build_app(),
        [
            "member",
            "erase",
            "qq",
            "10002",
            "--db",
            url,
            "--operator",
            "bob",
            "--reason",
            "gdpr",
            "--yes",
        ],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(build_app(), ["member", "export", "qq", "10002", "--db", url])
    assert r.exit_code == 1


def test_erase_covers_an_appeal_and_its_strike(archive: Store) -> None:
    from shequn.actions.appeals import appealable_strike, open_appeal
    from shequn.actions.moderation import add_strike

    with archive.engine.begin() as conn:
        add_strike(conn, platform="qq", group_id="g", member_id="10002", rule="ad",
                   message_id="m1", evidence={"text": "加我微信"}, now=1.0, ttl_days=30)  # fmt: skip
        strike = appealable_strike(conn, "qq", "g", "10002", 2.0)
        assert strike is not None
        open_appeal(conn, strike, "我是张三，那是误判", member_name="张三", now=2.0)
    assert export_member(archive, "qq", "10002")["appeals"][0]["member_name"] == "张三"
    counts = erase_member(archive, "qq", "10002", operator="alice", reason="member request")
    assert counts["appeals"] == counts["strikes"] == 1
    with archive.engine.connect() as conn:
        a = conn.execute(select(schema.appeals)).one()
        s = conn.execute(select(schema.strikes)).one()
        task = conn.execute(select(schema.human_tasks)).one()
    assert (a.text, a.member_name, s.evidence, task.text) == ("", "", "{}", "")  # JSON stays JSON
    assert a.member_id == s.member_id and a.member_id.startswith("erased:")


def test_erase_covers_the_members_private_chat_with_the_bot(archive: Store) -> None:
    from shequn.actions.moderation import plan
    from shequn.events import DirectMessage, MemberRef
    from shequn.platforms.port import FakePlatform
    from shequn.workers import inbox

    dm = DirectMessage("qq", "dm:10002", "77", 5.0, MemberRef("10002", "张三"), "申诉 张三的理由")
    with archive.engine.begin() as conn:
        inbox.put(conn, "qq", dm, now=5.0)
        conn.execute(schema.processed_events.insert().values(
            platform="qq", event_key="dm:dm:10002:77", group_id="dm:10002", ts=5.0,
            processed_at=5.0))  # fmt: skip
        plan(conn, FakePlatform(name="qq"), group_id="dm:10002", kind="send", now=5.0,
             member_id="10002", params={"text": "@张三 已收到你的申诉"}, reason="appeal")  # fmt: skip
    counts = erase_member(archive, "qq", "10002", operator="alice", reason="member request")
    assert counts["inbox (private chat)"] == counts["processed_events (private chat)"] == 1
    assert counts["bot_actions (private chat)"] == 1
    with archive.engine.connect() as conn:
        for table in (schema.inbox, schema.processed_events, schema.bot_actions):
            for row in conn.execute(select(table)):
                row_text = json.dumps(row._asdict(), ensure_ascii=False, default=str)
                assert "10002" not in row_text and "张三" not in row_text
