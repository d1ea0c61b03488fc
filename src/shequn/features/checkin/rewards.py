"""Spending points on the operator's rewards (兑换): catalogue, redemption, hand-out.

``兑换`` / ``/redeem`` alone lists the catalogue (``checkin.rewards``); ``兑换 名称``
(or its number) debits the cost and records a ``point_redemptions`` row in the same
transaction, once per message. Staff hand it out with ``发放 3`` / ``/fulfil 3`` or
cancel it with ``退回兑换 3`` / ``/refund 3`` (the points come back); ``待发放`` /
``/redemptions`` lists what is still to hand out. :func:`fulfil` and :func:`refund` are
the same actions for the console and the CLI.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Row, func, select, update

from shequn.events import MessagePosted
from shequn.features.checkin.points import award, points_balance, spend
from shequn.features.checkin.scope import Scope, in_scope, scope_groups
from shequn.features.checkin.settings import CheckinSettings, Reward
from shequn.i18n import t
from shequn.store import schema

if TYPE_CHECKING:
    from shequn.pipeline import Context

__all__ = ["FULFIL", "PENDING", "REFUND", "command", "fulfil", "refund", "rest_after"]

FULFIL = ("发放", "/fulfil")
REFUND = ("退回兑换", "/refund")
PENDING = ("待发放", "/redemptions")


def rest_after(text: str, words: tuple[str, ...]) -> str | None:
    """What follows one of ``words`` at the start of ``text`` (``""``: the word alone)."""
    t_ = " ".join(text.split())
    low = t_.casefold()
    for w in words:
        wl = w.casefold()
        if low == wl:
            return ""
        if low.startswith(wl) and (low[len(wl)] in " :：" or not w[-1].isascii()):
            return t_[len(w) :].lstrip(" :：")
    return None


def _is_staff(ctx: Context, ev: MessagePosted) -> bool:
    assert ev.sender is not None
    pid = ev.sender.platform_id
    return bool(
        ev.sender.is_operator
        or pid in ctx.settings.exempt
        or pid in ctx.settings.activities.operators
    )


def _say(ctx: Context, key: str, member: str | None, **kw: object) -> None:
    text = t(f"honours.{key}", lang=ctx.settings.language, **kw)
    ctx.plan("send", params={"text": text}, member_id=member, reason=f"checkin.{key}")


def command(ctx: Context, ev: MessagePosted, s: CheckinSettings) -> bool:
    """Redemption and hand-out commands; ``False`` when the message is none of them."""
    if ev.edited:
        return False  # an edited "兑换 X" must not buy X a second time
    if (what := rest_after(ev.text, s.redeem_keywords)) is not None:
        if what:
            _redeem(ctx, ev, s, what)
        else:
            _catalogue(ctx, ev, s)
        return True
    for words, key in ((FULFIL, "fulfilled"), (REFUND, "refunded")):
        arg = rest_after(ev.text, words)
        if arg is None or not arg.lstrip("#").isdigit() or not _is_staff(ctx, ev):
            continue
        assert ev.sender is not None
        rid, who, pf = int(arg.lstrip("#")), ev.sender.platform_id, ctx.platform.name
        if key == "fulfilled":
            row = fulfil(ctx.conn, pf, ev.group_id, rid, who, ev.ts)
        else:
            row = refund(ctx.conn, pf, ev.group_id, rid, who, ev.ts, s.timezone)
        if row is None:
            _say(ctx, "no_redemption", who, id=rid)
        else:
            _say(ctx, key, row.member_id, name=row.name, id=row.id, reward=row.reward,
                 cost=row.cost)  # fmt: skip
        return True
    if rest_after(ev.text, PENDING) == "" and _is_staff(ctx, ev):
        _pending(ctx, ev)
        return True
    return False


def _taken(conn: Connection, platform: str, group: Scope, reward: str) -> int:
    r = schema.point_redemptions
    q = select(func.count()).where(
        r.c.platform == platform, in_scope(r.c.group_id, group), r.c.reward == reward,
        r.c.status != "cancelled",
    )  # fmt: skip
    return int(conn.execute(q).scalar_one())


def _catalogue(ctx: Context, ev: MessagePosted, s: CheckinSettings) -> None:
    assert ev.sender is not None
    mid = ev.sender.platform_id
    if not s.rewards:
        _say(ctx, "no_rewards", mid)
        return
    sc = scope_groups(ctx.conn, ctx.platform.name, ev.group_id, s)
    lines = []
    for i, r in enumerate(s.rewards, 1):
        left = ""
        if r.stock >= 0:
            n = max(0, r.stock - _taken(ctx.conn, ctx.platform.name, sc, r.name))
            left = t("honours.left", lang=ctx.settings.language, n=n)
        lines.append(t("honours.catalogue_line", lang=ctx.settings.language, i=i, reward=r.name,
                       cost=r.cost, left=left))  # fmt: skip
    points = points_balance(ctx.conn, ctx.platform.name, sc, mid)
    _say(ctx, "catalogue", mid, points=points, lines="\n".join(lines))


def _find(rewards: tuple[Reward, ...], what: str) -> Reward | None:
    if what.isdigit() and 1 <= int(what) <= len(rewards):
        return rewards[int(what) - 1]
    folded = what.casefold()
    return next((r for r in rewards if r.name.casefold() == folded), None)


def _redeem(ctx: Context, ev: MessagePosted, s: CheckinSettings, what: str) -> None:
    assert ev.sender is not None
    conn, pf, g = ctx.conn, ctx.platform.name, ev.group_id
    mid, name = ev.sender.platform_id, (ev.sender.name or ev.sender.platform_id)[:255]
    reward = _find(s.rewards, what)
    if reward is None:
        _say(ctx, "unknown", mid, name=name, what=what)
        return
    sc = scope_groups(conn, pf, g, s)
    if reward.stock >= 0 and _taken(conn, pf, sc, reward.name) >= reward.stock:
        _say(ctx, "sold_out", mid, name=name, reward=reward.name)
        return
    day = datetime.fromtimestamp(ev.ts, ZoneInfo(s.timezone)).date().isoformat()
    ref = f"redeem:{ev.message_id}"[:255]
    if not spend(conn, pf, g, mid, points=reward.cost, reason="redeem", day=day, ts=ev.ts,
                 ref=ref, scope=sc):  # fmt: skip
        points = points_balance(conn, pf, sc, mid)
        _say(ctx, "poor", mid, name=name, reward=reward.name, cost=reward.cost, points=points)
        return
    rid = conn.execute(
        schema.point_redemptions.insert().values(
            platform=pf, group_id=g, member_id=mid, name=name, reward=reward.name[:64],
            cost=reward.cost, status="pending", message_id=ev.message_id[:255], created_at=ev.ts,
        )
    ).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip
    points = points_balance(conn, pf, sc, mid)
    _say(ctx, "redeemed", mid, name=name, reward=reward.name, cost=reward.cost, points=points,
         id=rid)  # fmt: skip


def _open(conn: Connection, platform: str, group: str, rid: int) -> Row[Any] | None:
    r = schema.point_redemptions
    q = select(r).where(
        r.c.id == rid, r.c.platform == platform, r.c.group_id == group, r.c.status == "pending"
    )
    return conn.execute(q).first()


def _close(
    conn: Connection, platform: str, group: str, rid: int, status: str, operator: str, now: float
) -> Row[Any] | None:
    """Move pending redemption ``rid`` to ``status``; the row as it was, or None."""
    row = _open(conn, platform, group, rid)
    if row is None:
        return None
    r = schema.point_redemptions
    conn.execute(
        update(r)
        .where(r.c.id == rid, r.c.status == "pending")
        .values(status=status, handled_at=now, handled_by=operator[:255])
    )
    return row


def fulfil(
    conn: Connection, platform: str, group: str, rid: int, operator: str, now: float
) -> Row[Any] | None:
    """Mark pending redemption ``rid`` handed out; the row, or None if none is pending."""
    return _close(conn, platform, group, rid, "fulfilled", operator, now)


def refund(
    conn: Connection,
    platform: str,
    group: str,
    rid: int,
    operator: str,
    now: float,
    tz: str = "Asia/Shanghai",
) -> Row[Any] | None:
    """Cancel pending redemption ``rid`` and credit its cost back (once)."""
    row = _close(conn, platform, group, rid, "cancelled", operator, now)
    if row is None:
        return None
    day = datetime.fromtimestamp(now, ZoneInfo(tz)).date().isoformat()
    # No daily cap on giving back what was paid: the status change above happens once.
    award(conn, platform, group, row.member_id, points=row.cost, reason="redeem.refund",
          day=day, ts=now, cap=2**31 - 1, ref=f"refund:{rid}")  # fmt: skip
    return row


def _pending(ctx: Context, ev: MessagePosted) -> None:
    assert ev.sender is not None
    r = schema.point_redemptions
    rows = ctx.conn.execute(
        select(r)
        .where(r.c.platform == ctx.platform.name, r.c.group_id == ev.group_id)
        .where(r.c.status == "pending")
        .order_by(r.c.id)
        .limit(30)
    ).all()
    if not rows:
        _say(ctx, "pending_none", ev.sender.platform_id)
        return
    lang = ctx.settings.language
    lines = "\n".join(
        t("honours.pending_line", lang=lang, id=x.id, name=x.name, reward=x.reward, cost=x.cost)
        for x in rows
    )
    _say(ctx, "pending", ev.sender.platform_id, lines=lines)
