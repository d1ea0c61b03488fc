"""Slack exports: the real sample folder, the same as a zip, and edited copies of it.

Counts are checked against json.load of the day files; the folder and the zip must
give identical archives.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from shequn import importers
from shequn.actions.imports import import_file
from shequn.events import (
    GroupSeen,
    MemberJoined,
    MemberLeft,
    MessageKind,
    MessagePosted,
    ReactionAdded,
)
from shequn.importers.base import ImportFormatError, Source, read_head
from shequn.importers.slack import SlackImporter
from shequn.store import Store, open_store, schema

CHANNEL = "B75B4C7"
DAY = "2025-01-11.json"


@pytest.fixture(scope="module")
def sample(data_dir: Path) -> Path:
    return data_dir / "formats" / "slack_export_sample"


@pytest.fixture
def copy(sample: Path, tmp_path: Path) -> Path:
    """A writable copy of the sample folder."""
    dst = tmp_path / "export"
    shutil.copytree(sample, dst)
    for p in dst.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dst


def _zip(folder: Path, dest: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, prefix + p.relative_to(folder).as_posix())
    return dest


def _count(store: Store, table: Any) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _messages(folder: Path) -> list[dict[str, Any]]:
    out = []
    for day in sorted((folder / CHANNEL).glob("*.json")):
        out += json.loads(day.read_text(encoding="utf-8"))
    return out


def _independent(folder: Path) -> dict[str, Any]:
    msgs = _messages(folder)
    users = {u["id"]: u for u in json.loads((folder / "users.json").read_text(encoding="utf-8"))}
    bot_users = {
        u["profile"]["bot_id"]: uid for uid, u in users.items() if "bot_id" in u["profile"]
    }
    people = set()
    for m in msgs:
        people.add(m.get("user") or bot_users.get(m.get("bot_id"), m.get("bot_id")))
        people.update(u for r in m.get("reactions", []) for u in r["users"])
        people.update(re.findall(r"<@(U[A-Z0-9]+)", m.get("text", "")))
    return {
        "messages": len(msgs),
        "joins": sum(m.get("subtype") == "channel_join" for m in msgs),
        "leaves": sum(m.get("subtype") == "channel_leave" for m in msgs),
        "replies": sum("thread_ts" in m and m["thread_ts"] != m["ts"] for m in msgs),
        "reactions": sum(len(set(r["users"])) for m in msgs for r in m.get("reactions", [])),
        "members": people,
    }


def _dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every archive table by natural values (not row ids), sorted."""
    m, g, msg = schema.members, schema.groups, schema.messages
    with store.engine.connect() as conn:
        return {
            "groups": sorted(conn.execute(select(g.c.platform_id, g.c.name, g.c.kind)).all()),
            "members": sorted(
                conn.execute(select(m.c.platform_id, m.c.name, m.c.is_bot, m.c.is_operator)).all()
            ),
            "messages": sorted(
                conn.execute(
                    select(
                        msg.c.platform_id,
                        m.c.platform_id,
                        msg.c.ts,
                        msg.c.kind,
                        msg.c.text,
                        msg.c.reply_to,
                        msg.c.edited,
                        msg.c.n_mentions,
                    ).outerjoin(m, m.c.id == msg.c.member_id)
                ).all()
            ),
            "memberships": sorted(
                conn.execute(
                    select(
                        schema.membership_events.c.platform_id,
                        schema.membership_events.c.action,
                        schema.membership_events.c.ts,
                    )
                ).all()
            ),
            "reactions": sorted(
                conn.execute(
                    select(
                        schema.reactions.c.message_pid,
                        schema.reactions.c.emoji,
                        schema.reactions.c.count,
                    )
                ).all()
            ),
        }


def _events(path: Path, **kw: Any) -> list[Any]:
    return list(SlackImporter().read(Source(path=path, **kw)))


def _enrich(folder: Path) -> None:
    """Add what the scrambled sample lacks: reactions, a mention, a leave, bot posts."""
    path = folder / CHANNEL / DAY
    msgs = json.loads(path.read_text(encoding="utf-8"))
    msgs[1]["reactions"] = [
        {"name": "tada", "users": ["UOF82F39AE", "UO9EBC728B"], "count": 2},
        {"name": "eyes", "users": ["UOB5F987BF17"], "count": 5},
    ]
    msgs[2]["text"] = "thanks <@UOB5F987BF17> and <@UO9EBC728B|someone>, see <https://x.org|x>"
    msgs.append(
        {"type": "message", "subtype": "channel_leave", "user": "UO9EBC728B",
         "text": "<@UO9EBC728B> has left the channel", "ts": "1736590000.000100"}
    )  # fmt: skip
    msgs.append(  # a bot known to users.json by its bot_id only
        {"type": "message", "subtype": "bot_message", "bot_id": "B089LPE68BB",
         "username": "deploy", "text": "deployed", "ts": "1736590001.000200"}
    )  # fmt: skip
    msgs.append(  # a bot users.json does not know
        {"type": "message", "subtype": "bot_message", "bot_id": "BNOTLISTED",
         "username": "ci", "text": "green", "ts": "1736590002.000300"}
    )  # fmt: skip
    msgs.append(
        {"type": "message", "subtype": "channel_join", "user": "UO1D8E698D",
         "inviter": "UOF82F39AE", "text": "joined", "ts": "1736590003.000400"}
    )  # fmt: skip
    path.write_text(json.dumps(msgs), encoding="utf-8")


