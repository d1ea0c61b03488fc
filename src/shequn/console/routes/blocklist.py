"""The shared blocklist (全局黑名单): who is listed, why and where; list and lift by hand."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection, or_, select

from shequn.actions import blocklist as actions
from shequn.console import changes
from shequn.console.access import Action, User, can
from shequn.console.context import client_ip, console, render, require
from shequn.store import schema

router = APIRouter()

PAGE = 100
STATUSES = ("active", "lifted", "all")


@dataclass(frozen=True, slots=True)
class Listing:
    """One row of the page: the entry and what the viewer may see of it."""

    entry: Any
    group_name: str  # where it was decided ("" for a listing by hand)
    group_link: int | None  # the group's console page, when the viewer reaches it
    text: str | None  # the offending message, only for those who reach the group
    removals: int  # groups the listing removed the member from (made or asked)


def _listings(conn: Connection, user: User, status: str, q: str) -> list[Listing]:
    b, g = schema.blocklist, schema.groups
    query = (
        select(b, g.c.id.label("gid"), g.c.name.label("gname"))
        .outerjoin(g, (g.c.platform == b.c.platform) & (g.c.platform_id == b.c.group_id))
        .order_by(b.c.id.desc())
        .limit(PAGE)
    )
    if status != "all":
        query = query.where(b.c.status == status)
    if q:
        like = f"%{q}%"
        query = query.where(or_(b.c.member_id.like(like), b.c.member_name.like(like)))
    out = []
    for row in conn.execute(query):
        key = (row.platform, row.group_id)
        sees = bool(row.group_id) and can(user, Action.VIEW_MODERATION, key)
        made = [
            r
            for r in actions.removals_of(conn, row)
            if r.status in ("done", "human_task", "undone")
        ]
        out.append(
            Listing(
                entry=row,
                group_name=(row.gname or row.group_id) if row.group_id else "",
                group_link=row.gid if sees else None,
                text=json.loads(row.evidence or "{}").get("text", "") if sees else None,
                removals=len({r.group_id for r in made}),
            )
        )
    return out


def _platforms(conn: Connection) -> list[str]:
    g = schema.groups
    return sorted(conn.execute(select(g.c.platform).distinct()).scalars())


@router.get("/blocklist")
def blocklist_page(
    request: Request, status: str = "active", q: str = "", msg: str = ""
) -> Response:
    session = require(request, Action.MANAGE_BLOCKLIST)
    status = status if status in STATUSES else "active"
    q = q.strip()[:100]
    c = console(request)
    with c.store.engine.connect() as conn:
        rows = _listings(conn, session.user, status, q)
        platforms = _platforms(conn)
    return render(request, "blocklist.html", rows=rows, status=status, q=q, msg=msg,
                  platforms=platforms, statuses=STATUSES)  # fmt: skip


@router.post("/blocklist")
async def add(request: Request) -> Response:
    session = require(request, Action.MANAGE_BLOCKLIST)
    form = await request.form()
    platform = str(form.get("platform", "")).strip()
    member = str(form.get("member_id", "")).strip()
    note = " ".join(str(form.get("note", "")).split())[:1000]
    c = console(request)
    with c.store.engine.connect() as conn:
        known = _platforms(conn)
    if platform not in known or not member or len(member) > 255:
        return RedirectResponse("/blocklist?msg=bad_member", status_code=303)
    entry = changes.list_member(
        c.store, platform, member, session.user, note=note, now=c.clock(), ip=client_ip(request)
    )
    msg = "listed" if entry is not None else "already_listed"
    return RedirectResponse(f"/blocklist?msg={msg}", status_code=303)


@router.post("/blocklist/{entry_id}/lift")
async def lift(request: Request, entry_id: int) -> Response:
    session = require(request, Action.MANAGE_BLOCKLIST)
    c = console(request)
    b = schema.blocklist
    with c.store.engine.connect() as conn:
        entry = conn.execute(select(b).where(b.c.id == entry_id)).first()
    if entry is None:
        raise HTTPException(404, "no such blocklist entry")
    form = await request.form()
    note = " ".join(str(form.get("note", "")).split())[:1000]
    platform = c.platforms.get(entry.platform) or changes.offline(entry.platform)
    msg = "lifted"
    try:
        await changes.lift_listing(
            c.store, platform, entry_id, session.user, note=note, now=c.clock(),
            ip=client_ip(request),
        )  # fmt: skip
    except ValueError:
        msg = "lift_refused"
    return RedirectResponse(f"/blocklist?msg={msg}&status=all", status_code=303)
