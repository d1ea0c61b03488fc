"""The early-warning channel (人工预警): open alerts and human tasks posted to the
operators' group a group's settings name (``alert_group = "telegram:-100123"``).

A tick job: each open alert or task not yet posted is claimed (``notified_at``, a
conditional update, so two workers never post the same one) and becomes one planned
``send`` in the operators' group, in the same transaction: posted exactly once, and
retried like any planned call if the platform fails. At most :data:`PER_TICK`
messages per operators' group per tick, oldest first, so a burst of alerts cannot
flood it: past that, the first ``PER_TICK - 1`` are posted one by one and the rest in
one digest (how many of each kind in each group, with a link to each group's queue). Where the console's address is configured
(``[bot] console_url``) each notice links to the item and its context.
"""

from __future__ import annotations

import json
from collections import Counter
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
#: Groups named in a digest (the rest are counted).
DIGEST_GROUPS = 10
#: Items older than this when first seen (e.g. before ``alert_group`` was set) are not
#: posted: the console's queue has them.
MAX_AGE = 86400.0

_KIND = {
    "zh": {"uncertain": "无法确定的消息", "question": "问题无人回答", "quarrel": "争吵",
           "appeal": "成员申诉", "database": "数据库故障", "approve": "入群审核",
           "kick": "移出成员", "ban": "拉黑成员", "mute": "禁言", "delete": "撤回消息",
           "send": "发送消息", "set_card": "修改群名片", "direct": "私聊成员"},
    "en": {"uncertain": "uncertain message", "question": "unanswered question",
           "quarrel": "quarrel", "appeal": "appeal", "database": "database outage",
           "approve": "join request", "kick": "remove member", "ban": "ban member",
           "mute": "mute", "delete": "delete message", "send": "send message",
           "set_card": "set group card", "direct": "message a member"},
}  # fmt: skip
_SAY = {
    "zh": {"alert": "⚠️ 人工预警", "task": "📋 待人工处理", "member": "成员", "hint": "建议",
           "open": "处理", "digest": "📋 另有 {n} 条预警和待办，合并为一条：", "sep": "、",
           "more_groups": "……另有 {n} 个群，请在控制台查看"},
    "en": {"alert": "⚠️ Alert", "task": "📋 For a person", "member": "member",
           "hint": "suggested", "open": "open",
           "digest": "📋 {n} more alerts and tasks, in one message:", "sep": ", ",
           "more_groups": "… and {n} more groups: see the console"},
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
        waiting: dict[tuple[str, str], list[tuple[dict[str, Any], Any]]] = {}
        for item in self._pending(conn, now):
            settings = settings_for(item["platform"], item["group_id"])
            to = alert_destination(settings.alert_group)
            if to is None or item["stale"] or to == (item["platform"], item["group_id"]):
                self._claim(conn, item, now)  # no channel (or old news): the queue only
                continue
            if to[0] in platforms:  # else not attached yet: a later tick posts it
                waiting.setdefault(to, []).append((item, settings))
        for to, items in waiting.items():
            self._post(conn, platforms[to[0]], to[1], items, now)

    def _post(
        self,
        conn: Connection,
        target: Platform,
        group_id: str,
        items: list[tuple[dict[str, Any], Any]],
        now: float,
    ) -> None:
        """One operators' group's notices this tick: each alone, or, past :data:`PER_TICK`,
        the first ``PER_TICK - 1`` alone and the rest in one digest."""
        alone = items if len(items) <= PER_TICK else items[: PER_TICK - 1]
        for item, settings in alone:
            if not self._claim(conn, item, now):
                continue  # another worker posted it
            plan(
                conn, target, group_id=group_id, kind="send", now=now,
                params={"text": self._text(conn, item, settings.language)},
                reason=f"notice.{item['table']}",
                evidence={item["table"]: item["id"], "group": item["group_id"]},
            )  # fmt: skip
        rest = [item for item, _ in items[len(alone) :] if self._claim(conn, item, now)]
        if rest:
            lang = items[0][1].language
            evidence: dict[str, list[int]] = {}
            for item in rest:
                evidence.setdefault(item["table"], []).append(item["id"])
            plan(
                conn, target, group_id=group_id, kind="send", now=now,
                params={"text": self._digest(conn, rest, lang)}, reason="notice.digest",
                evidence=evidence,
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

    def _where(self, conn: Connection, item: dict[str, Any]) -> tuple[str, int | None]:
        """The item's group as operators know it (its name), and its console id."""
        g = schema.groups
        row = conn.execute(
            select(g.c.name, g.c.id).where(
                g.c.platform == item["platform"], g.c.platform_id == item["group_id"]
            )
        ).first()
        name = (row.name if row is not None and row.name else None) or item["group_id"]
        return str(name), (row.id if row is not None else None)

    def _text(self, conn: Connection, item: dict[str, Any], lang: str) -> str:
        lang = "en" if lang == "en" else "zh"
        say, kind = _SAY[lang], str(item["kind"])
        where, gid = self._where(conn, item)
        lines = [f"{say[item['table']]} · {where} · {_KIND[lang].get(kind, kind)}"]
        if item.get("member_id"):
            lines.append(f"{say['member']}: {item['member_id']}")
        body = item.get("detail") if item["table"] == "alert" else item.get("text")
        if body:
            lines.append(str(body)[:500])
        suggestion = item.get(f"suggestion_{lang}")
        if suggestion:
            lines.append(f"{say['hint']}: {suggestion}")
        if self.console_url and gid is not None:
            ids = json.loads(item.get("message_ids") or "[]") if item["table"] == "alert" else []
            page = f"{self.console_url}/groups/{gid}"
            link = f"{page}/context?m={quote(str(ids[0]), safe='')}" if ids else f"{page}#queue"
            lines.append(f"{say['open']}: {link}")
        return "\n".join(lines)

    def _digest(self, conn: Connection, items: list[dict[str, Any]], lang: str) -> str:
        """One message for a burst: how many of each kind per group, and where to look."""
        lang = "en" if lang == "en" else "zh"
        say = _SAY[lang]
        groups: dict[tuple[str, str], Counter[str]] = {}
        for item in items:
            groups.setdefault((item["platform"], item["group_id"]), Counter())[item["kind"]] += 1
        lines = [say["digest"].format(n=len(items))]
        for (platform, group_id), kinds in list(groups.items())[:DIGEST_GROUPS]:
            where, gid = self._where(conn, {"platform": platform, "group_id": group_id})
            counts = say["sep"].join(f"{_KIND[lang].get(k, k)} {n}" for k, n in kinds.most_common())
            line = f"· {where}: {counts}"
            if self.console_url and gid is not None:
                line += f" → {self.console_url}/groups/{gid}#queue"
            lines.append(line)
        if len(groups) > DIGEST_GROUPS:
            lines.append(say["more_groups"].format(n=len(groups) - DIGEST_GROUPS))
        return "\n".join(lines)
