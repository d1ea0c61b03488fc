"""WeCom session archive (会话存档) JSON lines: the documented records into the archive.

The fixture (tests/fixtures/wecom/archive.jsonl, sources in its README) holds records
of each documented shape: one-to-one chats, a ``switch``, an ``agree``, a recall and
group messages of several types. Expectations are counted from the file itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from shequn import importers
from shequn.actions.imports import import_file
from shequn.events import GroupSeen, MemberRef, MessageKind, MessagePosted
from shequn.importers.base import ImportFormatError, Source, read_head
from shequn.importers.wecom_archive import WeComArchiveImporter
from shequn.store import Store, schema

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "wecom" / "archive.jsonl"
ROOM = "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA"
CUSTOMER = "wmOgQhDgAAuXFJGwbve4g4iXknfOAAAA"


def _records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]


def _count(store: Store, table: Any) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_registered_and_detected() -> None:
    assert importers.get("wecom_archive") is WeComArchiveImporter
    assert importers.detect(FIXTURE) is WeComArchiveImporter
    assert WeComArchiveImporter.sniff(FIXTURE, read_head(FIXTURE))


def test_events_from_the_documented_records() -> None:
    with Source(FIXTURE) as src:
        events = list(WeComArchiveImporter().read(src))
    group_sends = [
        r for r in _records()
        if r.get("roomid") and r["action"] == "send" and r["msgtype"] not in ("agree", "revoke")
    ]  # fmt: skip
    assert events[0] == GroupSeen("wecom", ROOM, "", kind="customer_group")
    msgs = [e for e in events if isinstance(e, MessagePosted)]
    assert [m.message_id for m in msgs] == [r["msgid"] for r in group_sends]
    by_id = {m.message_id: m for m in msgs}
    assert by_id["2575110123471542341_1603875601"] == MessagePosted(
        "wecom", ROOM, "2575110123471542341_1603875601", 1603875601.0,
        MemberRef("abel", is_operator=True), "欢迎大家加入销售客服群",
    )  # fmt: skip
    image = by_id["CAQQvPnc4QUY0On2rYSAgAMgooLa0Q8="]
    assert (image.kind, image.sender) == (MessageKind.IMAGE, MemberRef(CUSTOMER))
    link = by_id["11788441727514772650_1603875624"]
    assert link.kind is MessageKind.LINK and "external_room/join" in link.text
    assert link.ts == 1603875624.476  # milliseconds kept
    assert [m.kind for m in msgs] == [
        MessageKind.TEXT, MessageKind.IMAGE, MessageKind.LINK, MessageKind.MINIPROGRAM,
        MessageKind.STICKER, MessageKind.LOCATION, MessageKind.LINK,
    ]  # fmt: skip
    robot = msgs[-1].sender
    assert robot == MemberRef("wbOgQhDgAA9zXk1fmAAAAA", is_bot=True, is_operator=True)


def test_a_group_without_a_name_is_named_by_its_id(store: Store) -> None:
    import_file(store, FIXTURE)
    with store.engine.connect() as conn:
        assert conn.execute(select(schema.groups.c.name)).scalar_one() == ROOM


def test_import_is_idempotent_and_names_the_group(store: Store) -> None:
    first = import_file(store, FIXTURE, fmt="wecom_archive", group_name="销售客服群")
    counts = [_count(store, t) for t in (schema.messages, schema.members, schema.groups)]
    sends = [r for r in _records() if r.get("roomid") and r["msgtype"] not in ("agree", "revoke")]
    assert counts == [len(sends), len({r["from"] for r in sends}), 1] == [7, 3, 1]
    assert first.stats.events == len(sends) + 1  # and the group
    again = import_file(store, FIXTURE)  # detected, and nothing new
    assert again.format == "wecom_archive"
    assert [_count(store, t) for t in (schema.messages, schema.members, schema.groups)] == counts
    assert again.stats.new_rows == 0
    with store.engine.connect() as conn:
        assert conn.execute(select(schema.groups.c.name)).scalar_one() == "销售客服群"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"msgid": "x1", "action": "send", "from": "abel"', "not JSON"),
        (
            '{"msgid": "x2", "action": "send", "from": "abel", "roomid": "wr1", "msgtype": "text"}',
            "no field 'msgtime'",
        ),
        (
            '{"msgid": "x3", "action": "send", "from": "abel", "roomid": "wr1", '
            '"msgtime": "yesterday", "msgtype": "text", "text": {"content": "hi"}}',
            "msgtime must be epoch milliseconds",
        ),
        ('["not", "a", "record"]', "a record is a JSON object"),
    ],
)
def test_a_malformed_line_is_named_and_nothing_is_kept(
    store: Store, tmp_path: Path, line: str, problem: str
) -> None:
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    lines.insert(5, line)
    bad = tmp_path / "archive.jsonl"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ImportFormatError) as err:
        import_file(store, bad, fmt="wecom_archive")
    assert err.value.line == 6
    assert f"{bad}:6: " in str(err.value) and problem in str(err.value)
    assert _count(store, schema.messages) == 0  # one transaction: nothing of it stays
