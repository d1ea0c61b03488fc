"""Group settings (群设置), group templates (复制) and FAQ banks, edited in the console.

Seeing a group's settings needs ``view_group``; changing them, saving a template from
a group or applying one to a group needs ``edit_rules`` on that group (and
``send_mass`` too when the template carries content plans, as creating a plan does).
A FAQ bank is seen with ``view_group`` and edited with ``edit_rules`` on every group
that shares it. Every change writes its audit row in the same transaction.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection, Row, select
from starlette.datastructures import UploadFile

from shequn.botconfig import ConfigError, layered_settings, source_of
from shequn.console import audit
from shequn.console.access import Action, User, can
from shequn.console.context import client_ip, console, render, require
from shequn.features.faq import banks_db
from shequn.features.faq.bank import FaqBankError, FaqEntry
from shequn.groupsettings import layers as glayers
from shequn.groupsettings import templates as gtemplates
from shequn.groupsettings.form import EXTRA, FIELDS, doc_from_form, extra_of, shown
from shequn.store import schema

router = APIRouter()

GroupKey = tuple[str, str]


def _may(user: User, action: Action, groups: list[GroupKey]) -> bool:
    return bool(groups) and all(can(user, action, k) for k in groups)


def _group(request: Request, conn: Connection, group_id: int) -> tuple[Row[Any], GroupKey]:
    g = schema.groups
    row = conn.execute(select(g).where(g.c.id == group_id)).first()
    session = require(request)
    # an unknown group and a group out of reach look the same: no probing
    if row is None or not can(session.user, Action.VIEW_GROUP, (row.platform, row.platform_id)):
        raise HTTPException(404, "no such group")
    return row, (row.platform, row.platform_id)


def _groups(conn: Connection) -> list[Row[Any]]:
    g = schema.groups
    return list(conn.execute(select(g).order_by(g.c.platform, g.c.name)).all())


# -- the group's settings ------------------------------------------------------------


def _settings_page(
    request: Request,
    conn: Connection,
    row: Row[Any],
    key: GroupKey,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    msg: str = "",
    status_code: int = 200,
) -> Response:
    lay = glayers.layers_of(conn, key)
    try:
        settings = layered_settings(lay.doc, lay.toml)
    except ConfigError:  # the file changed under the overrides: show the file's
        settings = layered_settings({}, lay.toml)
    template = str(lay.doc.get("template") or lay.toml.get("template") or "default")
    fields = []
    for f in FIELDS:
        value = shown(settings, f, template)
        fields.append({
            "f": f, "name": f.name, "value": form[f.name] if form and f.name in form else value,
            "source": source_of(f.name, lay.doc, lay.toml),
            "error": (errors or {}).get(f.name, ""), "id": "f-" + f.name.replace(".", "-"),
        })  # fmt: skip
    extra = (form or {}).get(EXTRA)
    if extra is None:
        rest = extra_of(lay.doc)
        extra = json.dumps(rest, ensure_ascii=False, indent=2) if rest else ""
    banks = [b.name for b in banks_db.list_banks(conn)]
    return render(
        request, "settings.html", status_code=status_code, group=row, key=key, fields=fields,
        extra=extra, extra_error=(errors or {}).get(EXTRA, ""), banks=banks, layers=lay,
        msg=msg, sections=("general", "gate", "moderation", "faq", "checkin"),
    )  # fmt: skip


@router.get("/groups/{group_id}/settings")
def settings_page(request: Request, group_id: int, msg: str = "") -> Response:
    c = console(request)
    with c.store.engine.connect() as conn:
        row, key = _group(request, conn, group_id)
        return _settings_page(request, conn, row, key, msg=msg)


@router.post("/groups/{group_id}/settings")
async def settings_save(request: Request, group_id: int) -> Response:
    c = console(request)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    with c.store.engine.begin() as conn:
        row, key = _group(request, conn, group_id)
        session = require(request, Action.EDIT_RULES, key)
        lay = glayers.layers_of(conn, key)
        result = doc_from_form(form, lay.toml)
        if result.errors:
            return _settings_page(
                request, conn, row, key, form=form, errors=result.errors, status_code=400
            )
        glayers.save_doc(conn, key, result.doc, by=session.user.name, now=c.clock())
        audit.record(
            conn, actor=session.user, action="settings.edit", now=c.clock(),
            target=f"group:{group_id}", group=key, before=lay.doc, after=result.doc,
            ip=client_ip(request),
        )  # fmt: skip
    return RedirectResponse(f"/groups/{group_id}/settings?msg=saved", status_code=303)


# -- group templates (复制) -----------------------------------------------------------


@router.get("/templates")
def templates_page(request: Request, msg: str = "", error: str = "") -> Response:
    session = require(request)
    user = session.user
    c = console(request)
    with c.store.engine.connect() as conn:
        groups = [
            g for g in _groups(conn) if can(user, Action.VIEW_GROUP, (g.platform, g.platform_id))
        ]
        editable = [g for g in groups if can(user, Action.EDIT_RULES, (g.platform, g.platform_id))]
        rows = [
            r for r in gtemplates.list_templates(conn)
            if can(user, Action.VIEW_GROUP, (r.source_platform, r.source_group_id))
        ]  # fmt: skip
        names = {(g.platform, g.platform_id): g.name or g.platform_id for g in groups}
        templates = [
            {"row": r, "about": gtemplates.describe(r),
             "settings_json": json.dumps(json.loads(r.doc), ensure_ascii=False),
             "source": names.get((r.source_platform, r.source_group_id), r.source_group_id),
             "may_delete": can(user, Action.EDIT_RULES, (r.source_platform, r.source_group_id))}
            for r in rows
        ]  # fmt: skip
    return render(
        request, "templates.html", templates=templates, editable=editable, msg=msg, error=error
    )


def _group_by_id(conn: Connection, group_id: str) -> Row[Any] | None:
    if not group_id.isdigit():
        return None
    g = schema.groups
    return conn.execute(select(g).where(g.c.id == int(group_id))).first()


@router.post("/templates")
async def template_save(request: Request) -> Response:
    session = require(request)
    c = console(request)
    form = await request.form()
    name, gid = str(form.get("name", "")), str(form.get("group", ""))
    with c.store.engine.begin() as conn:
        g = _group_by_id(conn, gid)
        key = (g.platform, g.platform_id) if g is not None else ("", "")
        if g is None or not can(session.user, Action.EDIT_RULES, key):
            raise HTTPException(403, "not allowed")
        try:
            tid = gtemplates.save_template(conn, name, key, by=session.user.name, now=c.clock())
        except gtemplates.TemplateError as e:
            return RedirectResponse(f"/templates?error={_q(str(e))}", status_code=303)
        tpl = conn.execute(
            select(schema.group_templates).where(schema.group_templates.c.id == tid)
        ).one()
        audit.record(
            conn, actor=session.user, action="template.save", now=c.clock(),
            target=f"template:{tid}", group=key, after=gtemplates.describe(tpl),
            ip=client_ip(request),
        )  # fmt: skip
    return RedirectResponse("/templates?msg=saved", status_code=303)


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text[:300], safe="")


@router.post("/templates/{template_id}/apply")
async def template_apply(request: Request, template_id: int) -> Response:
    session = require(request)
    c = console(request)
    form = await request.form()
    chosen = [str(v) for v in form.getlist("groups")]
    with c.store.engine.begin() as conn:
        t = schema.group_templates
        tpl = conn.execute(select(t).where(t.c.id == template_id)).first()
        if tpl is None or not can(
            session.user, Action.VIEW_GROUP, (tpl.source_platform, tpl.source_group_id)
        ):
            raise HTTPException(404, "no such template")
        rows = [r for r in (_group_by_id(conn, v) for v in chosen) if r is not None]
        keys = [(r.platform, r.platform_id) for r in rows]
        needs = [Action.EDIT_RULES] + ([Action.SEND_MASS] if json.loads(tpl.plans) else [])
        if not all(_may(session.user, a, keys) for a in needs):
            if not keys:
                return RedirectResponse(
                    f"/templates?error={_q('choose at least one group')}", status_code=303
                )
            raise HTTPException(403, "not allowed")
        before = {k: glayers.layers_of(conn, k).doc for k in keys}
        try:
            applied = gtemplates.apply_template(
                conn, template_id, keys, by=session.user.name, now=c.clock()
            )
        except (ConfigError, gtemplates.TemplateError, FaqBankError, ValueError) as e:
            conn.rollback()
            return RedirectResponse(f"/templates?error={_q(str(e))}", status_code=303)
        for a in applied:
            audit.record(
                conn, actor=session.user, action="template.apply", now=c.clock(),
                target=f"template:{template_id}", group=a.group, before=before[a.group],
                after={"template": tpl.name, "settings": glayers.layers_of(conn, a.group).doc,
                       "bank": a.bank, "plans": a.plans},
                ip=client_ip(request),
            )  # fmt: skip
    return RedirectResponse(f"/templates?msg=applied&n={len(applied)}", status_code=303)


@router.post("/templates/{template_id}/delete")
def template_delete(request: Request, template_id: int) -> Response:
    session = require(request)
    c = console(request)
    with c.store.engine.begin() as conn:
        t = schema.group_templates
        tpl = conn.execute(select(t).where(t.c.id == template_id)).first()
        if tpl is None:
            raise HTTPException(404, "no such template")
        key = (tpl.source_platform, tpl.source_group_id)
        require(request, Action.EDIT_RULES, key)
        gtemplates.delete_template(conn, template_id)
        audit.record(
            conn, actor=session.user, action="template.delete", now=c.clock(),
            target=f"template:{template_id}", group=key, before=gtemplates.describe(tpl),
            ip=client_ip(request),
        )  # fmt: skip
    return RedirectResponse("/templates?msg=deleted", status_code=303)


# -- FAQ banks ----------------------------------------------------------------------------


def _sets(conn: Connection) -> list[Row[Any]]:
    gs = schema.console_group_sets
    return list(conn.execute(select(gs).order_by(gs.c.name)).all())


def _set_groups(conn: Connection, set_id: int) -> list[GroupKey]:
    m = schema.console_group_set_members
    q = select(m.c.platform, m.c.group_id).where(m.c.group_set_id == set_id)
    return sorted({(r.platform, r.group_id) for r in conn.execute(q)})


def _bank(request: Request, conn: Connection, bank_id: int, action: Action) -> Row[Any]:
    b = schema.faq_banks
    row = conn.execute(select(b).where(b.c.id == bank_id)).first()
    session = require(request)
    if row is None or not _may(session.user, Action.VIEW_GROUP, banks_db.bank_groups(conn, row)):
        raise HTTPException(404, "no such bank")
    if not _may(session.user, action, banks_db.bank_groups(conn, row)):
        raise HTTPException(403, "not allowed")
    return row


@router.get("/settings/faq")
def banks_page(request: Request, msg: str = "", error: str = "") -> Response:
    session = require(request)
    user = session.user
    c = console(request)
    with c.store.engine.connect() as conn:
        banks = []
        for b in banks_db.list_banks(conn):
            shared = banks_db.bank_groups(conn, b)
            if _may(user, Action.VIEW_GROUP, shared):
                banks.append({"row": b, "groups": shared})
        sets = [s for s in _sets(conn) if _may(user, Action.EDIT_RULES, _set_groups(conn, s.id))]
        groups = [
            g for g in _groups(conn) if can(user, Action.EDIT_RULES, (g.platform, g.platform_id))
        ]
    return render(
        request, "settings_banks.html", banks=banks, sets=sets, groups=groups, msg=msg,
        error=error,
    )  # fmt: skip


@router.post("/settings/faq")
async def bank_create(request: Request) -> Response:
    session = require(request)
    c = console(request)
    form = await request.form()
    name, scope = str(form.get("name", "")), str(form.get("scope", ""))
    with c.store.engine.begin() as conn:
        kind, _, ident = scope.partition(":")
        set_id, group, keys = None, None, []
        if kind == "set" and ident.isdigit():
            set_id, keys = int(ident), _set_groups(conn, int(ident))
        elif kind == "group" and (g := _group_by_id(conn, ident)) is not None:
            group = (g.platform, g.platform_id)
            keys = [group]
        if not _may(session.user, Action.EDIT_RULES, keys):
            raise HTTPException(403, "not allowed")
        try:
            bid = banks_db.create_bank(conn, name, now=c.clock(), group_set_id=set_id, group=group)
        except FaqBankError as e:
            return RedirectResponse(f"/settings/faq?error={_q(str(e))}", status_code=303)
        audit.record(
            conn, actor=session.user, action="faq_bank.create", now=c.clock(),
            target=f"faq_bank:{bid}", group=group, after={"name": name, "scope": scope},
            ip=client_ip(request),
        )  # fmt: skip
    return RedirectResponse(f"/settings/faq/{bid}", status_code=303)


@router.get("/settings/faq/{bank_id}")
def bank_page(
    request: Request, bank_id: int, msg: str = "", error: str = "", edit: str = ""
) -> Response:
    c = console(request)
    with c.store.engine.connect() as conn:
        bank = _bank(request, conn, bank_id, Action.VIEW_GROUP)
        items = banks_db.entries(conn, bank_id)
        groups = banks_db.bank_groups(conn, bank)
    editing = next((e for e in items if e.id == edit), None)
    editable = _may(require(request).user, Action.EDIT_RULES, groups)
    return render(
        request, "settings_bank.html", bank=bank, entries=items, groups=groups, msg=msg,
        error=error, editing=editing, editable=editable,
    )  # fmt: skip


def _lines(value: Any) -> tuple[str, ...]:
    return tuple(x.strip() for x in str(value or "").splitlines() if x.strip())


@router.post("/settings/faq/{bank_id}/entries")
async def entry_save(request: Request, bank_id: int) -> Response:
    session = require(request)
    c = console(request)
    form = await request.form()
    entry = FaqEntry(
        id=str(form.get("id", "")).strip(), question=str(form.get("question", "")).strip(),
        answer=str(form.get("answer", "")).strip().replace("\r\n", "\n"),
        variants=_lines(form.get("variants")), keywords=_lines(form.get("keywords")),
        image=str(form.get("image", "")).strip(), link=str(form.get("link", "")).strip(),
    )  # fmt: skip
    old = str(form.get("old_id", "")) or None
    with c.store.engine.begin() as conn:
        bank = _bank(request, conn, bank_id, Action.EDIT_RULES)
        try:
            banks_db.put_entry(conn, bank_id, entry, now=c.clock(), old_key=old)
        except FaqBankError as e:
            conn.rollback()
            return RedirectResponse(
                f"/settings/faq/{bank_id}?error={_q(str(e))}#entry-form", status_code=303
            )
        audit.record(
            conn, actor=session.user, action="faq_bank.entry", now=c.clock(),
            target=f"faq_bank:{bank_id}", after={"bank": bank.name, "old_id": old,
                                                 **gtemplates.entry_dict(entry)},
            ip=client_ip(request),
        )  # fmt: skip
    return RedirectResponse(f"/settings/faq/{bank_id}?msg=saved", status_code=303)


@router.post("/settings/faq/{bank_id}/entries/{entry_key}/delete")
def entry_delete(request: Request, bank_id: int, entry_key: str) -> Response:
    session = require(request)
    c = console(request)
    with c.store.engine.begin() as conn:
        bank = _bank(request, conn, bank_id, Action.EDIT_RULES)
        if not banks_db.delete_entry(conn, bank_id, entry_key, now=c.clock()):
            raise HTTPException(404, "no such entry")
        audit.record(
            conn, actor=session.user, action="faq_bank.entry_delete", now=c.clock(),
            target=f"faq_bank:{bank_id}", before={"bank": bank.name, "id": entry_key},
            ip=client_ip(request),
        )  # fmt: skip
    return RedirectResponse(f"/settings/faq/{bank_id}?msg=deleted", status_code=303)


@router.post("/settings/faq/{bank_id}/import")
async def bank_import(request: Request, bank_id: int) -> Response:
    session = require(request)
    c = console(request)
    form = await request.form()
    upload = form.get("file")
    merge = form.get("merge") == "1"
    if not isinstance(upload, UploadFile) or not upload.filename:
        await form.close()
        return RedirectResponse(
            f"/settings/faq/{bank_id}?error={_q('choose a file')}", status_code=303
        )
    data = await upload.read()
    await upload.close()
    with c.store.engine.begin() as conn:
        bank = _bank(request, conn, bank_id, Action.EDIT_RULES)
        try:
            n = banks_db.import_bytes(
                conn, bank_id, upload.filename, data, now=c.clock(), merge=merge
            )
        except FaqBankError as e:
            conn.rollback()
            return RedirectResponse(f"/settings/faq/{bank_id}?error={_q(str(e))}", status_code=303)
        audit.record(
            conn, actor=session.user, action="faq_bank.import", now=c.clock(),
            target=f"faq_bank:{bank_id}",
            after={"bank": bank.name, "file": upload.filename, "entries": n, "merge": merge},
            ip=client_ip(request),
        )  # fmt: skip
    return RedirectResponse(f"/settings/faq/{bank_id}?msg=imported", status_code=303)


@router.get("/settings/faq/{bank_id}/export.{fmt}")
def bank_export(request: Request, bank_id: int, fmt: str) -> Response:
    c = console(request)
    with c.store.engine.connect() as conn:
        bank = _bank(request, conn, bank_id, Action.VIEW_GROUP)
        if fmt == "csv":
            body: str | bytes = "\ufeff" + banks_db.export_csv(conn, bank_id)
            media = "text/csv; charset=utf-8"
        elif fmt == "xlsx":
            body = banks_db.export_xlsx(conn, bank_id)
            media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            raise HTTPException(404, "unknown format")
    filename = _q(f"{bank.name}.{fmt}")
    return Response(
        body, media_type=media,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"},
    )  # fmt: skip


@router.post("/settings/faq/{bank_id}/delete")
def bank_delete(request: Request, bank_id: int) -> Response:
    session = require(request)
    c = console(request)
    with c.store.engine.begin() as conn:
        bank = _bank(request, conn, bank_id, Action.EDIT_RULES)
        count = len(banks_db.entries(conn, bank_id))
        banks_db.delete_bank(conn, bank_id)
        audit.record(
            conn, actor=session.user, action="faq_bank.delete", now=c.clock(),
            target=f"faq_bank:{bank_id}", before={"name": bank.name, "entries": count},
            ip=client_ip(request),
        )  # fmt: skip
    return RedirectResponse("/settings/faq?msg=deleted", status_code=303)