def test_real_sample_is_detected_as_folder_and_zip(sample: Path, tmp_path: Path) -> None:
    assert importers.detect(sample) is SlackImporter
    assert importers.detect(_zip(sample, tmp_path / "slack.zip")) is SlackImporter
    assert importers.detect(_zip(sample, tmp_path / "nested.zip", "Acme Slack export/")) is (
        SlackImporter
    )


def test_other_formats_are_not_slack(data_dir: Path, tmp_path: Path) -> None:
    formats = data_dir / "formats"
    others = [p for p in formats.rglob("*") if p.is_file() and "slack_export" not in str(p)]
    others += [formats / "schema_only", data_dir / "chatlogs" / "ubuntu_irc" / "dev"]
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as z:
        z.write(formats / "telegram_desktop_result_sample.json", "result.json")
    others.append(other_zip)
    for p in others:
        assert not SlackImporter.sniff(p, read_head(p)), p
        try:
            picked = importers.detect(p)
        except importers.UnknownFormatError:
            continue
        assert picked is not SlackImporter, p


def test_real_sample_imports_with_independent_counts(store: Store, sample: Path) -> None:
    import_file(store, sample)
    exp = _independent(sample)
    assert exp["messages"] == 16 and exp["joins"] == 1  # the sample is what we think
    assert _count(store, schema.messages) == exp["messages"]
    assert _count(store, schema.membership_events) == exp["joins"] + exp["leaves"]
    assert _count(store, schema.reactions) == exp["reactions"]
    with store.engine.connect() as conn:
        members = set(conn.execute(select(schema.members.c.platform_id)).scalars())
        replies = conn.execute(
            select(func.count()).where(schema.messages.c.reply_to.is_not(None))
        ).scalar_one()
        group = conn.execute(select(schema.groups.c.platform_id, schema.groups.c.name)).one()
    assert members == exp["members"]
    assert replies == exp["replies"]
    channels = json.loads((sample / "channels.json").read_text(encoding="utf-8"))
    assert tuple(group) == (channels[0]["id"], channels[0]["name"])


def test_enriched_copy_counts_and_events(store: Store, copy: Path) -> None:
    _enrich(copy)
    import_file(store, copy)
    exp = _independent(copy)
    assert exp["reactions"] == 3 and exp["leaves"] == 1
    assert _count(store, schema.messages) == exp["messages"]
    assert _count(store, schema.membership_events) == exp["joins"] + exp["leaves"]
    # per reacting user, plus the 4 "eyes" Slack counted but did not list
    assert _count(store, schema.reactions) == exp["reactions"] + 1
    with store.engine.connect() as conn:
        members = set(conn.execute(select(schema.members.c.platform_id)).scalars())
    assert members == exp["members"]  # the bot_id-only post is its user, not a new member

    events = _events(copy)
    assert isinstance(events[0], GroupSeen)
    posts = {e.message_id: e for e in events if isinstance(e, MessagePosted)}
    thanks = posts["1736554783.040199"]
    assert [m.platform_id for m in thanks.mentions] == ["UOB5F987BF17", "UO9EBC728B"]
    assert thanks.kind is MessageKind.LINK
    deploy, ci = posts["1736590001.000200"], posts["1736590002.000300"]
    assert deploy.sender is not None and deploy.sender.platform_id == "UO0EC43A4792"
    assert ci.sender is not None and ci.sender.platform_id == "BNOTLISTED"
    assert ci.sender.is_bot and ci.sender.is_operator and deploy.sender.is_bot
    reacts = [e for e in events if isinstance(e, ReactionAdded)]
    assert sorted((r.emoji, r.member.platform_id if r.member else "", r.count) for r in reacts) == [
        ("eyes", "", 4), ("eyes", "UOB5F987BF17", 1),
        ("tada", "UO9EBC728B", 1), ("tada", "UOF82F39AE", 1),
    ]  # fmt: skip
    left = next(e for e in events if isinstance(e, MemberLeft))
    assert left.member.platform_id == "UO9EBC728B"
    invited = [e for e in events if isinstance(e, MemberJoined) and e.inviter is not None]
    assert [(j.member.platform_id, j.inviter.platform_id) for j in invited if j.inviter] == [
        ("UO1D8E698D", "UOF82F39AE")
    ]
    assert posts["1736554636.807919"].kind is MessageKind.SYSTEM  # the join message
    assert posts["1736582524.607359"].kind is MessageKind.IMAGE  # a jpeg, no text


