"""QQ 消息管理器 txt: the real layout sample and our own fixture, counted independently.

Expected numbers come from reading the files with plain regular expressions here (or,
for the hand-written fixture, from what its author put in it), never from the importer.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from shequn import importers
from shequn.actions.imports import import_file
from shequn.events import (
    Event,
    GroupSeen,
    JoinMethod,
    MemberJoined,
    MemberLeft,
    MemberRenamed,
    MessageKind,
    MessagePosted,
)
from shequn.importers.base import ImportFormatError, Source
from shequn.importers.qq_txt import QQTxtImporter
from shequn.store import Store, schema

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "qq"
FIXTURE = FIXTURES / "qq_group_export.txt"
SHANGHAI = ZoneInfo("Asia/Shanghai")

# A message head as a reader of the file sees it: after a blank line, a date, a time,
# then someone with a QQ number in parentheses or an email in angle brackets.
_HEAD = re.compile(
    r"(?<=\n\n)(\d{4}-\d\d-\d\d) (\d{1,2}:\d\d:\d\d)( [AP]M)? (.*?)(?:\((\d+)\)|<([^<>]+)>)$",
    re.MULTILINE,
)
_SYSTEM = {"10000", "1000000"}


def _count(store: Store, table: Any, *where: Any) -> int:
    with store.engine.connect() as conn:
        q = select(func.count()).select_from(table)
        for w in where:
            q = q.where(w)
        return int(conn.execute(q).scalar_one())


def _read(path: Path, **kw: Any) -> list[Event]:
    return list(QQTxtImporter().read(Source(path=path, **kw)))


def _independent(text: str) -> dict[str, Any]:
    """Heads, senders and joins of a QQ txt export, read with regexes only."""
    text = text.replace("\r\n", "\n")
    heads = list(_HEAD.finditer(text))
    senders = {h[5] or h[6] for h in heads if (h[5] or h[6]) not in _SYSTEM}
    nicknames = {h[4] for h in heads if (h[5] or h[6]) not in _SYSTEM}
    joined: list[str] = []
    for line in text.split("\n"):
        if m := re.fullmatch(r"(?:.+?邀请)?(.+?)加入了?本群。?", line):
            joined += m[1].split("、")
    return {
        "messages": len(heads),
        "system": sum((h[5] or h[6]) in _SYSTEM for h in heads),
        "senders": senders,
        "joined": joined,
        "unknown_joiners": {f"name:{n}" for n in joined if n not in nicknames},
    }


def _members(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        return {r[0] for r in conn.execute(select(schema.members.c.platform_id))}


# -- the real sample ---------------------------------------------------------------


def test_real_sample_is_detected(data_dir: Path) -> None:
    assert importers.detect(data_dir / "formats" / "qq_native_export_sample.txt") is QQTxtImporter


def test_real_sample_counts_match_an_independent_reading(store: Store, data_dir: Path) -> None:
    path = data_dir / "formats" / "qq_native_export_sample.txt"
    expected = _independent(path.read_text(encoding="utf-8"))
    assert expected["messages"] == 9 and expected["joined"] == ["用户乙"]  # the regex works

    result = import_file(store, path)

    assert result.format == "qq"
    assert _count(store, schema.messages) == expected["messages"]
    assert _count(store, schema.messages, schema.messages.c.kind == "system") == expected["system"]
    assert _members(store) == expected["senders"] | expected["unknown_joiners"]
    joins = schema.membership_events.c.action == "join"
    assert _count(store, schema.membership_events, joins) == len(expected["joined"])
    assert _count(store, schema.groups) == 1


def test_real_sample_events(data_dir: Path) -> None:
    events = _read(data_dir / "formats" / "qq_native_export_sample.txt")
    assert isinstance(events[0], GroupSeen)
    assert events[0].name == "示例群（PST 8pm | BJT 11am）"
    posts = [e for e in events if isinstance(e, MessagePosted)]
    first = posts[0]
    # "2019-09-23 8:43:38 PM" is 20:43:38 in Shanghai
    assert first.ts == dt.datetime(2019, 9, 23, 20, 43, 38, tzinfo=SHANGHAI).timestamp()
    assert first.sender is not None and first.sender.platform_id == "80000001"
    assert first.sender.name == "骰娘-Roll100"
    system = [p for p in posts if p.kind is MessageKind.SYSTEM]
    assert all(p.sender is None for p in system)
    assert [p.text for p in system][:2] == ["[图片]2", "3\n4"]
    empty = next(p for p in posts if p.sender and p.sender.platform_id == "80000002")
    assert empty.text == "" and empty.kind is MessageKind.OTHER
    assert posts[-1].sender is not None and posts[-1].sender.platform_id == "user@example.com"
    assert posts[-1].sender.name == "围观"
    assert len({p.message_id for p in posts}) == len(posts)


# -- our fixture: 12h and 24h clocks, emails, sections, invites, a rename ----------------


def test_fixture_is_detected() -> None:
    assert importers.detect(FIXTURE) is QQTxtImporter


def test_fixture_sections_clocks_and_identities() -> None:
    events = _read(FIXTURE)
    groups = [e for e in events if isinstance(e, GroupSeen)]
    assert [(g.group_id, g.kind) for g in groups] == [
        ("开源技术交流群", "group"),
        ("Python学习小组", "group"),
        ("老同学", "private"),
    ]
    seen: set[str] = set()
    for e in events:  # each chat is announced before its first message
        if isinstance(e, GroupSeen):
            seen.add(e.group_id)
        elif isinstance(e, MessagePosted):
            assert e.group_id in seen

    posts = [e for e in events if isinstance(e, MessagePosted)]
    by_text = {p.text: p for p in posts}

    def at(y: int, mo: int, d: int, h: int, mi: int, s: int) -> float:
        return dt.datetime(y, mo, d, h, mi, s, tzinfo=SHANGHAI).timestamp()

    assert by_text["[图片]"].ts == at(2023, 3, 1, 10, 1, 33)  # 10:01:33 AM
    assert by_text["[文件]部署手册.pdf"].ts == at(2023, 3, 1, 13, 45, 9)  # 1:45:09 PM
    assert by_text["这么晚还有人在吗"].ts == at(2023, 3, 2, 0, 5, 0)  # 12:05:00 AM
    assert by_text["晚上好"].ts == at(2023, 3, 2, 20, 15, 0)  # 24-hour clock
    # 12:30 PM; a date-like line after no blank line, and a ==== rule followed by no
    # section line, are both body text
    log = "日志如下：\n2023-03-01 10:00:00 服务启动(123)\n" + "=" * 32 + "\n启动完毕，没有报错"
    assert by_text[log].ts == at(2023, 3, 1, 12, 30, 0)
    assert by_text["这么晚还有人在吗"].sender is not None
    assert by_text["这么晚还有人在吗"].sender.platform_id == "lisi@example.com"
    assert by_text["[语音]"].sender is not None
    assert by_text["[语音]"].sender.platform_id == "guest@qq.com"

    kinds = {t: by_text[t].kind for t in ("[图片]", "[表情]", "[文件]部署手册.pdf", "[语音]")}
    assert kinds == {
        "[图片]": MessageKind.IMAGE,
        "[表情]": MessageKind.STICKER,
        "[文件]部署手册.pdf": MessageKind.FILE,
        "[语音]": MessageKind.VOICE,
    }
    assert by_text["分享一个链接 https://github.com/trending/python"].kind is MessageKind.LINK

    mention = by_text["谢谢 @群主老王 请多关照"]
    assert [m.platform_id for m in mention.mentions] == ["10001"]
    assert [m.platform_id for m in by_text["@张三 今天的作业在哪里看？"].mentions] == ["10002"]

    plus_one = [p for p in posts if p.text == "+1"]
    assert len(plus_one) == 2 and plus_one[0].message_id != plus_one[1].message_id

    renames = [e for e in events if isinstance(e, MemberRenamed)]
    assert [(r.group_id, r.member.platform_id, r.old_name, r.new_name) for r in renames] == [
        ("开源技术交流群", "10002", "张三", "张三-后端")
    ]  # the same number under another name in another group is no rename


def test_fixture_joins_and_leaves_resolve_nicknames() -> None:
    events = _read(FIXTURE)
    joins = {e.member.name: e for e in events if isinstance(e, MemberJoined)}
    assert joins["小李"].member.platform_id == "10004"  # posts after joining
    assert joins["小李"].method is JoinMethod.UNKNOWN and joins["小李"].inviter is None
    assert joins["阿强"].member.platform_id == "10005"
    assert joins["阿强"].method is JoinMethod.INVITED
    assert joins["阿强"].inviter is not None and joins["阿强"].inviter.platform_id == "10001"
    assert joins["小红"].member.platform_id == "10006"
    assert joins["小红"].inviter is not None and joins["小红"].inviter.platform_id == "10002"
    assert joins["小明"].member.platform_id == "name:小明"  # never posts
    leaves = {e.member.name: e for e in events if isinstance(e, MemberLeft)}
    assert leaves["王五"].member.platform_id == "10003" and leaves["王五"].removed_by is None
    kicked = leaves["赵六"]
    assert kicked.member.platform_id == "name:赵六"
    # "被管理员移出本群": kicked by an admin the export does not name
    assert kicked.kicked and kicked.removed_by is None


def test_fixture_import_counts_match_an_independent_reading(store: Store) -> None:
    expected = _independent(FIXTURE.read_text(encoding="utf-8"))
    assert expected["messages"] == 23  # 14 + 7 + 2, as the fixture was written

    result = import_file(store, FIXTURE)

    assert _count(store, schema.messages) == expected["messages"]
    assert result.stats.messages == expected["messages"]
    joins = schema.membership_events.c.action == "join"
    assert _count(store, schema.membership_events, joins) == len(expected["joined"]) == 4
    assert (
        _count(store, schema.membership_events, schema.membership_events.c.action == "leave") == 1
    )
    assert _count(store, schema.membership_events, schema.membership_events.c.action == "kick") == 1
    assert _count(store, schema.renames) == 1
    assert _count(store, schema.groups) == 3
    assert expected["senders"] | expected["unknown_joiners"] <= _members(store)


# -- stable keys -------------------------------------------------------------------


@pytest.mark.parametrize("path", [FIXTURE, None], ids=["fixture", "real-sample"])
def test_reimport_adds_nothing(store: Store, data_dir: Path, path: Path | None) -> None:
    path = path or data_dir / "formats" / "qq_native_export_sample.txt"
    first = import_file(store, path)
    before = _count(store, schema.messages)
    second = import_file(store, path)
    assert first.stats.new_rows > 0
    assert second.stats.new_rows == 0
    assert second.stats.duplicates == first.stats.new_rows
    assert _count(store, schema.messages) == before


@pytest.mark.parametrize("bom", [True, False], ids=["bom", "no-bom"])
def test_utf16_export_reads_like_utf8(store: Store, tmp_path: Path, bom: bool) -> None:
    text = FIXTURE.read_text(encoding="utf-8")
    path = tmp_path / "old_qq.txt"
    path.write_bytes((b"\xff\xfe" if bom else b"") + text.encode("utf-16-le"))

    assert importers.detect(path) is QQTxtImporter
    assert _read(path) == _read(FIXTURE)
    import_file(store, FIXTURE)
    again = import_file(store, path)
    assert again.stats.new_rows == 0  # same messages, same keys, whatever the encoding


def _export(section: str, heads: list[tuple[str, str, str]]) -> str:
    lines = [
        "\ufeff消息记录（此消息记录为文本格式，不支持重新导入）",
        "",
        "=" * 64,
        "消息分组:我的群聊",
        "=" * 64,
        f"消息对象:{section}",
        "=" * 64,
        "",
    ]
    for when, who, body in heads:
        lines += [f"{when} {who}", body, ""]
    return "\r\n".join(lines)


def test_overlapping_exports_store_the_union(store: Store, tmp_path: Path) -> None:
    msgs = [
        (f"2024-05-0{1 + i // 6} {9 + i % 6}:00:00", f"成员{i % 4}({20000 + i % 4})", f"第{i}条")
        for i in range(18)
    ]
    msgs[9] = (msgs[9][0], msgs[9][1], msgs[8][2])  # same text as its neighbour, other time
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(_export("重叠测试群", msgs[:12]), encoding="utf-8")
    b.write_text(_export("重叠测试群", msgs[6:]), encoding="utf-8")

    first = import_file(store, a)
    second = import_file(store, b)

    assert first.stats.messages == 12
    assert second.stats.messages == 6 and second.stats.duplicates == 6
    assert _count(store, schema.messages) == 18


# -- bad input -----------------------------------------------------------------------


def _line_of(text: str, needle: str) -> int:
    return text.replace("\r\n", "\n").split("\n").index(needle) + 1


def _broken(tmp_path: Path, case: str) -> tuple[Path, int | None]:
    """A damaged copy of the fixture, and the line the error must name."""
    text = FIXTURE.read_text(encoding="utf-8")
    path = tmp_path / f"{case}.txt"
    if case == "invalid-utf8":
        line = _line_of(text, "欢迎新朋友")
        path.write_bytes(text.encode().replace("欢迎新朋友".encode(), b"\xc3\x28\xff"))
        return path, line
    if case == "wrong-file-header":
        path.write_text(text.replace("消息记录", "聊天记录", 1), encoding="utf-8")
        return path, 1
    if case == "impossible-date":
        head = "2023-03-01 10:01:35 AM 张三(10002)"
        bad = "2023-02-30 10:01:35 AM 张三(10002)"
        path.write_text(text.replace(head, bad), encoding="utf-8")
        return path, _line_of(text, head)
    if case == "hour-13-pm":
        head = "2023-03-01 1:45:09 PM 阿强(10005)"
        path.write_text(text.replace(head, "2023-03-01 13:45:09 PM 阿强(10005)"), encoding="utf-8")
        return path, _line_of(text, head)
    if case == "no-section":
        path.write_text(
            text.replace("消息对象:开源技术交流群", "消息对像:开源技术交流群"), encoding="utf-8"
        )
        return path, _line_of(text, "消息对象:开源技术交流群")  # the broken line itself
    if case == "truncated-utf16":
        data = b"\xff\xfe" + text.encode("utf-16-le")
        path.write_bytes(data[:-1])
        return path, text.replace("\r\n", "\n").count("\n")  # the cut last line
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "invalid-utf8",
        "wrong-file-header",
        "impossible-date",
        "hour-13-pm",
        "no-section",
        "truncated-utf16",
    ],
)
def test_bad_input_names_file_and_line_and_leaves_nothing(
    store: Store, tmp_path: Path, case: str
) -> None:
    path, line = _broken(tmp_path, case)
    with pytest.raises(ImportFormatError) as err:
        import_file(store, path, fmt="qq")
    assert str(err.value).startswith(f"{path}:{line}: ")
    assert err.value.line == line
    assert _count(store, schema.messages) == 0
    assert _count(store, schema.membership_events) == 0
    with store.engine.connect() as conn:
        status = conn.execute(select(schema.imports.c.status)).scalar_one()
    assert status == "failed"


def test_wrong_header_is_not_sniffed(tmp_path: Path) -> None:
    path, _ = _broken(tmp_path, "wrong-file-header")
    assert not QQTxtImporter.sniff(path, path.read_bytes())
