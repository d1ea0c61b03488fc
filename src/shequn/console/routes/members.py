"""The member CRM: profiles across groups, tags, notes, segments, export, orders and conversion.

Reach: a user sees a member only through a group where they hold ``view_members``;
anyone else gets the same 404 as for an unknown member (no probing). What a page
lists is cut to the groups in reach of the action it is for: tags, notes and merging
(``edit_members``), exports (``export_members``), orders and coupons
(``record_orders``); a coupon's announcement goes only to groups where the user may
``send_mass``. Every change writes its console audit row in the same transaction.

``POST /api/orders`` is the shops' webhook: it is authenticated by a per-shop token
in the ``X-Shequn-Token`` header, not by a session, so it is a plain route outside
the console's CSRF dependency (CSRF is an attack on cookies, and it sends none).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import UploadFile

from shequn.console import audit
from shequn.console.access import Action, User, can
from shequn.console.context import Session, client_ip, console, lang_of, render, require
from shequn.features.crm import buyers as crm_buyers
from shequn.features.crm import campaigns, export, funnel, identities, orders, segments, tags
from shequn.features.crm.identities import Account
from shequn.features.crm.people import GroupKey, Person, people
from shequn.features.crm.profile import account_groups, profile
from shequn.features.crm.segments import LAYERS, Filter
from shequn.i18n import t
from shequn.store import schema

router = APIRouter()

_LIST_LIMIT = 200
_FILTER_FIELDS = (
    "groups", "platforms", "layers", "tags", "min_points", "spoke_within", "silent_over",
    "joined_within", "min_strikes", "city", "likely_buyer", "has_ordered",
)  # fmt: skip


# -- reach --------------------------------------------------------------------------------


def _all_groups(conn: Connection) -> dict[GroupKey, str]:
    g, m = schema.groups, schema.console_group_set_members
    out = {(r.platform, r.group_id): r.group_id for r in conn.execute(select(m))}
    out.update(
        {(r.platform, r.platform_id): r.name or r.platform_id for r in conn.execute(select(g))}
    )
    return out


def _reach(conn: Connection, user: User, action: Action) -> set[GroupKey]:
    return {k for k in _all_groups(conn) if can(user, action, k)}


def _visible(conn: Connection, user: User, account: Account, action: Action) -> bool:
    return bool(account_groups(conn, account) & _reach(conn, user, action))


def _member(
    request: Request, platform: str, member_id: str, action: Action = Action.VIEW_MEMBERS
) -> tuple[Session, Account, list[Account]]:
    """The session, the account and its linked accounts in reach; 404 / 403 as for a group."""
    session = require(request)
    c = console(request)
    account = (platform, member_id)
    with c.store.engine.connect() as conn:
        if not _visible(conn, session.user, account, Action.VIEW_MEMBERS):
            raise HTTPException(404, "no such member")
        if action is not Action.VIEW_MEMBERS and not _visible(conn, session.user, account, action):
            raise HTTPException(403, "not allowed")
        linked = [
            a
            for a in identities.accounts_of(conn, account)
            if a == account or _visible(conn, session.user, a, Action.VIEW_MEMBERS)
        ]
    return session, account, linked


def _buyers(request: Request) -> dict[Account, crm_buyers.Buyer]:
    return crm_buyers.likely_buyers(console(request).store)


def _people(request: Request, conn: Connection, scope: Iterable[GroupKey]) -> list[Person]:
    return people(conn, scope, now=console(request).clock(), buyers=_buyers(request))


def _url(account: Account) -> str:
    return f"/members/{quote(account[0], safe='')}/{quote(account[1], safe='')}"


def _labels(lang: str) -> dict[str, str]:
    return {k: t(f"crm.filter.{k}", lang=lang) for k in _FILTER_FIELDS}


def _filter_from(get: Any, getlist: Any) -> tuple[Filter, str]:
    try:
        return Filter.from_params(get, getlist), ""
    except ValueError as e:
        return Filter(), str(e)


def _page_ctx(request: Request, conn: Connection, user: User) -> dict[str, Any]:
    groups = _all_groups(conn)
    reach = _reach(conn, user, Action.VIEW_MEMBERS)
    return {
        "group_choices": sorted(
            ((f"{p}:{g}", name, p) for (p, g), name in groups.items() if (p, g) in reach),
            key=lambda x: (x[2], x[1]),
        ),
        "platform_choices": sorted({p for p, _ in reach}),
        "layer_choices": LAYERS,
        "categories": tags.CATEGORIES,
        "labels": _labels(lang_of(request)),
        "url": _url,
        "may_edit": bool(_reach(conn, user, Action.EDIT_MEMBERS)),
        "may_export": bool(_reach(conn, user, Action.EXPORT_MEMBERS)),
        "may_orders": bool(_reach(conn, user, Action.RECORD_ORDERS)),
        "group_names": groups,
    }


def _audit(
    conn: Connection, request: Request, session: Session, action: str, target: str,
    group: GroupKey | None = None, before: Any = None, after: Any = None,
) -> None:  # fmt: skip
    audit.record(
        conn, actor=session.user, action=action, target=target, group=group, before=before,
        after=after, ip=client_ip(request), now=console(request).clock(),
    )  # fmt: skip


def _first_group(conn: Connection, account: Account, user: User, action: Action) -> GroupKey:
    return sorted(account_groups(conn, account) & _reach(conn, user, action))[0]


def _audit_member(
    conn: Connection, request: Request, session: Session, account: Account, action: str,
    target: str, before: Any = None, after: Any = None,
) -> None:  # fmt: skip
    """The audit row of a change to a member's profile, filed under a group of theirs
    the user may edit (so the group's managers see it)."""
    group = _first_group(conn, account, session.user, Action.EDIT_MEMBERS)
    _audit(conn, request, session, action, target, group, before=before, after=after)


# -- the member list and segments ----------------------------------------------------------


@router.get("/members")
def members_page(request: Request, msg: str = "", error: str = "") -> Response:
    session = require(request)
    c = console(request)
    q = request.query_params
    f, bad = _filter_from(q.get, q.getlist)
    with c.store.engine.connect() as conn:
        reach = _reach(conn, session.user, Action.VIEW_MEMBERS)
        if not reach:
            raise HTTPException(403, "not allowed")
        found = segments.apply(f, _people(request, conn, reach), c.clock())
        ctx = _page_ctx(request, conn, session.user)
        saved = segments.segments(conn)
    return render(
        request, "members.html", f=f, people=found[:_LIST_LIMIT], total=len(found),
        saved=saved, msg=msg, error=error or bad, query=urlencode(f.query()), **ctx,
    )  # fmt: skip


def _segment(request: Request, segment_id: int) -> tuple[Session, Any, Filter]:
    session = require(request)
    c = console(request)
    with c.store.engine.connect() as conn:
        if not _reach(conn, session.user, Action.VIEW_MEMBERS):
            raise HTTPException(404, "no such segment")
        row = segments.segment(conn, segment_id)
    if row is None:
        raise HTTPException(404, "no such segment")
    return session, row, Filter.from_json(row.filter)


@router.post("/members/segments")
async def save_segment(request: Request) -> Response:
    session = require(request)
    form = await request.form()
    c = console(request)
    f, bad = _filter_from(form.get, form.getlist)
    if bad:
        return members_page(request, error=bad)
    with c.store.engine.begin() as conn:
        if not _reach(conn, session.user, Action.EDIT_MEMBERS):
            raise HTTPException(403, "not allowed")
        try:
            sid = segments.save_segment(
                conn, str(form.get("name", "")), f, by=session.user.name, now=c.clock()
            )
        except ValueError as e:
            conn.rollback()
            return members_page(request, error=str(e))
        _audit(conn, request, session, "crm.segment.save", f"segment:{sid}",
               after={"name": str(form.get("name", "")), "filter": f.as_dict()})  # fmt: skip
    return RedirectResponse(f"/members/segments/{sid}?msg=saved", status_code=303)


@router.get("/members/segments/{segment_id}")
def segment_page(request: Request, segment_id: int, msg: str = "", error: str = "") -> Response:
    session, row, f = _segment(request, segment_id)
    c = console(request)
    with c.store.engine.connect() as conn:
        reach = _reach(conn, session.user, Action.VIEW_MEMBERS)
        found = segments.apply(f, _people(request, conn, reach), c.clock())
        ctx = _page_ctx(request, conn, session.user)
    lang = lang_of(request)
    return render(
        request, "members_segment.html", segment=row, f=f, people=found[:_LIST_LIMIT],
        total=len(found), msg=msg, error=error,
        conditions=segments.describe(
            f, _labels(lang),
            {f"{p}:{g}": n for (p, g), n in ctx["group_names"].items() if (p, g) in reach},
        ),
        query=urlencode(f.query()), **ctx,
    )  # fmt: skip


@router.post("/members/segments/{segment_id}/delete")
def delete_segment(request: Request, segment_id: int) -> Response:
    session, row, f = _segment(request, segment_id)
    c = console(request)
    with c.store.engine.begin() as conn:
        if not _reach(conn, session.user, Action.EDIT_MEMBERS):
            raise HTTPException(403, "not allowed")
        segments.delete_segment(conn, segment_id)
        _audit(conn, request, session, "crm.segment.delete", f"segment:{segment_id}",
               before={"name": row.name, "filter": f.as_dict()})  # fmt: skip
    return RedirectResponse("/members?msg=deleted", status_code=303)


@router.post("/members/segments/{segment_id}/export")
async def export_segment(request: Request, segment_id: int) -> Response:
    session, row, f = _segment(request, segment_id)
    form = await request.form()
    kind = str(form.get("format", "csv"))
    if kind not in ("csv", "xlsx"):
        raise HTTPException(400, "format is csv or xlsx")
    c = console(request)
    lang = lang_of(request)
    with c.store.engine.begin() as conn:
        reach = _reach(conn, session.user, Action.EXPORT_MEMBERS)
        if not reach:
            raise HTTPException(403, "not allowed")
        found = segments.apply(f, _people(request, conn, reach), c.clock())
        head, data = export.header(lang), export.rows(found)
        _audit(conn, request, session, "crm.export", f"segment:{segment_id}",
               after={"format": kind, "rows": len(data), "name": row.name})  # fmt: skip
    safe = "".join(ch for ch in row.name if ch.isascii() and ch.isalnum()) or "segment"
    if kind == "csv":
        body, media = export.to_csv(head, data), "text/csv; charset=utf-8"
    else:
        body = export.to_xlsx(head, data, title=row.name)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    name = f"{safe}-{segment_id}.{kind}"
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.post("/members/segments/{segment_id}/tag")
async def tag_segment(request: Request, segment_id: int) -> Response:
    session, _row, f = _segment(request, segment_id)
    form = await request.form()
    c = console(request)
    category, tag = str(form.get("category", "")), str(form.get("tag", ""))
    with c.store.engine.begin() as conn:
        reach = _reach(conn, session.user, Action.EDIT_MEMBERS)
        if not reach:
            raise HTTPException(403, "not allowed")
        found = segments.apply(f, _people(request, conn, reach), c.clock())
        try:
            n = tags.bulk_tag(conn, [p.key for p in found], category, tag,
                              by=session.user.name, now=c.clock())  # fmt: skip
        except ValueError as e:
            conn.rollback()
            return segment_page(request, segment_id, error=str(e))
        _audit(conn, request, session, "crm.tag.bulk", f"segment:{segment_id}",
               after={"category": category, "tag": tag, "members": len(found), "new": n})  # fmt: skip
    return RedirectResponse(f"/members/segments/{segment_id}?msg=tagged", status_code=303)


@router.post("/members/segments/{segment_id}/campaign")
async def segment_campaign(request: Request, segment_id: int) -> Response:
    """A promotion / coupon batch to the segment's members (in ``record_orders`` reach)."""
    session, _row, f = _segment(request, segment_id)
    form = await request.form()
    c = console(request)
    announce = form.get("announce") == "on"
    with c.store.engine.begin() as conn:
        reach = _reach(conn, session.user, Action.RECORD_ORDERS)
        if not reach:
            raise HTTPException(403, "not allowed")
        found = segments.apply(f, _people(request, conn, reach), c.clock())
        mass = set()
        if announce:
            may_send = _reach(conn, session.user, Action.SEND_MASS)
            mass = {g for p in found for g in p.groups} & may_send
            if not mass:
                conn.rollback()
                return segment_page(request, segment_id, error=t("crm.error.no_mass_groups",
                                                                 lang=lang_of(request)))  # fmt: skip
        try:
            cid = campaigns.create_campaign(
                conn, name=str(form.get("name", "")), text=str(form.get("text", "")),
                code=str(form.get("code", "")), recipients=[p.key for p in found],
                segment_id=segment_id, mass_groups=sorted(mass), by=session.user.name,
                now=c.clock(), link=str(form.get("link", "")).strip(),
            )  # fmt: skip
        except ValueError as e:
            conn.rollback()
            return segment_page(request, segment_id, error=str(e))
        _audit(conn, request, session, "crm.campaign.create", f"campaign:{cid}",
               group=min(mass) if mass else None,
               after={"name": str(form.get("name", "")), "segment": segment_id,
                      "recipients": len(found), "groups": [f"{p}:{g}" for p, g in sorted(mass)]})  # fmt: skip
    return RedirectResponse(f"/members/campaigns/{cid}?msg=saved", status_code=303)


# -- conversion: buyers, campaigns, funnel, orders -----------------------------------------


@router.get("/members/buyers")
def buyers_page(request: Request) -> Response:
    session = require(request)
    c = console(request)
    with c.store.engine.connect() as conn:
        reach = _reach(conn, session.user, Action.VIEW_MEMBERS)
        if not reach:
            raise HTTPException(403, "not allowed")
        in_reach = {a for p in _people(request, conn, reach) for a in p.accounts}
        ctx = _page_ctx(request, conn, session.user)
    shown = []
    for b in sorted(_buyers(request).values(), key=lambda b: (-b.score, b.account)):
        if b.account not in in_reach:
            continue
        evidence = [
            e for e in b.evidence
            if tuple(e["group"]) in reach and can(session.user, Action.VIEW_ARCHIVE, tuple(e["group"]))
        ]  # fmt: skip
        shown.append((b, evidence))
    return render(request, "members_buyers.html", buyers=shown, **ctx)


@router.get("/members/campaigns")
def campaigns_page(request: Request) -> Response:
    session = require(request)
    c = console(request)
    with c.store.engine.connect() as conn:
        if not _reach(conn, session.user, Action.RECORD_ORDERS):
            raise HTTPException(403, "not allowed")
        rows = campaigns.campaigns(conn)
        ctx = _page_ctx(request, conn, session.user)
    return render(request, "members_campaigns.html", campaigns=rows, **ctx)


@router.get("/members/campaigns/{campaign_id}")
def campaign_page(request: Request, campaign_id: int, msg: str = "") -> Response:
    session = require(request)
    c = console(request)
    with c.store.engine.connect() as conn:
        reach = _reach(conn, session.user, Action.RECORD_ORDERS)
        row = campaigns.campaign(conn, campaign_id) if reach else None
        if row is None:
            raise HTTPException(404, "no such campaign")
        groups = funnel.campaign_groups(conn, row.mass_id)
        scope = (set(groups) & reach) if groups else reach
        steps = funnel.campaign_funnel(
            conn, campaign_id, scope, now=c.clock(), buyers=_buyers(request)
        )
        in_reach = {a for p in _people(request, conn, reach) for a in p.accounts}
        coupons = [r for r in campaigns.recipients(conn, campaign_id)
                   if (r.platform, r.member_id) in in_reach]  # fmt: skip
        ctx = _page_ctx(request, conn, session.user)
    return render(
        request, "members_campaign.html", campaign=row, steps=steps, stages=funnel.STAGES,
        coupons=coupons, groups=groups, msg=msg, **ctx,
    )  # fmt: skip


@router.get("/members/funnel")
def funnel_page(request: Request) -> Response:
    session = require(request)
    c = console(request)
    with c.store.engine.connect() as conn:
        reach = _reach(conn, session.user, Action.VIEW_MEMBERS)
        if not reach:
            raise HTTPException(403, "not allowed")
        buyers = _buyers(request)
        names = _all_groups(conn)
        rows = [
            (
                key,
                names.get(key, key[1]),
                funnel.group_funnel(conn, key, now=c.clock(), buyers=buyers),
            )
            for key in sorted(reach)
        ]
        ctx = _page_ctx(request, conn, session.user)
    return render(request, "members_funnel.html", rows=rows, stages=funnel.STAGES, **ctx)


@router.get("/members/orders")
def orders_page(request: Request, msg: str = "", error: str = "") -> Response:
    session = require(request)
    c = console(request)
    o = schema.crm_orders
    with c.store.engine.connect() as conn:
        reach = _reach(conn, session.user, Action.RECORD_ORDERS)
        if not reach:
            raise HTTPException(403, "not allowed")
        in_reach = {a for p in _people(request, conn, reach) for a in p.accounts}
        rows = [
            r for r in conn.execute(select(o).order_by(o.c.ordered_at.desc(), o.c.id.desc()).limit(500))
            if (r.platform, r.member_id) in in_reach
        ]  # fmt: skip
        ctx = _page_ctx(request, conn, session.user)
    return render(request, "members_orders.html", orders=rows, msg=msg, error=error,
                  columns=orders.CSV_COLUMNS, **ctx)  # fmt: skip


def _order_input(form: Any, now: float, account: Account | None = None) -> orders.OrderInput:
    platform, member = account or (str(form.get("platform", "")).strip(),
                                   str(form.get("member_id", "")).strip())  # fmt: skip
    return orders.OrderInput(
        platform=platform, member_id=member,
        amount_cents=orders.parse_amount(form.get("amount", "")),
        ordered_at=orders.parse_time(form.get("ordered_at", ""), now=now),
        currency=str(form.get("currency", "") or "CNY").strip(), item=str(form.get("item", "")),
        coupon_code=str(form.get("coupon", "")).strip(),
        external_id=str(form.get("order_id", "")).strip(),
    )  # fmt: skip


def _record(request: Request, session: Session, order: orders.OrderInput, source: str) -> int:
    """Record one order of a member in the user's ``record_orders`` reach, with its audit row."""
    c = console(request)
    with c.store.engine.begin() as conn:
        oid, created = orders.record_order(conn, order, source=source, by=session.user.name,
                                           now=c.clock())  # fmt: skip
        row = conn.execute(select(schema.crm_orders).where(schema.crm_orders.c.id == oid)).one()
        account = (row.platform, row.member_id)
        if not _visible(conn, session.user, account, Action.RECORD_ORDERS):
            raise HTTPException(403, "not allowed")  # rolls the order back
        if created:
            _audit(conn, request, session, "crm.order.record", f"order:{oid}",
                   group=_first_group(conn, account, session.user, Action.RECORD_ORDERS),
                   after={"member": f"{account[0]}:{account[1]}", "amount_cents": row.amount_cents,
                          "currency": row.currency, "coupon": row.coupon_code})  # fmt: skip
    return oid


@router.post("/members/orders")
async def add_order(request: Request) -> Response:
    session = require(request)
    form = await request.form()
    try:
        _record(request, session, _order_input(form, console(request).clock()), "manual")
    except orders.OrderError as e:
        return orders_page(request, error=str(e))
    return RedirectResponse("/members/orders?msg=saved", status_code=303)


@router.post("/members/orders/import")
async def import_orders(request: Request) -> Response:
    session = require(request)
    form = await request.form()
    upload = form.get("file")
    c = console(request)
    if not isinstance(upload, UploadFile):
        return orders_page(request, error=t("crm.error.no_file", lang=lang_of(request)))
    name = upload.filename or "orders.csv"
    try:
        raw = await upload.read()
    finally:
        await upload.close()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return orders_page(request, error=f"{name}: not UTF-8 text")
    try:
        with c.store.engine.begin() as conn:
            counts = orders.import_csv(conn, name, text, by=session.user.name, now=c.clock())
            reach = _reach(conn, session.user, Action.RECORD_ORDERS)
            for line, order in orders.read_csv(text, name, now=c.clock()):
                o = schema.crm_orders
                q = (
                    select(o.c.platform, o.c.member_id).where(
                        o.c.shop == order.shop, o.c.external_id == order.external_id
                    )
                    if order.external_id
                    else None
                )
                account = (order.platform, order.member_id)
                if q is not None:
                    found = conn.execute(q).first()
                    account = (found.platform, found.member_id) if found else account
                if not (account_groups(conn, account) & reach):
                    raise orders.OrderError(f"{name}:{line}: member out of your reach: "
                                            f"{account[0]}:{account[1]}")  # fmt: skip
            _audit(conn, request, session, "crm.order.import", name[:200],
                   group=min(reach), after=counts)  # fmt: skip
    except orders.OrderError as e:
        return orders_page(request, error=str(e))
    return RedirectResponse(f"/members/orders?msg=imported&{urlencode(counts)}", status_code=303)


async def orders_webhook(request: Request) -> Response:
    """``POST /api/orders``: a shop reports an order (JSON), idempotent by its ``order_id``."""
    c = console(request)
    with c.store.engine.connect() as conn:
        shop = orders.check_token(conn, request.headers.get("x-shequn-token"))
    if shop is None:
        return JSONResponse({"error": "bad or missing X-Shequn-Token"}, status_code=401)
    try:
        data = json.loads(await request.body())
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        external = str(data.get("order_id") or "").strip()
        if not external:
            raise orders.OrderError("order_id is required (it makes a retry safe)")
        now = c.clock()
        order = orders.OrderInput(
            platform=str(data.get("platform") or ""), member_id=str(data.get("member_id") or ""),
            amount_cents=orders.parse_amount(data.get("amount", "")),
            ordered_at=orders.parse_time(data.get("ordered_at"), now=now),
            currency=str(data.get("currency") or "CNY"), item=str(data.get("item") or ""),
            coupon_code=str(data.get("coupon") or ""), shop=shop, external_id=external,
        )  # fmt: skip
        try:
            with c.store.engine.begin() as conn:
                oid, created = orders.record_order(
                    conn, order, source="webhook", by=f"shop:{shop}", now=now
                )
                if created:
                    audit.record(
                        conn, actor=None, actor_name=f"shop:{shop}", action="crm.order.webhook",
                        target=f"order:{oid}", ip=client_ip(request), now=now,
                        after={"order_id": external, "amount_cents": order.amount_cents},
                    )  # fmt: skip
        except IntegrityError:  # the same order arrived twice at once: the first one won
            with c.store.engine.connect() as conn:
                known = orders.find_order(conn, shop, external)
            if known is None:
                raise
            oid, created = known, False
    except (ValueError, orders.OrderError) as e:
        return JSONResponse({"error": str(e)}, status_code=422)
    return JSONResponse({"id": oid, "created": created}, status_code=201 if created else 200)


router.add_route("/api/orders", orders_webhook, methods=["POST"])


# -- one member --------------------------------------------------------------------------


@router.get("/members/{platform}/{member_id}")
def member_page(
    request: Request, platform: str, member_id: str, msg: str = "", error: str = ""
) -> Response:
    session, account, linked = _member(request, platform, member_id)
    c = console(request)
    user = session.user
    with c.store.engine.connect() as conn:
        reach = _reach(conn, user, Action.VIEW_MEMBERS)
        data = profile(conn, linked, reach)
        ctx = _page_ctx(request, conn, user)
        may_edit = _visible(conn, user, account, Action.EDIT_MEMBERS)
        may_orders = _visible(conn, user, account, Action.RECORD_ORDERS)
    found = _buyers(request)
    buyer = [found[a] for a in linked if a in found]
    evidence = [
        e for b in buyer for e in b.evidence
        if tuple(e["group"]) in reach and can(user, Action.VIEW_ARCHIVE, tuple(e["group"]))
    ]  # fmt: skip
    ctx.update(may_edit=may_edit, may_orders=may_orders)
    return render(
        request, "members_profile.html", account=account, linked=linked, p=data,
        buyer=buyer[0] if buyer else None, evidence=evidence, msg=msg, error=error,
        editable=tags.EDITABLE_SOURCES, here=_url(account), **ctx,
    )  # fmt: skip


async def _member_change(
    request: Request, platform: str, member_id: str, action: Action
) -> tuple[Session, Account, list[Account], Any]:
    session, account, linked = _member(request, platform, member_id, action)
    return session, account, linked, await request.form()


def _parse_account(raw: str) -> Account | None:
    platform, sep, member = raw.strip().partition(":")
    return (
        (platform.strip(), member.strip()) if sep and platform.strip() and member.strip() else None
    )


def _back(account: Account, msg: str) -> Response:
    return RedirectResponse(f"{_url(account)}?msg={msg}", status_code=303)


def _profile_change(
    request: Request, session: Session, account: Account, audit: str,
    work: Callable[[Connection], Any], *, done: str = "saved",
) -> Response:  # fmt: skip
    """Run ``work`` (it returns the audit row's ``after``) in one transaction with its
    audit row; a ``ValueError`` rolls back and shows its message on the member's page."""
    with console(request).store.engine.begin() as conn:
        try:
            after = work(conn)
        except ValueError as e:
            conn.rollback()
            return member_page(request, account[0], account[1], error=str(e))
        _audit_member(conn, request, session, account, audit, f"{account[0]}:{account[1]}",
                      after=after)  # fmt: skip
    return _back(account, done)


@router.post("/members/{platform}/{member_id}/tags")
async def add_tag(request: Request, platform: str, member_id: str) -> Response:
    session, account, _, form = await _member_change(
        request, platform, member_id, Action.EDIT_MEMBERS
    )
    c = console(request)
    category, tag = str(form.get("category", "")), str(form.get("tag", ""))

    def work(conn: Connection) -> Any:
        tags.add_tag(conn, account, category, tag, by=session.user.name, now=c.clock())
        return {"category": category, "tag": tag}

    return _profile_change(request, session, account, "crm.tag.add", work)


@router.post("/members/{platform}/{member_id}/tags/remove")
async def remove_tag(request: Request, platform: str, member_id: str) -> Response:
    session, account, linked, form = await _member_change(
        request, platform, member_id, Action.EDIT_MEMBERS
    )
    c = console(request)
    owner = (str(form.get("platform", platform)), str(form.get("member_id", member_id)))
    if owner not in linked:
        raise HTTPException(404, "no such member")
    category, tag = str(form.get("category", "")), str(form.get("tag", ""))
    with c.store.engine.begin() as conn:
        if tags.remove_tag(conn, owner, category, tag):
            _audit_member(
                conn,
                request,
                session,
                account,
                "crm.tag.remove",
                f"{owner[0]}:{owner[1]}",
                before={"category": category, "tag": tag},
            )
    return _back(account, "saved")


@router.post("/members/{platform}/{member_id}/notes")
async def add_note(request: Request, platform: str, member_id: str) -> Response:
    session, account, _, form = await _member_change(
        request, platform, member_id, Action.EDIT_MEMBERS
    )
    c = console(request)
    text = str(form.get("text", ""))

    def work(conn: Connection) -> Any:
        nid = tags.add_note(conn, account, text, by=session.user.name, now=c.clock())
        return {"note": nid, "text": text.strip()[:200]}

    return _profile_change(request, session, account, "crm.note.add", work)


@router.post("/members/{platform}/{member_id}/link")
async def link_member(request: Request, platform: str, member_id: str) -> Response:
    session, account, _, form = await _member_change(
        request, platform, member_id, Action.EDIT_MEMBERS
    )
    c = console(request)
    other_raw = str(form.get("other", "")).strip()
    other = _parse_account(other_raw) or ("", "")
    lang = lang_of(request)

    def work(conn: Connection) -> Any:
        # linking needs edit rights over both accounts: otherwise it would reveal one
        if not _visible(conn, session.user, other, Action.EDIT_MEMBERS):
            raise ValueError(t("crm.error.no_such_account", lang=lang, account=other_raw))
        pid = identities.link(conn, account, other, by=session.user.name, now=c.clock())
        return {"profile": pid, "linked": other_raw}

    return _profile_change(request, session, account, "crm.identity.link", work, done="linked")


@router.post("/members/{platform}/{member_id}/unlink")
async def unlink_member(request: Request, platform: str, member_id: str) -> Response:
    session, account, linked, form = await _member_change(
        request, platform, member_id, Action.EDIT_MEMBERS
    )
    c = console(request)
    target = _parse_account(str(form.get("account", ""))) or account
    if target not in linked:
        raise HTTPException(404, "no such member")
    with c.store.engine.begin() as conn:
        left = identities.unlink(conn, target)
        _audit_member(
            conn,
            request,
            session,
            account,
            "crm.identity.unlink",
            f"{target[0]}:{target[1]}",
            before={"linked": [f"{p}:{m}" for p, m in left]},
        )
    return _back(account, "unlinked")


@router.post("/members/{platform}/{member_id}/orders")
async def member_order(request: Request, platform: str, member_id: str) -> Response:
    session, account, _, form = await _member_change(
        request, platform, member_id, Action.RECORD_ORDERS
    )
    try:
        _record(request, session, _order_input(form, console(request).clock(), account), "manual")
    except orders.OrderError as e:
        return member_page(request, platform, member_id, error=str(e))
    return _back(account, "saved")
