"""WeChatMsg / MemoTrace (留痕) CSV: one chat per file, rows straight from ``MSG``.

Columns ``localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,
StrTime,Remark,NickName,Sender`` (UTF-8 with BOM). The file does not name its chat:
the exporter names the file after it, so the stem is the group's id and name (the
``--group`` option overrides the name). ``CreateTime`` is epoch seconds.

``localId`` is the row id of one ``MSG<n>.db`` shard, so it repeats across chats and
shards; the message key is ``localId`` with ``CreateTime`` inside the group.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from shequn.events import Event, GroupSeen
from shequn.importers.base import ImportFormatError, Source
from shequn.importers.wechat_common import (
    PLATFORM,
    WeChatGroup,
    csv_rows,
    header_columns,
    message_kind,
    message_text,
)

COLUMNS = (
    "localId", "TalkerId", "Type", "SubType", "IsSender", "CreateTime", "Status",
    "StrContent", "StrTime", "Remark", "NickName", "Sender",
)  # fmt: skip
#: What a row must have to be read; TalkerId, Status and StrTime are not used.
REQUIRED = (
    "localId", "Type", "SubType", "IsSender", "CreateTime", "StrContent", "Remark",
    "NickName", "Sender",
)  # fmt: skip


def _int(path: Path, line: int, col: str, value: str, *, default: int | None = None) -> int:
    value = value.strip()
    if not value and default is not None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImportFormatError(
            path, f"{col} {value!r} is not a whole number", line=line, expected=f"integer {col}"
        ) from None


def _epoch(path: Path, line: int, value: str) -> float:
    try:
        ts = float(value)
    except ValueError:
        ts = float("nan")
    if not 0 <= ts < 1e11:  # also rejects nan and inf
        raise ImportFormatError(
            path,
            f"CreateTime {value!r} is not a time",
            line=line,
            expected="CreateTime in epoch seconds",
        )
    return ts


class WeChatMsgImporter:
    name: ClassVar[str] = "wechatmsg"
    label: ClassVar[str] = "WeChatMsg / 留痕 (MemoTrace) CSV"

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        if path.is_dir():
            return False
        first = head.split(b"\n", 1)[0].decode("utf-8-sig", "ignore").strip()
        fields = {f.strip().strip('"') for f in first.split(",")}
        return set(REQUIRED) <= fields

    def read(self, source: Source) -> Iterator[Event]:
        path = source.path
        gid = path.stem
        group = WeChatGroup(gid)
        try:
            rows = csv_rows(source)
            first = next(rows, None)
            if first is None:
                raise ImportFormatError(path, "empty file", line=1, expected=",".join(COLUMNS))
            cols = header_columns(path, first[1], REQUIRED)
            yield GroupSeen(PLATFORM, gid, source.group_name or gid)
            c_id, c_type, c_sub = cols["localId"], cols["Type"], cols["SubType"]
            c_self, c_time, c_text = cols["IsSender"], cols["CreateTime"], cols["StrContent"]
            c_remark, c_nick, c_sender = cols["Remark"], cols["NickName"], cols["Sender"]
            width = len(first[1])
            for line, row in rows:
                if len(row) != width:
                    if not any(f.strip() for f in row):
                        continue  # blank line
                    raise ImportFormatError(
                        path,
                        f"row has {len(row)} fields, the header {width}",
                        line=line,
                        expected=f"{width} comma-separated fields",
                    )
                local_id = row[c_id].strip()
                if not local_id:
                    raise ImportFormatError(path, "empty localId", line=line, expected="localId")
                type_ = _int(path, line, "Type", row[c_type])
                subtype = _int(path, line, "SubType", row[c_sub], default=0)
                is_self = _int(path, line, "IsSender", row[c_self], default=0) == 1
                ts = _epoch(path, line, row[c_time].strip())
                text = message_text(type_, subtype, row[c_text])
                kind = message_kind(type_, subtype, text)
                remark, nick = row[c_remark].strip(), row[c_nick].strip()
                sender = group.sender(
                    row[c_sender].strip(),
                    remark or nick,
                    aliases=(nick,) if remark and nick else (),
                    is_self=is_self,
                )
                mid = f"{local_id}-{int(ts)}" if ts.is_integer() else f"{local_id}-{ts!r}"
                yield from group.post(mid, ts, sender, text, kind)
            yield from group.finish()
        finally:
            source.close()
