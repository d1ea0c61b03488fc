"""DiscordChatExporter JSON: the real demo-guild exports in, counts checked against json.load."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from shequn import importers
from shequn.actions.imports import import_file
from shequn.events import (
    GroupSeen,
    MemberJoined,
    MessageKind,
    MessagePosted,
    ReactionAdded,
)
from shequn.importers.base import ImportFormatError, Source, read_head
from shequn.importers.discord import DiscordImporter
from shequn.store import Store, schema

SAMPLES = ("discordchatexporter_sample.json", "discordchatexporter_thread_sample.json")


@pytest.fixture(scope="module")
def samples(data_dir: Path) -> list[Path]:
    return [data_dir / "formats" / name for name in SAMPLES]


def _count(store: Store, table: Any, *where: Any) -> int:
    with store.engine.connect() as conn:
        q = select(func.count()).select_from(table)
        for w in where:
            q = q.where(w)
        return int(conn.execute(q).scalar_one())


def _independent(paths: list[Path]) -> dict[str, Any]:
    """What a careful reader of the JSON counts, without the importer."""
    out: dict[str, Any] = {
        "messages": 0, "joins": 0, "system": 0, "replies": 0, "reaction_rows": 0,
        "reaction_total": 0, "mentions": 0, "members": set(), "groups": set(),
    }  # fmt: skip
    for p in paths:
        doc = json.loads(p.read_text(encoding="utf-8"))
        out["groups"].add(doc["channel"]["id"])
        for m in doc["messages"]:
            out["messages"] += 1
            out["members"].add(m["author"]["id"])
            out["members"].update(u["id"] for u in m["mentions"])
            out["mentions"] += len({u["id"] for u in m["mentions"]})
            out["joins"] += m["type"] == "GuildMemberJoin"
            out["system"] += m["type"] not in ("Default", "Reply")
            ref = m.get("reference") or {}
            out["replies"] += m["type"] in ("Default", "Reply") and bool(ref.get("messageId"))
            out["reaction_rows"] += len(m["reactions"])
            out["reaction_total"] += sum(r["count"] for r in m["reactions"])
    return out


def _events(path: Path, **kw: Any) -> list[Any]:
    return list(DiscordImporter().read(Source(path=path, **kw)))


def test_real_samples_are_detected(samples: list[Path]) -> None:
    for p in samples:
        assert importers.detect(p) is DiscordImporter


def test_other_formats_are_not_discord(data_dir: Path) -> None:
    formats = data_dir / "formats"
    others = [p for p in formats.rglob("*") if p.is_file() and p.name not in SAMPLES]
    others.append(formats / "slack_export_sample")
    others += sorted((data_dir / "chatlogs" / "telegram_exports").glob("*.json"))[:2]
    for p in others:
        assert not DiscordImporter.sniff(p, read_head(p)), p
        try:
            picked = importers.detect(p)
        except importers.UnknownFormatError:
            continue
        assert picked is not DiscordImporter, p


def test_real_samples_import_with_independent_counts(store: Store, samples: list[Path]) -> None:
    for p in samples:
        import_file(store, p)
    exp = _independent(samples)
    assert exp["messages"] == 40 and exp["joins"] == 3  # the samples are what we think
    assert _count(store, schema.messages) == exp["messages"]
    assert _count(store, schema.groups) == len(exp["groups"]) == 2
    assert _count(store, schema.membership_events) == exp["joins"]
    assert _count(store, schema.reactions) == exp["reaction_rows"]
    assert _count(store, schema.mentions) == exp["mentions"]
    kinds = schema.messages.c.kind
    assert _count(store, schema.messages, kinds == "system") == exp["system"]
    assert _count(store, schema.messages, schema.messages.c.reply_to.is_not(None)) == exp["replies"]
    with store.engine.connect() as conn:
        members = set(conn.execute(select(schema.members.c.platform_id)).scalars())
        total = conn.execute(select(func.sum(schema.reactions.c.count))).scalar_one()
    assert members == exp["members"]  # one row per person, however often named
    assert total == exp["reaction_total"]


def test_reimport_inserts_nothing(store: Store, samples: list[Path]) -> None:
    first = [import_file(store, p) for p in samples]
    tables = (schema.messages, schema.members, schema.membership_events, schema.reactions)
    before = [_count(store, t) for t in tables]
    again = [import_file(store, p) for p in samples]
    assert sum(r.stats.new_rows for r in first) > 40
    assert [r.stats.new_rows for r in again] == [0, 0]
    assert [_count(store, t) for t in tables] == before


def test_events_of_the_real_sample(samples: list[Path]) -> None:
    doc = json.loads(samples[0].read_text(encoding="utf-8"))
    by_id = {m["id"]: m for m in doc["messages"]}
    events = _events(samples[0])
    group = events[0]
    assert isinstance(group, GroupSeen)
    assert (group.group_id, group.name, group.kind) == (
        "1012224565567721552", "Example guild / general", "GuildTextChat",
    )  # fmt: skip
    assert not any(isinstance(e, GroupSeen) for e in events[1:])
    posts = {e.message_id: e for e in events if isinstance(e, MessagePosted)}
    assert list(posts) == list(by_id)  # every message, in file order
    for mid, m in by_id.items():
        e = posts[mid]
        assert e.ts == datetime.fromisoformat(m["timestamp"]).timestamp()
        assert e.sender is not None and e.sender.platform_id == m["author"]["id"]
        names = [a["fileName"].rsplit(".", 1)[1].lower() for a in m["attachments"]]
        if m["type"] != "Default":
            assert e.kind is MessageKind.SYSTEM
        elif not m["content"] and names:
            expected = {"png": MessageKind.IMAGE, "gif": MessageKind.IMAGE}.get(names[0])
            assert e.kind is expected
        elif m["stickers"]:
            assert e.kind is MessageKind.STICKER
        elif "https://" in m["content"]:
            assert e.kind is MessageKind.LINK
        else:
            assert e.kind is MessageKind.TEXT
    joins = [e for e in events if isinstance(e, MemberJoined)]
    assert [j.event_id for j in joins] == [
        m["id"] for m in doc["messages"] if m["type"] == "GuildMemberJoin"
    ]
    reactions = [e for e in events if isinstance(e, ReactionAdded)]
    assert {(r.message_id, r.emoji, r.count) for r in reactions} == {
        (m["id"], r["emoji"]["name"], r["count"]) for m in doc["messages"] for r in m["reactions"]
    }
    assert all(r.member is None for r in reactions)  # this exporter gives counts only


def test_thread_export_replies_and_name(samples: list[Path]) -> None:
    events = _events(samples[1])
    group = events[0]
    assert isinstance(group, GroupSeen)
    assert group.name == "Example guild / general / Thomas is Thomas"
    assert group.kind == "GuildPublicThread"
    posts = [e for e in events if isinstance(e, MessagePosted)]
    assert [p.reply_to for p in posts[-2:]] == [posts[-3].message_id, posts[-2].message_id]
    assert [m.name for m in posts[2].mentions] == ["Adam"]


def test_bots_optional_fields_attachments_and_override(samples: list[Path], tmp_path: Path) -> None:
    doc = json.loads(samples[0].read_text(encoding="utf-8"))
    doc["exportedAt"] = "2024-05-01T10:00:00+02:00"
    msgs = doc["messages"]
    msgs[0]["author"]["isBot"] = True
    msgs[0]["author"]["roles"] = [{"id": "1", "name": "Bot", "color": None, "position": 1}]
    msgs[0]["components"] = []
    msgs[0]["inlineEmojis"] = [{"id": "", "name": "👏", "code": "clap"}]
    msgs[1]["timestamp"] = "2023-01-06T22:12:01.593+08:00"  # same instant, other zone
    msgs[5]["attachments"] = [{"id": "1", "url": "x/clip.MP4", "fileName": "clip.MP4"}]
    msgs[5]["content"] = ""
    msgs[6]["attachments"] = [{"id": "2", "url": "x/notes.pdf", "fileName": "notes.pdf"}]
    msgs[6]["content"] = ""
    msgs[7]["timestampEdited"] = "2023-01-06T14:30:00+00:00"
    path = tmp_path / "export.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    events = _events(path, group_name="Demo")
    assert events[0].name == "Demo"
    posts = [e for e in events if isinstance(e, MessagePosted)]
    assert len(posts) == len(msgs)
    bot = posts[0].sender
    assert bot is not None and bot.is_bot and bot.is_operator
    assert posts[1].ts == datetime.fromisoformat("2023-01-06T14:12:01.593+00:00").timestamp()
    assert (posts[5].kind, posts[6].kind) == (MessageKind.VIDEO, MessageKind.FILE)
    assert posts[7].edited and not posts[8].edited


def test_truncated_json_names_file_and_offset(
    store: Store, samples: list[Path], tmp_path: Path
) -> None:
    data = samples[0].read_bytes()
    for cut in (len(data) * 2 // 3, 300):  # inside the messages; inside the channel header
        bad = tmp_path / f"cut{cut}.json"
        bad.write_bytes(data[:cut])
        with pytest.raises(ImportFormatError) as err:
            import_file(store, bad, fmt="discord")
        assert str(bad) in str(err.value)
        assert err.value.offset is not None and "(byte " in str(err.value)
        assert _count(store, schema.messages) == 0
        assert _count(store, schema.membership_events) == 0


def test_missing_required_fields(store: Store, samples: list[Path], tmp_path: Path) -> None:
    doc = json.loads(samples[0].read_text(encoding="utf-8"))
    del doc["messages"][20]["timestamp"]
    bad = tmp_path / "no_time.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ImportFormatError) as err:
        import_file(store, bad)
    assert str(bad) in str(err.value) and doc["messages"][20]["id"] in str(err.value)
    assert _count(store, schema.messages) == 0

    doc = json.loads(samples[0].read_text(encoding="utf-8"))
    del doc["messages"][3]["author"]
    bad = tmp_path / "no_author.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ImportFormatError, match="author"):
        _events(bad)

    doc = json.loads(samples[0].read_text(encoding="utf-8"))
    del doc["channel"]["id"]
    bad = tmp_path / "no_channel.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"channel\.id") as err:
        _events(bad)
    assert str(bad) in str(err.value)
