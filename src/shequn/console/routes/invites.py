"""Invite links and 群活码 with per-link attribution, and fission (裂变) campaigns.

A 活码's groups are its targets; seeing it needs ``view_group`` on each of them and
changing it ``manage_invites`` on each (recruiters have it). A campaign reaches the
groups of its 活码 (every group when it has none). Leaderboards, flagged invites and
the invite tree name members, so they need ``view_members`` too. Every change writes
its console audit row in the same transaction.

``GET /j/<code>`` is public (no sign-in): it counts the visit and sends the visitor to
the first group with room (a redirect to its link, or a page with its QR code).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import segno
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from shequn.console import audit
from shequn.console.access import Action, User, can
from shequn.console.context import client_ip, console, render, require
from shequn.console.portfolio import size_band
from shequn.features.invites import campaigns as camp
from shequn.features.invites import codes, tree
from shequn.features.invites.links import create_platform_link
from shequn.platforms.port import PlatformError, Unsupported
from shequn.store import schema

router = APIRouter()

GroupKey = tuple[str, str]
#: The public page may show a group's QR image from wherever the operator keeps it.
_PUBLIC_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)


def _may(user: User, action: Action, groups: list[GroupKey]) -> bool:
    return bool(groups) and all(can(user, action, k) for k in groups)


def _all_groups(conn: Connection) -> list[Any]:
    g = schema.groups
    return list(conn.execute(select(g).order_by(g.c.platform, g.c.name)).all())


def _code_groups(conn: Connection, code_id: int) -> list[GroupKey]:
    t = schema.invite_targets
    q = select(t.c.platform, t.c.group_id).where(t.c.code_id == code_id)
    return sorted({(r.platform, r.group_id) for r in conn.execute(q)})


def _campaign_groups(conn: Connection, row: Any) -> list[GroupKey]:
    if row.code_id is not None:
        return _code_groups(conn, row.code_id)
    return sorted({(g.platform, g.platform_id) for g in _all_groups(conn)})


def _picked(form: Any) -> list[GroupKey]:
    return sorted({tuple(str(v).split(":", 1)) for v in form.getlist("group") if ":" in str(v)})  # type: ignore[misc]


def _int(value: Any, default: int | None = None) -> int | None:
    s = str(value or "").strip()
    if not s:
        return default
    try:
        return int(s)
    except ValueError:
        raise ValueError(f"not a whole number: {s!r}") from None


def _code_row(conn: Connection, code_id: int) -> Any:
    c = schema.invite_codes
    return conn.execute(select(c).where(c.c.id == code_id)).first()


def _code(request: Request, code_id: int, action: Action) -> tuple[Any, list[GroupKey]]:
    session = require(request)
    with console(request).store.engine.connect() as conn:
        row = _code_row(conn, code_id)
        groups = _code_groups(conn, code_id) if row is not None else []
    if row is None or not _may(session.user, Action.VIEW_GROUP, groups):
        raise HTTPException(404, "no such invite code")  # unknown and out of reach look alike
    if not _may(session.user, action, groups):
        raise HTTPException(403, "not allowed")
    return row, groups


def _campaign(request: Request, cid: int, action: Action) -> tuple[Any, list[GroupKey]]:
    session = require(request)
    c = schema.invite_campaigns
    with console(request).store.engine.connect() as conn:
        row = conn.execute(select(c).where(c.c.id == cid)).first()
        groups = _campaign_groups(conn, row) if row is not None else []
    if row is None or not _may(session.user, Action.VIEW_GROUP, groups):
        raise HTTPException(404, "no such campaign")
    if not _may(session.user, action, groups):
        raise HTTPException(403, "not allowed")
    return row, groups


def _public_url(request: Request, code: str, ref: str | None = None) -> str:
    base = str(request.base_url).rstrip("/")
    return f"{base}/j/{quote(code)}" + (f"?r={quote(ref)}" if ref else "")


# -- pages ----------------------------------------------------------------------------


@router.get("/invites")
def invites_page(request: Request, msg: str = "", error: str = "") -> Response:
    session = require(request)
    user = session.user
    c = console(request)
    ic, ca = schema.invite_codes, schema.invite_campaigns
    now = c.clock()
    with c.store.engine.connect() as conn:
        rows = []
        for row in conn.execute(select(ic).order_by(ic.c.id.desc())).all():
            groups = _code_groups(conn, row.id)
            if _may(user, Action.VIEW_GROUP, groups):
                rows.append((row, groups, codes.choose(conn, row)))
        figs = codes.figures(conn, [r.id for r, _g, _t in rows], now)
        camps = [
            r
            for r in conn.execute(select(ca).order_by(ca.c.id.desc())).all()
            if _may(user, Action.VIEW_GROUP, _campaign_groups(conn, r))
        ]
        choices = [
            g for g in _all_groups(conn) if can(user, Action.MANAGE_INVITES, (g.platform, g.platform_id))
        ]  # fmt: skip
        manageable = [
            r for r, groups, _t in rows if _may(user, Action.MANAGE_INVITES, groups)
        ]  # fmt: skip
    return render(
        request, "invites.html", codes=rows, figs=figs, campaigns=camps, choices=choices,
        manageable=manageable, msg=msg, error=error,
        may_members=any(can(user, Action.VIEW_MEMBERS, (g.platform, g.platform_id)) for g in choices)
        or user.role.value == "owner",
    )  # fmt: skip


@router.post("/invites/codes")
async def create_code(request: Request) -> Response:
    session = require(request)
    form = await request.form()
    groups = _picked(form)
    if not groups:
        return invites_page(request, error="invites.error.no_groups")
    if not _may(session.user, Action.MANAGE_INVITES, groups):
        raise HTTPException(403, "not allowed")
    c = console(request)
    now = c.clock()
    try:
        with c.store.engine.begin() as conn:
            cid = codes.create_code(
                conn, name=str(form.get("name", "")), now=now, by=f"console:{session.user.name}",
                code=str(form.get("code", "")), cap=_int(form.get("cap"), codes.DEFAULT_CAP) or 0,
                reserve=_int(form.get("reserve"), 10) or 0,
            )  # fmt: skip
            for platform, gid in groups:
                codes.add_target(conn, cid, platform, gid)
            row = _code_row(conn, cid)
            audit.record(
                conn, actor=session.user, action="invites.code.create", target=f"invite_code:{cid}",
                group=groups[0], after=_code_snapshot(row, groups), ip=client_ip(request), now=now,
            )  # fmt: skip
    except IntegrityError:
        return invites_page(request, error="invites.error.code_taken")
    except ValueError as e:
        return invites_page(request, error=str(e))
    return RedirectResponse(f"/invites/codes/{cid}?msg=saved", status_code=303)


def _code_snapshot(row: Any, groups: list[GroupKey]) -> dict[str, Any]:
    return {
        "code": row.code, "name": row.name, "cap": row.cap, "reserve": row.reserve,
        "status": row.status, "groups": [f"{p}:{g}" for p, g in groups],
    }  # fmt: skip


@router.get("/invites/codes/{code_id}")
def code_page(request: Request, code_id: int, msg: str = "", error: str = "") -> Response:
    session = require(request)
    row, groups = _code(request, code_id, Action.VIEW_GROUP)
    c = console(request)
    now = c.clock()
    with c.store.engine.connect() as conn:
        targets = codes.targets_of(conn, row)
        figs = codes.figures(conn, [row.id], now)[row.id]
        choices = [
            g for g in _all_groups(conn)
            if can(session.user, Action.MANAGE_INVITES, (g.platform, g.platform_id))
            and (g.platform, g.platform_id) not in groups
        ]  # fmt: skip
    chosen = next((t for t in targets if t.has_room), None)
    return render(
        request, "invites_code.html", code=row, targets=targets, figs=figs, chosen=chosen,
        band=size_band, public_url=_public_url(request, row.code), choices=choices,
        may_edit=_may(session.user, Action.MANAGE_INVITES, groups), msg=msg, error=error,
        live=set(c.platforms),
    )  # fmt: skip


@router.post("/invites/codes/{code_id}")
async def edit_code(request: Request, code_id: int) -> Response:
    session = require(request)
    row, groups = _code(request, code_id, Action.MANAGE_INVITES)
    form = await request.form()
    c = console(request)
    now = c.clock()
    try:
        with c.store.engine.begin() as conn:
            codes.update_code(
                conn, code_id, name=str(form.get("name", row.name)).strip() or row.name,
                cap=_int(form.get("cap"), row.cap), reserve=_int(form.get("reserve"), row.reserve),
                status=str(form.get("status", row.status)),
            )  # fmt: skip
            after = _code_row(conn, code_id)
            audit.record(
                conn, actor=session.user, action="invites.code.edit", target=f"invite_code:{code_id}",
                group=groups[0], before=_code_snapshot(row, groups),
                after=_code_snapshot(after, groups), ip=client_ip(request), now=now,
            )  # fmt: skip
    except ValueError as e:
        return code_page(request, code_id, error=str(e))
    return RedirectResponse(f"/invites/codes/{code_id}?msg=saved", status_code=303)


@router.post("/invites/codes/{code_id}/targets")
async def add_target(request: Request, code_id: int) -> Response:
    session = require(request)
    _row, _groups = _code(request, code_id, Action.MANAGE_INVITES)
    form = await request.form()
    platform, _, gid = str(form.get("group", "")).partition(":")
    if not gid or not can(session.user, Action.MANAGE_INVITES, (platform, gid)):
        raise HTTPException(403, "not allowed")
    c = console(request)
    now = c.clock()
    try:
        with c.store.engine.begin() as conn:
            tid = codes.add_target(
                conn, code_id, platform, gid, link=str(form.get("link", "")),
                qr_url=str(form.get("qr_url", "")), key=str(form.get("invite_key", "")) or None,
            )  # fmt: skip
            audit.record(
                conn, actor=session.user, action="invites.target.add", target=f"invite_target:{tid}",
                group=(platform, gid), after={"code_id": code_id, "group": f"{platform}:{gid}"},
                ip=client_ip(request), now=now,
            )  # fmt: skip
    except IntegrityError:
        return code_page(request, code_id, error="invites.error.group_twice")
    except ValueError as e:
        return code_page(request, code_id, error=str(e))
    return RedirectResponse(f"/invites/codes/{code_id}?msg=saved", status_code=303)


def _target(request: Request, target_id: int) -> tuple[Any, Any, list[GroupKey]]:
    t = schema.invite_targets
    with console(request).store.engine.connect() as conn:
        trow = conn.execute(select(t).where(t.c.id == target_id)).first()
    if trow is None:
        raise HTTPException(404, "no such group in a code")
    row, groups = _code(request, trow.code_id, Action.MANAGE_INVITES)
    return trow, row, groups


_TARGET_FIELDS = ("link", "qr_url", "invite_key", "cap", "size", "status", "position")


@router.post("/invites/targets/{target_id}")
async def edit_target(request: Request, target_id: int) -> Response:
    session = require(request)
    trow, row, _groups = _target(request, target_id)
    form = await request.form()
    c = console(request)
    now = c.clock()
    try:
        values: dict[str, Any] = {}
        for k in _TARGET_FIELDS:
            if k not in form:
                continue
            v = form.get(k)
            values[k] = _int(v) if k in ("cap", "size", "position") else str(v or "")
        with c.store.engine.begin() as conn:
            codes.update_target(conn, target_id, **values)
            audit.record(
                conn, actor=session.user, action="invites.target.edit",
                target=f"invite_target:{target_id}", group=(trow.platform, trow.group_id),
                before={k: getattr(trow, k) for k in _TARGET_FIELDS}, after=values,
                ip=client_ip(request), now=now,
            )  # fmt: skip
    except ValueError as e:
        return code_page(request, row.id, error=str(e))
    return RedirectResponse(f"/invites/codes/{row.id}?msg=saved", status_code=303)


@router.post("/invites/targets/{target_id}/platform-link")
async def platform_link(request: Request, target_id: int) -> Response:
    """Ask the live platform for an invite link to the group (Telegram, Discord)."""
    session = require(request)
    trow, row, _groups = _target(request, target_id)
    c = console(request)
    platform = c.platforms.get(trow.platform)
    if platform is None:
        return code_page(request, row.id, error="invites.error.not_live")
    try:
        link = await create_platform_link(platform, trow.group_id, f"shequn {row.code}")
    except Unsupported:
        return code_page(request, row.id, error="invites.error.no_api")
    except PlatformError as e:
        return code_page(request, row.id, error=str(e))
    now = c.clock()
    with c.store.engine.begin() as conn:
        codes.update_target(conn, target_id, link=link)
        audit.record(
            conn, actor=session.user, action="invites.target.link",
            target=f"invite_target:{target_id}", group=(trow.platform, trow.group_id),
            before={"link": trow.link}, after={"link": link}, ip=client_ip(request), now=now,
        )  # fmt: skip
    return RedirectResponse(f"/invites/codes/{row.id}?msg=saved", status_code=303)


# -- campaigns --------------------------------------------------------------------------


def _campaign_snapshot(row: Any) -> dict[str, Any]:
    return {
        "name": row.name, "code_id": row.code_id, "stay_days": row.stay_days,
        "tiers": json.loads(row.tiers), "status": row.status,
    }  # fmt: skip


async def _campaign_form(request: Request, user: User) -> dict[str, Any]:
    form = await request.form()
    code_id = _int(form.get("code_id"))
    tiers = camp.parse_tiers(str(form.get("tiers", "")))
    raw = str(form.get("stay_days", "")).strip()
    try:
        stay = float(raw) if raw else None  # empty: each group's own setting
    except ValueError:
        raise ValueError(f"stay_days: not a number: {raw!r}") from None
    out: dict[str, Any] = {
        "name": str(form.get("name", "")).strip(), "code_id": code_id, "tiers": tiers,
        "stay_days": stay,
    }  # fmt: skip
    if "status" in form:
        out["status"] = str(form.get("status"))
    with console(request).store.engine.connect() as conn:
        if code_id is not None and _code_row(conn, code_id) is None:
            raise ValueError(f"no invite code {code_id}")
        groups = (
            _code_groups(conn, code_id)
            if code_id is not None
            else [(g.platform, g.platform_id) for g in _all_groups(conn)]
        )
    if not _may(user, Action.MANAGE_INVITES, groups):
        raise HTTPException(403, "not allowed")
    out["groups"] = groups
    return out


@router.post("/invites/campaigns")
async def create_campaign(request: Request) -> Response:
    session = require(request)
    c = console(request)
    now = c.clock()
    try:
        f = await _campaign_form(request, session.user)
        if not f["name"]:
            raise ValueError("a campaign needs a name")
        with c.store.engine.begin() as conn:
            cid = camp.create_campaign(
                conn, name=f["name"], now=now, tiers=f["tiers"], stay_days=f["stay_days"],
                code_id=f["code_id"], by=f"console:{session.user.name}",
            )  # fmt: skip
            row = conn.execute(
                select(schema.invite_campaigns).where(schema.invite_campaigns.c.id == cid)
            ).one()
            audit.record(
                conn, actor=session.user, action="invites.campaign.create",
                target=f"invite_campaign:{cid}", group=f["groups"][0] if f["groups"] else None,
                after=_campaign_snapshot(row), ip=client_ip(request), now=now,
            )  # fmt: skip
    except ValueError as e:
        return invites_page(request, error=str(e))
    return RedirectResponse(f"/invites/campaigns/{cid}?msg=saved", status_code=303)


@router.get("/invites/campaigns/{campaign_id}")
def campaign_page(request: Request, campaign_id: int, msg: str = "", error: str = "") -> Response:
    session = require(request)
    row, groups = _campaign(request, campaign_id, Action.VIEW_GROUP)
    c = console(request)
    members = _may(session.user, Action.VIEW_MEMBERS, groups)
    ic = schema.invite_codes
    with c.store.engine.connect() as conn:
        board = camp.leaderboard(conn, campaign_id) if members else []
        flagged = camp.flagged(conn, campaign_id) if members else []
        code = _code_row(conn, row.code_id) if row.code_id is not None else None
        mine = [
            r for r in conn.execute(select(ic).order_by(ic.c.id.desc())).all()
            if _may(session.user, Action.MANAGE_INVITES, _code_groups(conn, r.id))
        ]  # fmt: skip
        rw = schema.invite_rewards
        rewards = conn.execute(
            select(rw, schema.invite_referrers.c.name, schema.invite_referrers.c.member_id)
            .join(schema.invite_referrers, schema.invite_referrers.c.id == rw.c.referrer_id)
            .where(rw.c.campaign_id == campaign_id).order_by(rw.c.granted_at.desc())
        ).all() if members else []  # fmt: skip
    for b in board:
        b["link"] = _public_url(request, code.code, b["ref"]) if code is not None else ""
    return render(
        request, "invites_campaign.html", campaign=row, board=board, flagged=flagged,
        code=code, codes=mine, rewards=rewards, members=members,
        tiers=camp.tiers_text(json.loads(row.tiers)),
        may_edit=_may(session.user, Action.MANAGE_INVITES, groups), msg=msg, error=error,
        groups=groups,
    )  # fmt: skip


@router.post("/invites/campaigns/{campaign_id}")
async def edit_campaign(request: Request, campaign_id: int) -> Response:
    session = require(request)
    row, _groups = _campaign(request, campaign_id, Action.MANAGE_INVITES)
    c = console(request)
    now = c.clock()
    try:
        f = await _campaign_form(request, session.user)
        groups = f.pop("groups")
        if not f["name"]:
            f["name"] = row.name
        with c.store.engine.begin() as conn:
            camp.update_campaign(conn, campaign_id, **f)
            after = conn.execute(
                select(schema.invite_campaigns).where(schema.invite_campaigns.c.id == campaign_id)
            ).one()
            audit.record(
                conn, actor=session.user, action="invites.campaign.edit",
                target=f"invite_campaign:{campaign_id}", group=groups[0] if groups else None,
                before=_campaign_snapshot(row), after=_campaign_snapshot(after),
                ip=client_ip(request), now=now,
            )  # fmt: skip
    except ValueError as e:
        return campaign_page(request, campaign_id, error=str(e))
    return RedirectResponse(f"/invites/campaigns/{campaign_id}?msg=saved", status_code=303)


@router.post("/invites/campaigns/{campaign_id}/enrol")
async def enrol(request: Request, campaign_id: int) -> Response:
    """Give a member a personal code in the campaign (and a personal platform link, if pasted)."""
    session = require(request)
    _row, groups = _campaign(request, campaign_id, Action.MANAGE_INVITES)
    form = await request.form()
    platform, _, gid = str(form.get("group", "")).partition(":")
    member = str(form.get("member_id", "")).strip()
    if not member or (platform, gid) not in groups:
        return campaign_page(request, campaign_id, error="invites.error.enrol")
    c = console(request)
    now = c.clock()
    link = str(form.get("link", "")).strip() or None
    live = c.platforms.get(platform)
    if form.get("make_link") and link is None:
        try:
            if live is None:
                raise Unsupported(platform)
            link = await create_platform_link(live, gid, f"ref {member}")
        except Unsupported:
            return campaign_page(request, campaign_id, error="invites.error.no_api")
        except PlatformError as e:
            return campaign_page(request, campaign_id, error=str(e))
    with c.store.engine.begin() as conn:
        ref = camp.enrol(
            conn, campaign_id, platform, member, name=str(form.get("name", "")).strip(),
            group_id=gid, now=now, link=link,
        )  # fmt: skip
        audit.record(
            conn, actor=session.user, action="invites.campaign.enrol",
            target=f"invite_campaign:{campaign_id}", group=(platform, gid),
            after={"member": member, "ref": ref.ref, "link": link}, ip=client_ip(request), now=now,
        )  # fmt: skip
    return RedirectResponse(f"/invites/campaigns/{campaign_id}?msg=saved", status_code=303)


@router.post("/invites/rewards/{reward_id}/handed-out")
def handed_out(request: Request, reward_id: int) -> Response:
    """Record that the team handed a reward out (red packets and gifts are not by API)."""
    session = require(request)
    rw = schema.invite_rewards
    c = console(request)
    with c.store.engine.connect() as conn:
        row = conn.execute(select(rw).where(rw.c.id == reward_id)).first()
    if row is None:
        raise HTTPException(404, "no such reward")
    _camp, groups = _campaign(request, row.campaign_id, Action.MANAGE_INVITES)
    now = c.clock()
    with c.store.engine.begin() as conn:
        conn.execute(
            rw.update().where(rw.c.id == reward_id, rw.c.status == "to_hand_out")
            .values(status="handed_out")
        )  # fmt: skip
        audit.record(
            conn, actor=session.user, action="invites.reward.handed_out",
            target=f"invite_reward:{reward_id}", group=groups[0] if groups else None,
            before={"status": row.status}, after={"status": "handed_out"},
            ip=client_ip(request), now=now,
        )  # fmt: skip
    return RedirectResponse(f"/invites/campaigns/{row.campaign_id}?msg=saved", status_code=303)


# -- the invite tree and seed users ---------------------------------------------------------


def _prune(nodes: list[tree.Node], user: User) -> list[tree.Node]:
    """Keep the people the user may see: joined in a group of theirs, or above one who did."""
    out = []
    for n in nodes:
        kids = _prune(n.children, user)
        seen = bool(n.group_id) and can(user, Action.VIEW_MEMBERS, (n.key[0], n.group_id))
        if seen or kids:
            out.append(tree.Node(n.key, n.name, n.group_id, n.ts, n.status, kids))
    return out


@router.get("/invites/tree")
def tree_page(request: Request, msg: str = "", error: str = "") -> Response:
    session = require(request)
    c = console(request)
    with c.store.engine.connect() as conn:
        roots = _prune(tree.build(conn), session.user)
        seeds = tree.seeds(conn)
        choices = [
            g for g in _all_groups(conn)
            if can(session.user, Action.MANAGE_INVITES, (g.platform, g.platform_id))
        ]  # fmt: skip
    keys = {n.key for n in roots}
    shown = [
        s
        for s in seeds
        if (s["platform"], s["member_id"]) in keys or session.user.role.value == "owner"
    ]
    return render(
        request, "invites_tree.html", roots=roots, seeds=shown, choices=choices, msg=msg,
        error=error,
    )  # fmt: skip


@router.post("/invites/seeds")
async def mark_seeds(request: Request) -> Response:
    """Mark one member (``member_id``) or the group's first ``first`` members as seed users."""
    session = require(request)
    form = await request.form()
    platform, _, gid = str(form.get("group", "")).partition(":")
    if not gid or not can(session.user, Action.MANAGE_INVITES, (platform, gid)):
        raise HTTPException(403, "not allowed")
    c = console(request)
    now = c.clock()
    member = str(form.get("member_id", "")).strip()
    try:
        first = _int(form.get("first"), 0) or 0
    except ValueError as e:
        return tree_page(request, error=str(e))
    by = f"console:{session.user.name}"
    with c.store.engine.begin() as conn:
        if member:
            n = int(tree.mark_seed(conn, platform, member, now=now, by=by))
        else:
            n = tree.mark_first_seeds(conn, platform, gid, max(first, 0), now=now, by=by)
        audit.record(
            conn, actor=session.user, action="invites.seed.mark", target=f"group:{platform}:{gid}",
            group=(platform, gid), after={"member": member, "first": first, "marked": n},
            ip=client_ip(request), now=now,
        )  # fmt: skip
    return RedirectResponse("/invites/tree?msg=saved", status_code=303)


