"""WeChat exports: WeChatMsg/留痕 CSV and sjzar/chatlog JSON and CSV.

The shared samples are schema-only, so the realistic checks run on our own fixtures
in ``tests/fixtures/wechat``; expected counts are read from those files with the
``csv`` and ``json`` modules here, never taken from the importers.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
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
    MessageKind,
    MessagePosted,
)
from shequn.importers.base import Importer, ImportFormatError, Source, read_head
from shequn.importers.chatlog import ChatlogImporter
from shequn.importers.qq_txt import QQTxtImporter
from shequn.importers.wechat_common import SELF, SystemAction, message_text, parse_system
from shequn.importers.wechatmsg import WeChatMsgImporter
from shequn.store import Store, schema

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "wechat"
WECHATMSG = FIXTURES / "产品体验交流群.csv"
CHATLOG_JSON = FIXTURES / "chatlog_two_rooms.json"
CHATLOG_CSV = FIXTURES / "chatlog_export.csv"
SHANGHAI = ZoneInfo("Asia/Shanghai")
MINE: tuple[type[Importer], ...] = (QQTxtImporter, WeChatMsgImporter, ChatlogImporter)


def _count(store: Store, table: Any, *where: Any) -> int:
    with store.engine.connect() as conn:
        q = select(func.count()).select_from(table)
        for w in where:
            q = q.where(w)
        return int(conn.execute(q).scalar_one())


def _read(cls: type[Importer], path: Path, **kw: Any) -> list[Event]:
    return list(cls().read(Source(path=path, **kw)))


def _posts(events: list[Event]) -> list[MessagePosted]:
    return [e for e in events if isinstance(e, MessagePosted)]


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.DictWriter(f, header)
        w.writeheader()
        w.writerows(rows)
    return path


def _announced_first(events: list[Event]) -> bool:
    seen: set[str] = set()
    for e in events:
        if isinstance(e, GroupSeen):
            seen.add(e.group_id)
        elif getattr(e, "group_id", None) not in seen:
            return False
    return True


# -- detection ---------------------------------------------------------------------


def _samples(data_dir: Path) -> dict[Path, str | None]:
    """Every format sample and fixture, with the one of our importers that owns it."""
    formats = data_dir / "formats"
    owners: dict[Path, str | None] = {p: None for p in formats.rglob("*")}
    owners[formats / "slack_export_sample"] = None  # the folder itself, as users pass it
    owners.update(
        {
            formats / "qq_native_export_sample.txt": "qq",
            formats
            / "schema_only"
            / "wechatmsg_memotrace_v2_messages.SCHEMA_ONLY.csv": "wechatmsg",
            formats / "schema_only" / "chatlog_sjzar_api.SCHEMA_ONLY.csv": "chatlog",
            formats / "schema_only" / "chatlog_sjzar_api.SCHEMA_ONLY.json": "chatlog",
            WECHATMSG: "wechatmsg",
            CHATLOG_JSON: "chatlog",
            CHATLOG_CSV: "chatlog",
            Path(__file__).parents[1] / "fixtures" / "qq" / "qq_group_export.txt": "qq",
        }
    )
    for extra in ("chatlogs/telegram_exports", "chatlogs/ubuntu_irc/dev", "spam", "faq"):
        owners.update({p: None for p in sorted((data_dir / extra).rglob("*"))[:6]})
    return owners


def test_each_sample_is_claimed_by_its_importer_only(data_dir: Path) -> None:
    for path, owner in _samples(data_dir).items():
        head = read_head(path)
        claimed = [cls.name for cls in MINE if cls.sniff(path, head)]
        assert claimed == ([owner] if owner else []), path


@pytest.mark.parametrize(
    ("relpath", "cls"),
    [
        ("schema_only/wechatmsg_memotrace_v2_messages.SCHEMA_ONLY.csv", WeChatMsgImporter),
        ("schema_only/chatlog_sjzar_api.SCHEMA_ONLY.csv", ChatlogImporter),
        ("schema_only/chatlog_sjzar_api.SCHEMA_ONLY.json", ChatlogImporter),
        ("qq_native_export_sample.txt", QQTxtImporter),
        (str(WECHATMSG), WeChatMsgImporter),
        (str(CHATLOG_JSON), ChatlogImporter),
        (str(CHATLOG_CSV), ChatlogImporter),
    ],
)
def test_detect_picks_the_right_importer(data_dir: Path, relpath: str, cls: type) -> None:
    assert importers.detect(data_dir / "formats" / relpath) is cls


@pytest.mark.parametrize(
    "name",
    [
        "schema_only/wechatmsg_memotrace_v2_messages.SCHEMA_ONLY.csv",
        "schema_only/chatlog_sjzar_api.SCHEMA_ONLY.csv",
        "schema_only/chatlog_sjzar_api.SCHEMA_ONLY.json",
    ],
)
def test_schema_samples_import(store: Store, data_dir: Path, name: str) -> None:
    path = data_dir / "formats" / name
    rows = (
        json.loads(path.read_text(encoding="utf-8")) if path.suffix == ".json" else _csv_rows(path)
    )
    result = import_file(store, path)
    assert _count(store, schema.messages) == len(rows)
    # each sample has one invite line: "昵称A" invites "昵称C", who never posts
    with store.engine.connect() as conn:
        joined = (
            conn.execute(
                select(schema.members.c.platform_id).join(
                    schema.membership_events,
                    schema.membership_events.c.member_id == schema.members.c.id,
                )
            )
            .scalars()
            .all()
        )
    assert joined == ["name:昵称C"]
    assert result.stats.memberships == 1


# -- WeChatMsg / 留痕 CSV ------------------------------------------------------------


def test_wechatmsg_counts_match_the_csv(store: Store) -> None:
    rows = _csv_rows(WECHATMSG)
    system = [r for r in rows if r["Type"] == "10000"]
    invited = [
        n
        for r in system
        if "邀请" in r["StrContent"]
        for n in r["StrContent"].split('"')[-2].split("、")
    ]
    qr = [r for r in system if "二维码" in r["StrContent"]]
    kicks = [r for r in system if "移出" in r["StrContent"]]
    senders = {r["Sender"] for r in rows if r["Sender"]}

    import_file(store, WECHATMSG)

    assert _count(store, schema.messages) == len(rows) == 36
    assert _count(store, schema.messages, schema.messages.c.kind == "system") == len(system)
    ev = schema.membership_events
    assert _count(store, ev, ev.c.action == "join") == len(invited) + len(qr) == 4
    assert _count(store, ev, ev.c.action == "kick") == len(kicks) == 1
    with store.engine.connect() as conn:
        members = dict(
            conn.execute(select(schema.members.c.platform_id, schema.members.c.is_operator)).all()
        )
        group = conn.execute(select(schema.groups.c.platform_id, schema.groups.c.name)).one()
    assert senders <= set(members)
    assert set(members) - senders == {"name:孙悦"}  # invited, never posts
    assert [m for m, op in members.items() if op] == ["wxid_zhou_pm"]  # IsSender=1
    assert tuple(group) == ("产品体验交流群", "产品体验交流群")
    # joins are written last and name her by nickname; the member keeps her remark
    with store.engine.connect() as conn:
        name = conn.execute(
            select(schema.members.c.name).where(schema.members.c.platform_id == "wxid_chenchen88")
        ).scalar_one()
    assert name == "陈晨(设计)"


def test_wechatmsg_events() -> None:
    rows = _csv_rows(WECHATMSG)
    events = _read(WeChatMsgImporter, WECHATMSG)
    assert isinstance(events[0], GroupSeen) and _announced_first(events)
    posts = {p.message_id: p for p in _posts(events)}
    assert len(posts) == len(rows)  # localId repeats (two MSG shards), keys do not
    for r in rows:  # CreateTime is the time
        assert posts[f"{r['localId']}-{r['CreateTime']}"].ts == float(r["CreateTime"])

    def post(local_id: int) -> MessagePosted:
        return next(p for k, p in posts.items() if k.startswith(f"{local_id}-170001"))

    owner = post(2101).sender
    assert owner is not None and owner.is_operator
    kinds = {i: post(i).kind for i in range(2107, 2123)}
    assert kinds == {
        2107: MessageKind.IMAGE,
        2108: MessageKind.STICKER,
        2109: MessageKind.VOICE,
        2110: MessageKind.VIDEO,
        2111: MessageKind.LINK,
        2112: MessageKind.TEXT,
        2113: MessageKind.FILE,
        2114: MessageKind.FORWARD,
        2115: MessageKind.MINIPROGRAM,
        2116: MessageKind.TEXT,
        2117: MessageKind.TEXT,  # a quote is a reply: its own text only
        2118: MessageKind.RED_PACKET,
        2119: MessageKind.TEXT,
        2120: MessageKind.TEXT,
        2121: MessageKind.LOCATION,
        2122: MessageKind.CARD,
    }
    assert post(2107).text == ""  # no image XML in the archive
    assert post(2111).text == "2024 产品设计趋势报告 https://mp.weixin.qq.com/s/AbCdEf123456"
    assert post(2117).text == "同意，这个方案更好"
    assert post(2118).text == "恭喜发财，大吉大利"
    recall = post(2124)
    assert recall.kind is MessageKind.SYSTEM and recall.sender is None
    assert recall.text == '"林琳"撤回了一条消息'
    assert post(2126).kind is MessageKind.LINK and "\n" in post(2126).text
    assert [m.platform_id for m in post(2125).mentions] == ["wxid_chenchen88"]
    # the sender's name is the remark when there is one
    designer = post(2103).sender
    assert designer is not None and designer.name == "陈晨(设计)"

    joins = {e.member.platform_id: e for e in events if isinstance(e, MemberJoined)}
    assert set(joins) == {"wxid_chenchen88", "wxid_linlin_ux", "wxid_zhaolei2020", "name:孙悦"}
    # 你邀请"陈晨、林琳": the inviter is the exporting account; "陈晨" is the NickName of
    # a member shown by remark, and the join carries the name her messages show
    chen = joins["wxid_chenchen88"]
    assert chen.member.name == "陈晨(设计)"
    assert chen.inviter is not None and chen.inviter.platform_id == "wxid_zhou_pm"
    assert chen.method is JoinMethod.INVITED
    assert joins["wxid_linlin_ux"].method is JoinMethod.INVITED
    qr = joins["wxid_zhaolei2020"]
    assert qr.method is JoinMethod.LINK
    assert qr.inviter is not None and qr.inviter.platform_id == "wxid_chenchen88"
    sun = joins["name:孙悦"]  # invited, never posts
    assert sun.member.name == "孙悦"
    assert sun.inviter is not None and sun.inviter.platform_id == "wxid_zhaolei2020"
    (kick,) = [e for e in events if isinstance(e, MemberLeft)]
    assert kick.member.platform_id == "wxid_adspam01"
    assert kick.removed_by is not None and kick.removed_by.platform_id == "wxid_zhou_pm"


def test_wechatmsg_group_name_option(store: Store) -> None:
    import_file(store, WECHATMSG, group_name="产品体验交流群（二群）")
    with store.engine.connect() as conn:
        group = conn.execute(select(schema.groups.c.platform_id, schema.groups.c.name)).one()
    assert tuple(group) == ("产品体验交流群", "产品体验交流群（二群）")


# -- sjzar/chatlog -------------------------------------------------------------------


def test_chatlog_json_counts_match_the_json(store: Store) -> None:
    items = json.loads(CHATLOG_JSON.read_text(encoding="utf-8"))
    talkers = {i["talker"] for i in items}
    system = [i for i in items if i["type"] == 10000]
    joined = [
        n
        for i in system
        if "加入" in i["content"]
        for n in i["content"].split('"')[1 if "二维码" in i["content"] else 3].split("、")
    ]
    senders = {i["sender"] for i in items if i["type"] != 10000}

    result = import_file(store, CHATLOG_JSON)

    assert result.stats.messages == len(items) == 30
    assert _count(store, schema.groups) == len(talkers) == 3
    ev = schema.membership_events
    assert _count(store, ev, ev.c.action == "join") == len(joined) == 4
    with store.engine.connect() as conn:
        members = dict(
            conn.execute(select(schema.members.c.platform_id, schema.members.c.is_operator)).all()
        )
    assert set(members) == senders  # every joiner also posts, so all resolve to wxids
    assert {m for m, op in members.items() if op} == {i["sender"] for i in items if i["isSelf"]}


def test_chatlog_json_events() -> None:
    items = json.loads(CHATLOG_JSON.read_text(encoding="utf-8"))
    events = _read(ChatlogImporter, CHATLOG_JSON)
    assert _announced_first(events)
    groups = {e.group_id: e for e in events if isinstance(e, GroupSeen)}
    assert groups["43218765432@chatroom"].name == "AI 应用开发者社群"
    assert groups["wxid_friend_liu"].kind == "private"
    posts = {p.message_id: p for p in _posts(events)}
    assert set(posts) == {str(i["seq"]) for i in items}
    for i in items:
        assert posts[str(i["seq"])].ts == dt.datetime.fromisoformat(i["time"]).timestamp()
        assert posts[str(i["seq"])].group_id == i["talker"]
    by_type = {(i["type"], i["subType"]): posts[str(i["seq"])] for i in items}
    assert by_type[(49, 5)].kind is MessageKind.LINK
    assert by_type[(49, 5)].text == "LangChain 与 LlamaIndex 对比 https://example.com/rag-compare"
    assert by_type[(49, 57)].kind is MessageKind.TEXT and by_type[(49, 57)].text == "这篇对比很实用"
    assert by_type[(49, 2001)].kind is MessageKind.RED_PACKET
    assert by_type[(49, 6)].kind is MessageKind.FILE and by_type[(49, 6)].text == "RAG评测集.xlsx"
    assert by_type[(49, 19)].kind is MessageKind.FORWARD
    assert by_type[(49, 33)].kind is MessageKind.MINIPROGRAM
    assert by_type[(3, 0)].kind is MessageKind.IMAGE
    assert by_type[(47, 0)].kind is MessageKind.STICKER
    recall = next(p for p in posts.values() if "撤回" in p.text)
    assert recall.kind is MessageKind.SYSTEM and recall.sender is None
    mention = next(p for p in posts.values() if p.text.startswith("@Bob"))
    assert [m.platform_id for m in mention.mentions] == ["wxid_bob_dev"]

    joins = {e.member.name: e for e in events if isinstance(e, MemberJoined)}
    assert joins["爱丽丝"].member.platform_id == "wxid_alice_cn"
    assert joins["Bob"].inviter is not None and joins["Bob"].inviter.platform_id == "wxid_me_dev"
    assert joins["小雨"].method is JoinMethod.LINK
    assert joins["小雨"].inviter is not None
    assert joins["小雨"].inviter.platform_id == "wxid_chen_runner"
    assert joins["阿May"].group_id == "56789012345@chatroom"


def test_chatlog_csv_counts_and_kinds(store: Store) -> None:
    rows = _csv_rows(CHATLOG_CSV)
    system = [r for r in rows if r["Sender"] == "系统消息"]
    result = import_file(store, CHATLOG_CSV)
    assert result.stats.messages == len(rows) == 22  # two identical rows are both kept
    assert _count(store, schema.groups) == len({r["Talker"] for r in rows})
    assert _count(store, schema.messages, schema.messages.c.kind == "system") == len(system)
    ev = schema.membership_events
    assert _count(store, ev, ev.c.action == "join") == 4

    posts = _posts(_read(ChatlogImporter, CHATLOG_CSV))
    kind = {p.text.split("(")[0].split("|")[0]: p.kind for p in posts}
    assert kind["![图片]"] is MessageKind.IMAGE
    assert kind["[链接"] is MessageKind.LINK
    assert kind["[红包]"] is MessageKind.RED_PACKET
    assert kind["[文件"] is MessageKind.FILE
    assert kind["[小程序"] is MessageKind.MINIPROGRAM
    assert kind["[动画表情]"] is MessageKind.STICKER
    assert kind["[语音]"] is MessageKind.VOICE
    assert kind["[合并转发"] is MessageKind.FORWARD
    # a reply renders the quoted message as "> " lines first; the message is the reply
    quote = next(p for p in posts if p.text == "这篇对比很实用")
    assert quote.kind is MessageKind.TEXT
    first = rows[0]
    local = dt.datetime.fromisoformat(first["Time"]).replace(tzinfo=SHANGHAI)
    assert posts[0].ts == local.timestamp()


def test_chatlog_csv_keys_do_not_depend_on_the_time_zone(store: Store) -> None:
    shanghai = _posts(_read(ChatlogImporter, CHATLOG_CSV))
    utc = _posts(_read(ChatlogImporter, CHATLOG_CSV, tz="UTC"))
    assert [p.message_id for p in shanghai] == [p.message_id for p in utc]
    assert utc[0].ts - shanghai[0].ts == 8 * 3600
    import_file(store, CHATLOG_CSV)
    assert import_file(store, CHATLOG_CSV, tz="UTC").stats.new_rows == 0


# -- stable keys -------------------------------------------------------------------


@pytest.mark.parametrize("path", [WECHATMSG, CHATLOG_JSON, CHATLOG_CSV], ids=lambda p: p.suffix)
def test_reimport_adds_nothing(store: Store, path: Path) -> None:
    first = import_file(store, path)
    counts = [_count(store, t) for t in (schema.messages, schema.membership_events, schema.members)]
    second = import_file(store, path)
    assert first.stats.new_rows > 0
    assert second.stats.new_rows == 0
    assert second.stats.duplicates == first.stats.new_rows
    assert [
        _count(store, t) for t in (schema.messages, schema.membership_events, schema.members)
    ] == counts


def test_wechatmsg_overlap_stores_the_union(store: Store, tmp_path: Path) -> None:
    rows = _csv_rows(WECHATMSG)
    header = list(rows[0])
    # re-exports of one chat carry its name: same stem, different folders
    a = _write_csv(tmp_path / "a" / WECHATMSG.name, header, rows[:24])
    b = _write_csv(tmp_path / "b" / WECHATMSG.name, header, rows[12:])
    import_file(store, a)
    second = import_file(store, b)
    assert second.stats.messages == len(rows) - 24
    assert second.stats.duplicates >= 12
    assert _count(store, schema.messages) == len(rows)
    assert _count(store, schema.groups) == 1


def test_chatlog_json_overlap_stores_the_union(store: Store, tmp_path: Path) -> None:
    items = json.loads(CHATLOG_JSON.read_text(encoding="utf-8"))
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(items[:20], ensure_ascii=False), encoding="utf-8")
    b.write_text(json.dumps(items[10:], ensure_ascii=False), encoding="utf-8")
    import_file(store, a)
    second = import_file(store, b)
    assert second.stats.messages == len(items) - 20
    assert _count(store, schema.messages) == len(items)


def test_chatlog_csv_overlap_stores_the_union(store: Store, tmp_path: Path) -> None:
    rows = _csv_rows(CHATLOG_CSV)
    header = list(rows[0])
    a = _write_csv(tmp_path / "a.csv", header, rows[:14])  # holds both identical rows
    b = _write_csv(tmp_path / "b.csv", header, rows[7:])
    import_file(store, a)
    second = import_file(store, b)
    assert second.stats.messages == len(rows) - 14
    assert _count(store, schema.messages) == len(rows)


# -- bad input -----------------------------------------------------------------------


def _line_of(path: Path, needle: str) -> int:
    """Physical line (1-based) where ``needle`` first appears."""
    text = path.read_text(encoding="utf-8-sig")
    return text[: text.index(needle)].count("\n") + 1


def _damage(path: Path, old: bytes, new: bytes, out: Path) -> Path:
    data = path.read_bytes()
    assert old in data
    out.write_bytes(data.replace(old, new, 1))
    return out


def test_wechatmsg_bad_create_time(store: Store, tmp_path: Path) -> None:
    line = _line_of(WECHATMSG, "2113,7,49")
    bad = _damage(
        WECHATMSG, b"2113,7,49,6,0,1700010700", b"2113,7,49,6,0,17000107OO", tmp_path / "g.csv"
    )
    with pytest.raises(ImportFormatError) as err:
        import_file(store, bad)
    assert str(err.value).startswith(f"{bad}:{line}: CreateTime '17000107OO'")
    assert "epoch seconds" in str(err.value)
    assert _count(store, schema.messages) == 0


@pytest.mark.parametrize(
    ("case", "fmt"),
    [
        ("wechatmsg-invalid-bytes", "wechatmsg"),
        ("wechatmsg-wrong-header", "wechatmsg"),
        ("wechatmsg-short-row", "wechatmsg"),
        ("wechatmsg-bad-type", "wechatmsg"),
        ("wechatmsg-cut-in-quotes", "wechatmsg"),
        ("chatlog-csv-bad-time", "chatlog"),
        ("chatlog-csv-invalid-bytes", "chatlog"),
    ],
)
def test_bad_csv_names_file_and_line_and_leaves_nothing(
    store: Store, tmp_path: Path, case: str, fmt: str
) -> None:
    out = tmp_path / f"{case}.csv"
    if case == "wechatmsg-invalid-bytes":
        line = _line_of(WECHATMSG, "群主威武")
        bad = _damage(WECHATMSG, "群主威武".encode(), b"\xe7\xbe\xa4\xff\xfe", out)
    elif case == "wechatmsg-wrong-header":
        line = 1
        bad = _damage(WECHATMSG, b"CreateTime", b"CreatTime", out)
    elif case == "wechatmsg-short-row":
        line = _line_of(WECHATMSG, "谢谢老板！")
        bad = _damage(WECHATMSG, ",2,谢谢老板！,".encode(), ",谢谢老板！,".encode(), out)
    elif case == "wechatmsg-bad-type":
        line = _line_of(WECHATMSG, "2104,7,1,")
        bad = _damage(WECHATMSG, b"2104,7,1,", b"2104,7,text,", out)
    elif case == "wechatmsg-cut-in-quotes":
        data = WECHATMSG.read_bytes()
        cut = data.index("收到，\n下午".encode()) + len("收到，".encode())
        out.write_bytes(data[:cut])
        bad, line = out, _line_of(WECHATMSG, "收到，\n下午")
    elif case == "chatlog-csv-bad-time":
        line = _line_of(CHATLOG_CSV, "Hi all")
        bad = _damage(CHATLOG_CSV, b"2023-11-16 10:01:15", b"2023-11-16 25:01:15", out)
    else:
        line = _line_of(CHATLOG_CSV, "新人报到")
        bad = _damage(CHATLOG_CSV, "新人报到".encode(), b"\x80\x80", out)
    with pytest.raises(ImportFormatError) as err:
        import_file(store, bad, fmt=fmt)
    assert str(err.value).startswith(f"{bad}:{line}: "), str(err.value)
    assert err.value.line == line
    assert _count(store, schema.messages) == 0
    assert _count(store, schema.membership_events) == 0


@pytest.mark.parametrize("cut", [0.3, 0.97])
def test_truncated_chatlog_json_names_file_and_offset(
    store: Store, tmp_path: Path, cut: float
) -> None:
    data = CHATLOG_JSON.read_bytes()
    bad = tmp_path / "cut.json"
    bad.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(ImportFormatError) as err:
        import_file(store, bad, fmt="chatlog")
    assert str(err.value).startswith(f"{bad} (byte ")
    assert err.value.offset is not None and 0 < err.value.offset <= bad.stat().st_size
    assert "broken JSON" in str(err.value)
    assert _count(store, schema.messages) == 0


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("time", "2023-11-16 上午10点", "does not parse"),
        ("seq", "abc", "seq 'abc' is not an integer"),
        ("talker", None, "talker None"),
        ("type", "文本", "type '文本'"),
    ],
)
def test_bad_chatlog_json_message(
    store: Store, tmp_path: Path, field: str, value: Any, problem: str
) -> None:
    items = json.loads(CHATLOG_JSON.read_text(encoding="utf-8"))
    items[5][field] = value
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ImportFormatError) as err:
        import_file(store, bad, fmt="chatlog")
    assert str(err.value).startswith(f"{bad} (byte ")
    assert "message 6" in str(err.value) and problem in str(err.value)
    assert _count(store, schema.messages) == 0


def test_chatlog_json_object_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "obj.json"
    bad.write_text('{"items": []}', encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"\(byte 0\): a JSON object"):
        _read(ChatlogImporter, bad)


# -- the shared WeChat helpers ---------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "action", "members", "actor", "method"),
    [
        ('"A"邀请"B、C"加入了群聊', "join", ("B、C",), "A", JoinMethod.INVITED),
        ('你邀请"B"加入了群聊', "join", ("B",), SELF, JoinMethod.INVITED),
        ('"A"邀请你加入了群聊', "join", (SELF,), "A", JoinMethod.INVITED),
        ("“甲”邀请“乙”加入了群聊", "join", ("乙",), "甲", JoinMethod.INVITED),
        ('"B"通过扫描"A"分享的二维码加入群聊', "join", ("B",), "A", JoinMethod.LINK),
        ('你通过扫描"A"分享的二维码加入群聊', "join", (SELF,), "A", JoinMethod.LINK),
        ('"B"通过扫描二维码加入群聊', "join", ("B",), None, JoinMethod.LINK),
        ('"C"加入了群聊', "join", ("C",), None, JoinMethod.UNKNOWN),
        ('你将"B"移出了群聊', "leave", ("B",), SELF, JoinMethod.UNKNOWN),
        ('"B"退出了群聊', "leave", ("B",), None, JoinMethod.UNKNOWN),
    ],
)
def test_system_lines(
    line: str, action: str, members: tuple[str, ...], actor: str | None, method: JoinMethod
) -> None:
    assert parse_system(line) == SystemAction(action, members, actor, method)


@pytest.mark.parametrize(
    "line",
    [
        '"林琳"撤回了一条消息',
        '"X"与群里其他人都不是朋友关系，请注意隐私安全',
        "修改群名为“周末跑团”",
    ],
)
def test_other_system_lines_are_no_membership_change(line: str) -> None:
    assert parse_system(line) is None


def test_message_text_keeps_text_drops_media_xml() -> None:
    assert message_text(1, 0, "<b>不是XML</b>") == "<b>不是XML</b>"
    assert message_text(3, 0, '<msg><img md5="x" /></msg>') == ""
    assert (
        message_text(49, 6, "<msg><appmsg><title>a &amp; b.pdf</title></appmsg></msg>")
        == "a & b.pdf"
    )
    recall = '你撤回了一条消息 <_wc_custom_link_ href="weixin://">重新编辑</_wc_custom_link_>'
    assert message_text(10000, 0, recall) == "你撤回了一条消息"