def test_names_and_staff_come_from_users_json(sample: Path) -> None:
    users = {u["id"]: u for u in json.loads((sample / "users.json").read_text(encoding="utf-8"))}
    for e in _events(sample):
        if isinstance(e, MessagePosted) and e.sender is not None:
            u = users[e.sender.platform_id]
            assert e.sender.name == (u["profile"]["display_name"] or u["real_name"]).strip()
            admin = u["is_admin"] or u["is_owner"] or u["is_bot"]
            assert e.sender.is_operator == admin


@pytest.fixture
def zip_store(tmp_path: Path) -> Iterator[Store]:
    """A second archive (its own file), to import the zip into."""
    st = open_store(f"sqlite:///{tmp_path / 'from_zip.db'}")
    yield st
    st.close()


def test_folder_and_zip_give_identical_archives(
    sample: Path, tmp_path: Path, store: Store, zip_store: Store
) -> None:
    import_file(store, sample)
    archive = _zip(sample, tmp_path / "export.zip", "export/")
    with zipfile.ZipFile(archive, "a") as z:  # what Finder adds when it zips a folder
        z.writestr(f"__MACOSX/export/{CHANNEL}/._{DAY}", b"\x00\x05\x16\x07 not json")
        z.writestr("__MACOSX/export/._users.json", b"\x00\x05\x16\x07")
    zipped = import_file(zip_store, archive)
    assert zipped.format == "slack"
    assert _count(zip_store, schema.messages) == 16
    assert _dump(zip_store) == _dump(store)


def test_enriched_folder_and_zip_identical(
    copy: Path, tmp_path: Path, store: Store, zip_store: Store
) -> None:
    _enrich(copy)
    import_file(store, copy)
    import_file(zip_store, _zip(copy, tmp_path / "export.zip"))
    assert _count(zip_store, schema.reactions) == 4
    assert _dump(zip_store) == _dump(store)


def test_reimport_folder_then_zip_inserts_nothing(
    store: Store, sample: Path, tmp_path: Path
) -> None:
    first = import_file(store, sample)
    tables = (schema.messages, schema.members, schema.membership_events, schema.reactions)
    before = [_count(store, t) for t in tables]
    again = import_file(store, sample)
    from_zip = import_file(store, _zip(sample, tmp_path / "export.zip"))
    assert first.stats.new_rows == 17
    assert again.stats.new_rows == 0 and from_zip.stats.new_rows == 0
    assert [_count(store, t) for t in tables] == before


def test_missing_users_json(store: Store, copy: Path, tmp_path: Path) -> None:
    zipped = tmp_path / "no_users.zip"
    (copy / "users.json").unlink()
    _zip(copy, zipped)
    for path in (copy, zipped):
        with pytest.raises(ImportFormatError) as err:
            import_file(store, path)
        assert str(path) in str(err.value) and "users.json" in str(err.value)
        assert _count(store, schema.messages) == 0


def test_malformed_day_file(store: Store, copy: Path, tmp_path: Path) -> None:
    day = copy / CHANNEL / DAY
    text = day.read_text(encoding="utf-8")
    day.write_text(text[: len(text) // 2], encoding="utf-8")
    zipped = _zip(copy, tmp_path / "broken.zip")
    for path in (copy, zipped):
        with pytest.raises(ImportFormatError) as err:
            import_file(store, path)
        msg = str(err.value)
        assert str(path) in msg and f"{CHANNEL}/{DAY}" in msg
        assert err.value.line is not None and f"{DAY}:{err.value.line}" in msg
        # the day before was fine, but nothing of the export stays
        assert _count(store, schema.messages) == 0
        assert _count(store, schema.membership_events) == 0


def test_message_without_ts(store: Store, copy: Path) -> None:
    day = copy / CHANNEL / DAY
    msgs = json.loads(day.read_text(encoding="utf-8"))
    del msgs[3]["ts"]
    day.write_text(json.dumps(msgs), encoding="utf-8")
    with pytest.raises(ImportFormatError, match="message #3") as err:
        import_file(store, copy)
    assert f"{CHANNEL}/{DAY}" in str(err.value)
    assert _count(store, schema.messages) == 0


def test_broken_users_json(store: Store, copy: Path, tmp_path: Path) -> None:
    users = copy / "users.json"
    users.write_bytes(users.read_bytes()[:5000])
    zipped = _zip(copy, tmp_path / "export.zip")
    for path, where in ((copy, str(users)), (zipped, f"{zipped}!users.json")):
        with pytest.raises(ImportFormatError) as err:
            import_file(store, path)
        assert where in str(err.value) and err.value.offset is not None
        assert _count(store, schema.messages) == 0


def test_group_name_override_for_a_single_channel(sample: Path) -> None:
    first = _events(sample, group_name="General")[0]
    assert isinstance(first, GroupSeen) and first.name == "General"
