"""The team page (owners only): users, roles, group sets and the groups in each set."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import delete, func, select, update

from shequn.console import audit, auth
from shequn.console.access import ROLES, Action, Role
from shequn.console.context import client_ip, console, render, require
from shequn.store import schema

router = APIRouter()


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.replace("，", ",").split(",") if p.strip()]


@router.get("/users")
def users_page(request: Request, msg: str = "", error: str = "") -> Response:
    require(request, Action.MANAGE_USERS)
    c = console(request)
    u, ugs, gs, gsm, g = (
        schema.console_users,
        schema.console_user_group_sets,
        schema.console_group_sets,
        schema.console_group_set_members,
        schema.groups,
    )
    with c.store.engine.connect() as conn:
        users = conn.execute(select(u).order_by(u.c.name)).all()
        sets_of: dict[int, list[str]] = {}
        for uid, name in conn.execute(
            select(ugs.c.user_id, gs.c.name)
            .join(gs, gs.c.id == ugs.c.group_set_id)
            .order_by(gs.c.name)
        ):
            sets_of.setdefault(uid, []).append(name)
        group_sets = conn.execute(select(gs).order_by(gs.c.name)).all()
        members: dict[int, set[tuple[str, str]]] = {}
        for sid, platform, gid in conn.execute(
            select(gsm.c.group_set_id, gsm.c.platform, gsm.c.group_id)
        ):
            members.setdefault(sid, set()).add((platform, gid))
        groups = conn.execute(select(g).order_by(g.c.platform, g.c.name)).all()
    return render(
        request, "users.html", users=users, sets_of=sets_of, group_sets=group_sets,
        set_members=members, groups=groups, roles=ROLES, msg=msg, error=error,
    )  # fmt: skip


@router.post("/users")
def create_user(
    request: Request,
    name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    group_sets: Annotated[str, Form()] = "",
) -> Response:
    session = require(request, Action.MANAGE_USERS)
    c = console(request)
    now = c.clock()
    try:
        with c.store.engine.begin() as conn:
            auth.create_user(conn, name, role, password, now=now, group_sets=_split(group_sets))
            audit.record(conn, actor=session.user, action="user.create", target=name.strip(),
                         after={"role": role, "group_sets": _split(group_sets)},
                         ip=client_ip(request), now=now)  # fmt: skip
    except auth.AccountError as e:
        return users_page(request, error=str(e))
    return RedirectResponse("/users?msg=saved", status_code=303)


def _owners_left(conn: object, excluding: int) -> int:
    u = schema.console_users
    q = select(func.count()).where(
        u.c.role == Role.OWNER.value, u.c.disabled.is_(False), u.c.id != excluding
    )
    return int(conn.execute(q).scalar_one())  # type: ignore[attr-defined]


@router.post("/users/{user_id}")
def update_user(
    request: Request,
    user_id: int,
    role: Annotated[str, Form()] = "",
    group_sets: Annotated[str, Form()] = "",
    disabled: Annotated[str, Form()] = "",
) -> Response:
    session = require(request, Action.MANAGE_USERS)
    if role not in {r.value for r in ROLES}:
        raise HTTPException(400, "unknown role")
    c = console(request)
    now = c.clock()
    u = schema.console_users
    off = disabled == "on"
    with c.store.engine.begin() as conn:
        row = conn.execute(select(u).where(u.c.id == user_id)).first()
        if row is None:
            raise HTTPException(404, "no such user")
        stays_owner = role == Role.OWNER.value and not off
        if row.role == Role.OWNER.value and not stays_owner and not _owners_left(conn, user_id):
            return users_page(request, error="console.users.last_owner")
        old_sets = sorted(_sets_of(conn, user_id))
        conn.execute(update(u).where(u.c.id == user_id).values(role=role, disabled=off))
        auth.set_user_group_sets(conn, user_id, _split(group_sets), now=now)
        if off:
            auth.end_sessions(conn, user_id)
        audit.record(
            conn, actor=session.user, action="user.update", target=row.name,
            before={"role": row.role, "disabled": bool(row.disabled), "group_sets": old_sets},
            after={"role": role, "disabled": off, "group_sets": sorted(_split(group_sets))},
            ip=client_ip(request), now=now,
        )  # fmt: skip
    return RedirectResponse("/users?msg=saved", status_code=303)


def _sets_of(conn: object, user_id: int) -> list[str]:
    ugs, gs = schema.console_user_group_sets, schema.console_group_sets
    q = select(gs.c.name).join(ugs, ugs.c.group_set_id == gs.c.id).where(ugs.c.user_id == user_id)
    return [r[0] for r in conn.execute(q)]  # type: ignore[attr-defined]


@router.post("/group-sets")
async def save_group_set(request: Request) -> Response:
    """Create group set ``name`` or replace its groups with the ticked ones."""
    session = require(request, Action.MANAGE_USERS)
    form = await request.form()
    name = str(form.get("name", "")).strip()
    ticked = sorted({tuple(str(v).split(":", 1)) for v in form.getlist("group") if ":" in str(v)})
    c = console(request)
    now = c.clock()
    gsm = schema.console_group_set_members
    try:
        with c.store.engine.begin() as conn:
            sid = auth.ensure_group_set(conn, name, now=now)
            before = sorted(
                f"{p}:{g}"
                for p, g in conn.execute(
                    select(gsm.c.platform, gsm.c.group_id).where(gsm.c.group_set_id == sid)
                )
            )
            conn.execute(delete(gsm).where(gsm.c.group_set_id == sid))
            for platform, gid in ticked:
                conn.execute(gsm.insert().values(group_set_id=sid, platform=platform, group_id=gid))
            audit.record(
                conn, actor=session.user, action="group_set.save", target=name,
                before={"groups": before}, after={"groups": [f"{p}:{g}" for p, g in ticked]},
                ip=client_ip(request), now=now,
            )  # fmt: skip
    except auth.AccountError as e:
        return users_page(request, error=str(e))
    return RedirectResponse("/users?msg=saved", status_code=303)
