"""Content plans (内容计划 / SOP) and mass messages (群发): list, create, edit, pause, preview, report.

Seeing a plan or a mass message needs ``view_group`` on every group it posts to;
creating, editing or pausing one needs ``send_mass`` on every one of them (a plan
speaks in the groups just as a mass message does, so it takes the same permission).
Every change writes its console audit row in the same transaction.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from shequn.console import audit
from shequn.console.access import Action, User, can
from shequn.console.context import client_ip, console, render, require
from shequn.features import content
from shequn.features.content.links import topic_results
from shequn.features.content.plans import PlanInput, plan_row, targets
from shequn.features.content.posting import seed_of
from shequn.features.content.schedule import KINDS, Schedule, zone
from shequn.features.content.settings import ContentSettings
from shequn.store import schema

router = APIRouter()

GroupKey = tuple[str, str]
_FIELDS = ("name", "text", "kind", "at_local", "weekdays", "window_start", "window_end",
           "days", "timezone", "image_url", "link")  # fmt: skip


def _all_groups(conn: Connection) -> list[Any]:
    g = schema.groups
    return list(conn.execute(select(g).order_by(g.c.platform, g.c.name)).all())


def _may(user: User, action: Action, groups: list[GroupKey]) -> bool:
    return bool(groups) and all(can(user, action, k) for k in groups)


def _set_groups(conn: Connection, set_id: int | None) -> list[GroupKey]:
    if set_id is None:
        return []
    m = schema.console_group_set_members
    q = select(m.c.platform, m.c.group_id).where(m.c.group_set_id == set_id)
    return sorted({(r.platform, r.group_id) for r in conn.execute(q)})


def _sets(conn: Connection, user: User) -> list[Any]:
    """The group sets the user may post to as a whole (every group in them)."""
    gs = schema.console_group_sets
    rows = conn.execute(select(gs).order_by(gs.c.name)).all()
    return [r for r in rows if _may(user, Action.SEND_MASS, _set_groups(conn, r.id))]


def _mass_groups(conn: Connection, mass_id: int) -> list[GroupKey]:
    s = schema.content_sends
    q = select(s.c.platform, s.c.group_id).where(s.c.source == "mass", s.c.source_id == mass_id)
    return sorted({(r.platform, r.group_id) for r in conn.execute(q)})


@router.get("/content")
def content_page(request: Request, msg: str = "", error: str = "") -> Response:
    session = require(request)
    user = session.user
    c = console(request)
    p, m = schema.content_plans, schema.content_mass
    with c.store.engine.connect() as conn:
        plans = [
            (row, targets(conn, row))
            for row in conn.execute(select(p).order_by(p.c.id.desc())).all()
        ]
        plans = [(row, gs) for row, gs in plans if _may(user, Action.VIEW_GROUP, gs)]
        masses = []
        for row in conn.execute(select(m).order_by(m.c.id.desc()).limit(50)).all():
            gs = _mass_groups(conn, row.id)
            if _may(user, Action.VIEW_GROUP, gs):
                counts = content.summary(content.report(conn, "mass", row.id))
                masses.append((row, gs, counts))
        choices = [
            g for g in _all_groups(conn) if can(user, Action.SEND_MASS, (g.platform, g.platform_id))
        ]
        sets = _sets(conn, user)
        t = schema.content_topics
        topics = [
            r
            for r in conn.execute(select(t).order_by(t.c.day.desc(), t.c.id.desc()).limit(100))
            if can(user, Action.VIEW_GROUP, (r.platform, r.group_id))
        ]
        results = topic_results(conn, topics)
    return render(
        request, "content.html", plans=plans, masses=masses, choices=choices, kinds=KINDS,
        msg=msg, error=error, form={}, picked=set(), sets=sets, picked_set=None, topics=topics,
        topic_results=results,
    )  # fmt: skip


async def _plan_input(request: Request) -> tuple[PlanInput, dict[str, str]]:
    form = await request.form()
    raw = {k: str(form.get(k, "")).strip() for k in _FIELDS}
    groups = tuple(
        sorted({tuple(str(v).split(":", 1)) for v in form.getlist("group") if ":" in str(v)})
    )
    try:
        days = int(raw["days"] or 0)
    except ValueError:
        days = -1
    set_id = str(form.get("group_set", "")).strip()
    plan = PlanInput(
        name=raw["name"], text=raw["text"], kind=raw["kind"], at_local=raw["at_local"],
        weekdays=",".join(str(v) for v in form.getlist("weekday")) or raw["weekdays"],
        window_start=raw["window_start"] or "09:00", window_end=raw["window_end"], days=days,
        timezone=raw["timezone"], jitter=form.get("jitter") == "on", image_url=raw["image_url"],
        link=raw["link"], groups=groups,  # type: ignore[arg-type]
        group_set_id=int(set_id) if set_id.isdigit() else None,
    )  # fmt: skip
    return plan, raw


def _snapshot(row: Any, groups: list[GroupKey]) -> dict[str, Any]:
    out = {k: getattr(row, k) for k in (*_FIELDS, "jitter", "status")}
    out["groups"] = [f"{p}:{g}" for p, g in groups]
    out["group_set_id"] = row.group_set_id
    return out


def _wanted(store: Any, user: User, plan: PlanInput) -> list[GroupKey]:
    """Every group the submitted plan would post to; 403 unless the user may post to all."""
    with store.engine.connect() as conn:
        in_set = _set_groups(conn, plan.group_set_id)
    wanted = sorted(set(plan.groups) | set(in_set))
    if plan.group_set_id is not None and not in_set:
        raise HTTPException(403, "not allowed")  # an empty or unknown set reaches nothing
    if not wanted:
        return [("", "")]  # no group at all: PlanInput.check says so in the form
    if not _may(user, Action.SEND_MASS, wanted):
        raise HTTPException(403, "not allowed")
    return wanted


@router.post("/content/plans")
async def create_plan(request: Request) -> Response:
    session = require(request)
    plan, _raw = await _plan_input(request)
    c = console(request)
    wanted = _wanted(c.store, session.user, plan)
    now = c.clock()
    try:
        with c.store.engine.begin() as conn:
            pid = content.create_plan(conn, plan, by=f"console:{session.user.name}", now=now)
            row = plan_row(conn, pid)
            audit.record(
                conn, actor=session.user, action="content.plan.create", target=f"plan:{pid}",
                group=wanted[0], after=_snapshot(row, wanted), ip=client_ip(request), now=now,
            )  # fmt: skip
    except ValueError as e:
        return content_page(request, error=str(e))
    return RedirectResponse(f"/content/plans/{pid}?msg=saved", status_code=303)


def _plan(request: Request, plan_id: int, action: Action) -> tuple[Any, list[GroupKey]]:
    session = require(request)
    c = console(request)
    with c.store.engine.connect() as conn:
        row = plan_row(conn, plan_id)
        groups = targets(conn, row) if row is not None else []
    # an unknown plan and one out of reach look the same
    if row is None or not _may(session.user, Action.VIEW_GROUP, groups):
        raise HTTPException(404, "no such plan")
    if not _may(session.user, action, groups):
        raise HTTPException(403, "not allowed")
    return row, groups


@router.get("/content/plans/{plan_id}")
def plan_page(request: Request, plan_id: int, msg: str = "", error: str = "") -> Response:
    session = require(request)
    row, groups = _plan(request, plan_id, Action.VIEW_GROUP)
    c = console(request)
    now = c.clock()
    tz = zone(row.timezone or ContentSettings().timezone)
    sched = Schedule.of(row)
    upcoming: list[tuple[Any, str]] = []
    for platform, gid in groups:
        anchor = now if sched.kind.startswith("after_") else None
        seed = seed_of(row.id, platform, gid)
        upcoming += [(d, gid) for d in content.preview(sched, tz, now, 10, seed, anchor)]
    upcoming.sort(key=lambda x: x[0])
    with c.store.engine.connect() as conn:
        deliveries = content.report(conn, "plan", row.id)
        choices = [
            g for g in _all_groups(conn)
            if can(session.user, Action.SEND_MASS, (g.platform, g.platform_id))
        ]  # fmt: skip
        sets = _sets(conn, session.user)
    form = {k: getattr(row, k) for k in _FIELDS}
    return render(
        request, "content_plan.html", plan=row, groups=groups, upcoming=upcoming[:10],
        zone_name=str(tz), deliveries=deliveries[-50:], msg=msg, error=error, form=form,
        kinds=KINDS, choices=choices, picked={f"{p}:{g}" for p, g in groups},
        sets=sets, picked_set=row.group_set_id, jitter=row.jitter, may_edit=_may(session.user, Action.SEND_MASS, groups),
    )  # fmt: skip


@router.post("/content/plans/{plan_id}")
async def edit_plan(request: Request, plan_id: int) -> Response:
    session = require(request)
    row, groups = _plan(request, plan_id, Action.SEND_MASS)
    plan, _raw = await _plan_input(request)
    c = console(request)
    wanted = _wanted(c.store, session.user, plan)
    now = c.clock()
    try:
        with c.store.engine.begin() as conn:
            content.update_plan(conn, plan_id, plan, now=now)
            after = plan_row(conn, plan_id)
            audit.record(
                conn, actor=session.user, action="content.plan.edit", target=f"plan:{plan_id}",
                group=wanted[0], before=_snapshot(row, groups),
                after=_snapshot(after, wanted), ip=client_ip(request), now=now,
            )  # fmt: skip
    except ValueError as e:
        return plan_page(request, plan_id, error=str(e))
    return RedirectResponse(f"/content/plans/{plan_id}?msg=saved", status_code=303)


@router.post("/content/plans/{plan_id}/{status}")
def pause_or_resume(request: Request, plan_id: int, status: str) -> Response:
    session = require(request)
    if status not in ("pause", "resume"):
        raise HTTPException(404, "no such action")
    row, groups = _plan(request, plan_id, Action.SEND_MASS)
    new = "paused" if status == "pause" else "active"
    c = console(request)
    now = c.clock()
    with c.store.engine.begin() as conn:
        content.set_status(conn, plan_id, new, now=now)
        audit.record(
            conn, actor=session.user, action=f"content.plan.{status}", target=f"plan:{plan_id}",
            group=groups[0], before={"status": row.status}, after={"status": new},
            ip=client_ip(request), now=now,
        )  # fmt: skip
    return RedirectResponse(f"/content/plans/{plan_id}?msg=saved", status_code=303)


@router.post("/content/mass")
async def create_mass(request: Request) -> Response:
    session = require(request)
    form = await request.form()
    groups = sorted({tuple(str(v).split(":", 1)) for v in form.getlist("group") if ":" in str(v)})
    if not groups:
        return content_page(request, error="console.content.no_groups")
    if not _may(session.user, Action.SEND_MASS, groups):  # type: ignore[arg-type]
        raise HTTPException(403, "not allowed")
    c = console(request)
    now = c.clock()
    text = str(form.get("text", ""))
    try:
        with c.store.engine.begin() as conn:
            mid = content.create_mass(
                conn, text=text, groups=groups, by=f"console:{session.user.name}", now=now,  # type: ignore[arg-type]
                name=str(form.get("name", "")), link=str(form.get("link", "")),
                image_url=str(form.get("image_url", "")),
            )  # fmt: skip
            audit.record(
                conn, actor=session.user, action="content.mass.create", target=f"mass:{mid}",
                group=groups[0], after={"text": text, "groups": [f"{p}:{g}" for p, g in groups]},  # type: ignore[arg-type]
                ip=client_ip(request), now=now,
            )  # fmt: skip
    except ValueError as e:
        return content_page(request, error=str(e))
    return RedirectResponse(f"/content/mass/{mid}?msg=saved", status_code=303)


@router.get("/content/mass/{mass_id}")
def mass_page(request: Request, mass_id: int, msg: str = "") -> Response:
    session = require(request)
    c = console(request)
    m = schema.content_mass
    with c.store.engine.connect() as conn:
        row = conn.execute(select(m).where(m.c.id == mass_id)).first()
        groups = _mass_groups(conn, mass_id) if row is not None else []
        if row is None or not _may(session.user, Action.VIEW_GROUP, groups):
            raise HTTPException(404, "no such mass message")
        deliveries = content.report(conn, "mass", mass_id)
    return render(
        request, "content_mass.html", mass=row, deliveries=deliveries,
        counts=content.summary(deliveries), msg=msg,
    )  # fmt: skip


@router.post("/content/topics")
async def create_topic(request: Request) -> Response:
    """Prepare a day's topic (话题策划) for one group, with its product link and peak rule."""
    session = require(request)
    form = await request.form()
    f = {k: str(form.get(k, "")).strip() for k in (
        "group", "day", "post_at", "text", "product_text", "product_link", "link_after",
        "link_at", "timezone",
    )}  # fmt: skip
    platform, _, gid = f["group"].partition(":")
    if not gid or not can(session.user, Action.SEND_MASS, (platform, gid)):
        raise HTTPException(403, "not allowed")
    c = console(request)
    now = c.clock()
    try:
        if f["product_link"] and not f["product_link"].startswith(("http://", "https://")):
            raise ValueError(f"not a web address: {f['product_link']!r}")
        if f["timezone"]:
            zone(f["timezone"])
        with c.store.engine.begin() as conn:
            tid = content.add_topic(
                conn, platform=platform, group_id=gid, day=f["day"], post_at=f["post_at"],
                text=f["text"], now=now, product_text=f["product_text"],
                product_link=f["product_link"], link_after_messages=int(f["link_after"] or 10),
                link_at=f["link_at"], timezone=f["timezone"], by=f"console:{session.user.name}",
            )  # fmt: skip
            audit.record(
                conn, actor=session.user, action="content.topic.create", target=f"topic:{tid}",
                group=(platform, gid), after=f, ip=client_ip(request), now=now,
            )  # fmt: skip
    except (ValueError, IntegrityError) as e:
        if isinstance(e, IntegrityError):
            return content_page(request, error="console.content.topic_exists")
        return content_page(request, error=str(e))
    return RedirectResponse("/content?msg=saved#topics", status_code=303)
