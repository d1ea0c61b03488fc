"""The early-warning channel (人工预警): open alerts and human tasks posted to the
operators' group a group's settings name (``alert_group = "telegram:-100123"``).

A tick job: each open alert or task not yet posted is claimed (``notified_at``, a
conditional update, so two workers never post the same one) and becomes one planned
``send`` in the operators' group, in the same transaction: posted exactly once, and
retried like any planned call if the platform fails. At most :data:`PER_TICK` per
operators' group per tick, oldest first, so a burst of alerts cannot flood it; the
rest follow on the next ticks. Where the console's address is configured
(``[bot] console_url``) each notice links to the item and its context.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, select, update

from shequn.actions.moderation import plan
from shequn.botconfig import alert_destination
from shequn.platforms.port import Platform
from shequn.store import schema

__all__ = ["PER_TICK", "Notices"]

#: Notices per operators' group per tick.
PER_TICK = 10
#: Items older than this when first seen (e.g. before ``alert_group`` was set) are not
#: posted: the console's queue has them.
MAX_AGE = 86400.0

_KIND = {
    "zh": {"uncertain": "无法确定的消息", "question": "问题无人回答", "quarrel": "争吵",
           "appeal": "成员申诉", "database": "数据库故障"},
    "en": {"uncertain": "uncertain message", "question": "unanswered question",
           "quarrel": "quarrel", "appeal": "appeal", "database": "database outage"},
}  # fmt: skip
_SAY = {
    "zh": {"alert": "⚠️ 人工预警", "task": "📋 待人工处理", "member": "成员", "hint": "建议",
           "open": "处理"},
    "en": {"alert": "⚠️ Alert", "task": "📋 For a person", "member": "member",
           "hint": "suggested", "open": "open"},
}  # fmt: skip


class Notices:
    """The tick job; ``console_url`` (may be empty) is where notices link to."""

    def __init__(self, console_url: str = "") -> None:
        self.console_url = console_url.rstrip("/")

    def __call__(
        self,
        conn: Connection,
        platforms: Mapping[str, Platform],
        settings_for: Callable[[str, str], Any],
        now: float,
    ) -> None:
        sent: dict[tuple[str, str], int] = {}
        for item in self._pending(conn, now):
            settings = settings_for(item["platform"], item["group_id"])
            to = alert_destination(settings.alert_group)
            if to is None or item["stale"] or to == (item["platform"], item["group_id"]):
                self._claim(conn, item, now)  # no channel (or old news): the queue only
                continue
            target = platforms.get(to[0])
            if target is None or sent.get(to, 0) >= PER_TICK:
                continue  # not attached yet, or enough this tick: a later tick posts it
            if not self._claim(conn, item, now):
                continue  # another worker posted it
            sent[to] = sent.get(to, 0) + 1
            text = self._text(conn, item, settings.language)
            plan(
                conn, target, group_id=to[1], kind="send", now=now, params={"text": text},
                reason=f"notice.{item['table']}",
                evidence={item["table"]: item["id"], "group": item["group_id"]},
            )  # fmt: skip

    def _pending(self, conn: Connection, now: float) -> list[dict[str, Any]]:
        a, h = schema.alerts, schema.human_tasks
        items: list[dict[str, Any]] = []
        for table, t in (("alert", a), ("task", h)):
            q = select(t).where(t.c.status == "open", t.c.notified_at.is_(None))
            for r in conn.execute(q.order_by(t.c.created_at, t.c.id).limit(1000)):
                items.append({"table": table, **r._asdict()})
        items.sort(key=lambda i: (i["created_at"], i["table"], i["id"]))
        for item in items:
            item["stale"] = item["created_at"] < now - MAX_AGE
        return items

    def _claim(self, conn: Connection, item: dict[str, Any], now: float) -> bool:
        t = schema.alerts if item["table"] == "alert" else schema.human_tasks
        q = update(t).where(t.c.id == item["id"], t.c.notified_at.is_(None))
        return bool(conn.execute(q.values(notified_at=now)).rowcount)

    def _text(self, conn: Connection, item: dict[str, Any], lang: str) -> str:
        lang = "en" if lang == "en" else "zh"
        say, kind = _SAY[lang], str(item["kind"])
        g = schema.groups
        name = conn.execute(
            select(g.c.name, g.c.id).where(
                g.c.platform == item["platform"], g.c.platform_id == item["group_id"]
            )
        ).first()
        where = (name.name if name and name.name else None) or item["group_id"]
        lines = [f"{say[item['table']]} · {where} · {_KIND[lang].get(kind, kind)}"]
        if item.get("member_id"):
            lines.append(f"{say['member']}: {item['member_id']}")
        body = item.get("detail") if item["table"] == "alert" else item.get("text")
        if body:
            lines.append(str(body)[:500])
        suggestion = item.get(f"suggestion_{lang}")
        if suggestion:
            lines.append(f"{say['hint']}: {suggestion}")
        if self.console_url and name is not None:
            ids = json.loads(item.get("message_ids") or "[]") if item["table"] == "alert" else []
            page = f"{self.console_url}/groups/{name.id}"
            link = f"{page}/context?m={quote(str(ids[0]), safe='')}" if ids else f"{page}#queue"
            lines.append(f"{say['open']}: {link}")
        return "\n".join(lines)
