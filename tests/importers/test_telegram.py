"""Telegram Desktop JSON: real exports in, archive counts checked against json.load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from shequn import importers
from shequn.actions.imports import import_file
from shequn.events import JoinMethod, MemberJoined, MemberLeft, MessageKind, MessagePosted
from shequn.importers.base import ImportFormatError, Source
from shequn.importers.telegram import TelegramImporter
from shequn.store import Store, schema


def _count(store: Store, table: Any) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _independent(paths: list[Path]) -> dict[str, Any]:
    """What a careful reader of the JSON would count, without the importer."""
    ids: set[tuple[int, int]] = set()
    senders: set[str] = set()
    service = 0
    for p in paths:
        chat = json.loads(p.read_text(encoding="utf-8"))
        for m in chat["messages"]:
            if (chat["id"], m["id"]) in ids:
                continue
            ids.add((chat["id"], m["id"]))
            if m["type"] == "service":
                service += 1
                senders.add(m["actor_id"])
            else:
                senders.add(m["from_id"])
    return {"messages": len(ids), "service": service, "senders": senders}


def test_real_sample_is_detected(data_dir: Path) -> None:
    path = data_dir / "formats" / "telegram_desktop_result_sample.json"
    assert importers.detect(path) is TelegramImporter


@pytest.mark.parametrize("streamed", [False, True])
def test_real_exports_import_with_independent_counts(
    store: Store, data_dir: Path, monkeypatch: pytest.MonkeyPatch, streamed: bool
) -> None:
    if streamed:
        monkeypatch.setattr("shequn.importers.telegram.WHOLE_FILE_MAX", 0)
    paths = sorted((data_dir / "chatlogs" / "telegram_exports").glob("*.json"))
    assert len(paths) >= 5
    for p in paths:
        import_file(store, p)
    expected = _independent(paths)
    assert _count(store, schema.messages) == expected["messages"]
    with store.engine.connect() as conn:
        members = {r[0] for r in conn.execute(select(schema.members.c.platform_id))}
    assert expected["senders"] <= members


def test_reimport_and_overlap_insert_nothing_twice(store: Store, data_dir: Path) -> None:
    sample = data_dir / "formats" / "telegram_desktop_result_sample.json"
    first = import_file(store, sample)
    assert first.stats.messages == _independent([sample])["messages"]
    before = _count(store, schema.messages), _count(store, schema.members)
    again = import_file(store, sample)
    assert again.stats.new_rows == 0
    assert again.stats.duplicates == first.stats.messages
    assert (_count(store, schema.messages), _count(store, schema.members)) == before


def test_overlapping_exports_union(store: Store, data_dir: Path, tmp_path: Path) -> None:
    src = json.loads((data_dir / "chatlogs" / "telegram_exports" / "oop.json").read_text())
    msgs = src["messages"]
    half = len(msgs) // 2
    a = tmp_path / "a.json"
    b = tmp_path / "b.json"
    a.write_text(json.dumps({**src, "messages": msgs[: half + 10]}), encoding="utf-8")
    b.write_text(json.dumps({**src, "messages": msgs[half - 10 :]}), encoding="utf-8")
    import_file(store, a)
    import_file(store, b)
    assert _count(store, schema.messages) == len({m["id"] for m in msgs})


SERVICE_EXPORT = {
    "name": "示例群",
    "type": "private_supergroup",
    "id": 42,
    "messages": [
        {"id": 1, "type": "service", "date": "2024-01-01T10:00:00", "date_unixtime": "1704103200",
         "actor": "Owner", "actor_id": "user1", "action": "create_group", "title": "示例群",
         "members": ["Owner", "Carol"], "text": ""},
        {"id": 2, "type": "service", "date": "2024-01-02T03:04:05", "date_unixtime": "1704164645",
         "actor": "Alice", "actor_id": "user1001", "action": "join_group_by_link",
         "inviter": "Group", "text": ""},
        {"id": 3, "type": "service", "date": "2024-01-02T03:05:00", "date_unixtime": "1704164700",
         "actor": "Alice", "actor_id": "user1001", "action": "invite_members",
         "members": ["Bob 张"], "text": ""},
        {"id": 4, "type": "message", "date": "2024-01-02T03:06:00", "date_unixtime": "1704164760",
         "from": "Bob 张", "from_id": "user1002", "text": ["你好 ", {"type": "link", "text": "https://example.com"}],
         "text_entities": [{"type": "plain", "text": "你好 "}, {"type": "link", "text": "https://example.com"}]},
        {"id": 5, "type": "message", "date": "2024-01-02T03:07:00", "date_unixtime": "1704164820",
         "from": "Alice", "from_id": "user1001", "reply_to_message_id": 4, "text": "欢迎 Bob",
         "text_entities": [{"type": "mention_name", "text": "Bob", "user_id": 1002}],
         "reactions": [{"type": "emoji", "count": 2, "emoji": "👍"}]},
        {"id": 6, "type": "service", "date": "2024-01-03T00:00:00", "date_unixtime": "1704240000",
         "actor": "Owner", "actor_id": "user1", "action": "remove_members", "members": ["Bob 张"], "text": ""},
        {"id": 7, "type": "service", "date": "2024-01-03T00:01:00", "date_unixtime": "1704240060",
         "actor": "Alice", "actor_id": "user1001", "action": "remove_members", "members": ["Alice"], "text": ""},
        {"id": 8, "type": "service", "date": "2024-01-03T00:02:00", "date_unixtime": "1704240120",
         "actor": "Owner", "actor_id": "user1", "action": "pin_message", "message_id": 5, "text": ""},
    ],
}  # fmt: skip


def test_service_messages_become_joins_leaves_and_kicks(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(SERVICE_EXPORT, ensure_ascii=False), encoding="utf-8")
    events = list(TelegramImporter().read(Source(path=path)))
    joins = [e for e in events if isinstance(e, MemberJoined)]
    by_id = {j.member.platform_id: j for j in joins}
    assert by_id["user1"].method is JoinMethod.CREATOR
    assert by_id["user1001"].method is JoinMethod.LINK
    # The invitee is named only by display name; their later message gives the id.
    assert by_id["user1002"].method is JoinMethod.INVITED
    assert by_id["user1002"].inviter is not None
    assert by_id["user1002"].inviter.platform_id == "user1001"
    assert "name:Carol" in by_id  # never spoke: no id to be found
    lefts = {e.member.platform_id: e for e in events if isinstance(e, MemberLeft)}
    assert lefts["user1002"].removed_by is not None  # kicked by the owner
    assert lefts["user1001"].removed_by is None  # left on her own
    posts = {e.message_id: e for e in events if isinstance(e, MessagePosted)}
    assert posts["4"].kind is MessageKind.LINK and posts["4"].text == "你好 https://example.com"
    assert posts["5"].reply_to == "4"
    assert [m.platform_id for m in posts["5"].mentions] == ["user1002"]
    assert posts["8"].kind is MessageKind.SYSTEM and posts["8"].sender is not None
    assert posts["8"].sender.is_operator  # only admins pin


def test_service_export_in_archive(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(SERVICE_EXPORT, ensure_ascii=False), encoding="utf-8")
    import_file(store, path)
    with store.engine.connect() as conn:
        actions = sorted(r[0] for r in conn.execute(select(schema.membership_events.c.action)))
        ops = {
            r[0]
            for r in conn.execute(
                select(schema.members.c.platform_id).where(schema.members.c.is_operator)
            )
        }
        reactions = conn.execute(select(schema.reactions.c.count)).scalars().all()
    assert actions == ["join", "join", "join", "join", "kick", "leave"]
    assert ops == {"user1"}
    assert reactions == [2]


def test_whole_account_export(store: Store, data_dir: Path, tmp_path: Path) -> None:
    a = json.loads((data_dir / "chatlogs" / "telegram_exports" / "oop.json").read_text())
    b = dict(SERVICE_EXPORT)
    account = {
        "about": "Here is the data you requested.",
        "personal_information": {"user_id": 1, "first_name": "Owner"},
        "chats": {"about": "...", "list": [a]},
        "left_chats": {"about": "...", "list": [b]},
    }
    path = tmp_path / "result.json"
    path.write_text(json.dumps(account, ensure_ascii=False, indent=1), encoding="utf-8")
    assert importers.detect(path) is TelegramImporter
    import_file(store, path)
    with store.engine.connect() as conn:
        per_group = dict(
            conn.execute(
                select(schema.groups.c.platform_id, func.count(schema.messages.c.id))
                .join(schema.messages, schema.messages.c.group_id == schema.groups.c.id)
                .group_by(schema.groups.c.platform_id)
            ).all()
        )
    assert per_group == {str(a["id"]): len(a["messages"]), "42": len(SERVICE_EXPORT["messages"])}


@pytest.mark.parametrize("streamed", [False, True])
def test_truncated_json_is_rejected_and_nothing_kept(
    store: Store, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, streamed: bool
) -> None:
    if streamed:  # the path a file larger than WHOLE_FILE_MAX takes
        monkeypatch.setattr("shequn.importers.telegram.WHOLE_FILE_MAX", 0)
    raw = (data_dir / "chatlogs" / "telegram_exports" / "coorporate-speak.json").read_bytes()
    cut = raw[: len(raw) * 2 // 3]
    path = tmp_path / "cut.json"
    path.write_bytes(cut)
    with pytest.raises(ImportFormatError) as err:
        import_file(store, path)
    lines = cut.count(b"\n") + 1
    where = "cut.json (byte" if streamed else f"cut.json:{lines}:"
    assert where in str(err.value)
    assert _count(store, schema.messages) == 0
    with store.engine.connect() as conn:
        status = conn.execute(select(schema.imports.c.status)).scalars().all()
    assert status == ["failed"]


def test_message_missing_date_names_the_message(store: Store, tmp_path: Path) -> None:
    bad = json.loads(json.dumps(SERVICE_EXPORT))
    bad["messages"][4].pop("date")
    bad["messages"][4].pop("date_unixtime")
    path = tmp_path / "result.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"message id=5"):
        import_file(store, path)
    assert _count(store, schema.messages) == 0


def test_interrupt_mid_import_leaves_archive_unchanged(store: Store, data_dir: Path) -> None:
    good = data_dir / "formats" / "telegram_desktop_result_sample.json"
    import_file(store, good)
    before = _count(store, schema.messages)
    seen = 0

    def ctrl_c(n: int) -> None:
        nonlocal seen
        seen += n
        if seen > 20_000:
            raise KeyboardInterrupt

    big = data_dir / "chatlogs" / "telegram_exports" / "pujangga-kode-2.json"
    with pytest.raises(KeyboardInterrupt):
        import_file(store, big, on_progress=ctrl_c)
    assert _count(store, schema.messages) == before
    # ... and the same file imports fine afterwards.
    import_file(store, big)
    assert _count(store, schema.messages) == before + _independent([big])["messages"]


def test_huge_message_is_cut_not_fatal(store: Store, tmp_path: Path) -> None:
    export = json.loads(json.dumps(SERVICE_EXPORT))
    export["messages"][3]["text"] = "广告" * 3_000_000  # 6M characters, ~18 MB of UTF-8
    path = tmp_path / "big.json"
    path.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    result = import_file(store, path)
    assert result.stats.truncated == 1
    with store.engine.connect() as conn:
        longest = conn.execute(select(func.max(func.length(schema.messages.c.text)))).scalar_one()
    assert longest == 64 * 1024