# -- the public page ------------------------------------------------------------------------


@router.get("/j/{code}")
def join(request: Request, code: str, r: str | None = None) -> Response:
    """The public 活码: count the visit, send the visitor to the first group with room."""
    c = console(request)
    ic, rf = schema.invite_codes, schema.invite_referrers
    now = c.clock()
    with c.store.engine.begin() as conn:
        row = conn.execute(select(ic).where(ic.c.code == code)).first()
        if row is None or row.status != "active":
            resp = render(request, "invites_join.html", status_code=404, target=None, qr=None,
                          title="", link="", gone=True)  # fmt: skip
            resp.headers["Content-Security-Policy"] = _PUBLIC_CSP
            return resp
        target = codes.choose(conn, row)
        ref = None
        personal: str | None = None
        if r:
            found = conn.execute(select(rf).where(rf.c.ref == r[:64])).first()
            if found is not None:
                ref = found.ref
                # the referrer's own platform link to this very group names them on join
                mine = (found.platform, found.group_id)
                if target is not None and mine == (target.platform, target.group_id):
                    key = found.invite_key or ""
                    personal = f"https://{key}" if "/" in key else None
        codes.record_visit(conn, row, target, now, ref=ref)
    link = personal or (target.link if target is not None else "")
    if (
        target is not None
        and link
        and not target.qr_url
        and link.startswith(("https://", "http://"))
    ):
        return RedirectResponse(link, status_code=303)
    qr = segno.make(link, error="m").svg_data_uri(scale=6) if link else None
    resp = render(
        request, "invites_join.html", target=target, link=link, qr=qr, title=row.name, gone=False,
    )  # fmt: skip
    resp.headers["Content-Security-Policy"] = _PUBLIC_CSP
    return resp
