"""The groups portfolio and the group page: members, moderation log with undo, escalations."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Row, select

from shequn.botconfig import ConfigError
from shequn.console import changes, conversation, groupview, portfolio
from shequn.console.access import Action, can, visible_groups
from shequn.console.context import client_ip, console, lang_of, render, require
from shequn.groupsettings import layers as glayers
from shequn.store import Store, schema

router = APIRouter()


@router.get("/")
def portfolio_page(request: Request) -> Response:
    session = require(request)
    c = console(request)
    every = portfolio.figures(c.store, c.health, lang_of(request))
    shown = set(visible_groups(session.user, [g.key for g in every]))
    rows = [g for g in every if g.key in shown]
    return render(request, "portfolio.html", groups=rows)


def _group(request: Request, group_id: int) -> tuple[Row[Any], tuple[str, str]]:
    c = console(request)
    g = schema.groups
    with c.store.engine.connect() as conn:
        row = conn.execute(select(g).where(g.c.id == group_id)).first()
    # an unknown group and a group out of reach look the same: no probing
    if row is None:
        raise HTTPException(404, "no such group")
    key = (row.platform, row.platform_id)
    session = require(request)
    if not can(session.user, Action.VIEW_GROUP, key):
        raise HTTPException(404, "no such group")
    return row, key


@router.get("/groups/{group_id}")
def group_page(request: Request, group_id: int, msg: str = "") -> Response:
    session = require(request)
    row, key = _group(request, group_id)
    c = console(request)
    lang = lang_of(request)
    user = session.user
    figures = next(
        (f for f in portfolio.figures(c.store, c.health, lang) if f.id == group_id), None
    )
    with c.store.engine.connect() as conn:
        members = (
            groupview.members(conn, row, now=c.clock())
            if can(user, Action.VIEW_MEMBERS, key)
            else None
        )
        log = (
            groupview.moderation_log(conn, key) if can(user, Action.VIEW_MODERATION, key) else None
        )
        queue = (
            groupview.escalations(conn, key, lang)
            if can(user, Action.VIEW_MODERATION, key)
            else None
        )
    return render(
        request, "group.html", group=row, key=key, figures=figures, members=members, log=log,
        queue=queue, msg=msg, can_undo_row=groupview.can_undo_row,
        params_text=groupview.params_text,
        capabilities=groupview.capabilities(c.platforms, key),
    )  # fmt: skip


@router.get("/groups/{group_id}/context")
def context_page(request: Request, group_id: int, m: str = "") -> Response:
    """The messages around message ``m`` (an alert's, an appeal's), from the archive."""
    row, key = _group(request, group_id)
    require(request, Action.VIEW_MODERATION, key)
    c = console(request)
    with c.store.engine.connect() as conn:
        rows = conversation.around(conn, row.id, m[:255]) if m else []
    return render(request, "context.html", group=row, rows=rows)


@router.post("/groups/{group_id}/actions/{action_id}/undo")
async def undo(request: Request, group_id: int, action_id: int) -> Response:
    session = require(request)
    _row, key = _group(request, group_id)
    require(request, Action.UNDO_MODERATION, key)
    c = console(request)
    t = schema.bot_actions
    with c.store.engine.connect() as conn:
        action = conn.execute(select(t).where(t.c.id == action_id)).first()
    if action is None or (action.platform, action.group_id) != key:
        raise HTTPException(404, "no such action in this group")
    platform = c.platforms.get(action.platform) or changes.offline(action.platform)
    msg = "undone"
    try:
        await changes.undo_action(
            c.store, platform, action_id, session.user, now=c.clock(), ip=client_ip(request)
        )
    except ValueError:
        msg = "undo_refused"
    return RedirectResponse(f"/groups/{group_id}?msg={msg}#moderation", status_code=303)


@router.post("/groups/{group_id}/escalations/{kind}/{item_id}/resolve")
def resolve(request: Request, group_id: int, kind: str, item_id: int) -> Response:
    session = require(request)
    _, key = _group(request, group_id)
    require(request, Action.RESOLVE_ALERTS, key)
    if kind not in ("alert", "task"):
        raise HTTPException(404, "no such escalation")
    c = console(request)
    table = schema.alerts if kind == "alert" else schema.human_tasks
    with c.store.engine.connect() as conn:
        item = conn.execute(select(table).where(table.c.id == item_id)).first()
    if item is None or (item.platform, item.group_id) != key:
        raise HTTPException(404, "no such escalation in this group")
    changes.resolve_escalation(
        c.store, kind, item_id, session.user, now=c.clock(), ip=client_ip(request)
    )
    return RedirectResponse(f"/groups/{group_id}?msg=resolved#queue", status_code=303)


@router.post("/groups/{group_id}/appeals/{appeal_id}/{decision}")
async def decide_appeal(request: Request, group_id: int, appeal_id: int, decision: str) -> Response:
    """Accept (the strike taken back, a running mute lifted) or reject an appeal (申诉)."""
    session = require(request)
    _row, key = _group(request, group_id)
    require(request, Action.UNDO_MODERATION, key)
    if decision not in ("accept", "reject"):
        raise HTTPException(404, "no such decision")
    c = console(request)
    a, s = schema.appeals, schema.strikes
    with c.store.engine.connect() as conn:
        appeal = conn.execute(
            select(s.c.platform, s.c.group_id)
            .join(a, a.c.strike_id == s.c.id)
            .where(a.c.id == appeal_id)
        ).first()
    if appeal is None or (appeal.platform, appeal.group_id) != key:
        raise HTTPException(404, "no such appeal in this group")
    lang = _language(c.store, key)  # the member is answered in the group's language
    form = await request.form()
    note = " ".join(str(form.get("note", "")).split())[:500]
    platform = c.platforms.get(key[0]) or changes.offline(key[0])
    msg = f"appeal_{decision}ed"
    try:
        await changes.decide_appeal(
            c.store, platform, appeal_id, session.user, accept=decision == "accept", note=note,
            lang=lang, now=c.clock(), ip=client_ip(request),
        )  # fmt: skip
    except ValueError:
        msg = "appeal_decided"
    return RedirectResponse(f"/groups/{group_id}?msg={msg}#queue", status_code=303)


def _language(store: Store, key: tuple[str, str]) -> str:
    with store.engine.connect() as conn:
        try:
            return glayers.effective(conn, key).language
        except ConfigError:  # overrides the file no longer accepts: the page says so
            return "zh"
