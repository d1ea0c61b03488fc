"""Group templates (复制): a well-run group's settings, FAQ bank and content plans, by name.

Saving copies the group's settings as they stand (the file's table with the console's
overrides on top), the entries of its database FAQ bank (a file bank stays a path in
the settings) and the content plans that name the group. Applying gives each target
group those settings as its console overrides, a copy of the bank of its own
(``<template> · <platform>:<group>``) and copies of the plans (through
:func:`shequn.features.content.create_plan`); a plan already copied to the group by
name is not copied twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, delete, select

from shequn.botconfig import merge_docs
from shequn.features.content import PlanInput, create_plan
from shequn.features.content.plans import targets
from shequn.features.faq import banks_db
from shequn.features.faq.bank import FaqEntry
from shequn.groupsettings.layers import layers_of, save_doc
from shequn.store import schema

__all__ = [
    "Applied",
    "TemplateError",
    "apply_template",
    "delete_template",
    "describe",
    "entry_dict",
    "list_templates",
    "save_template",
    "template_by_name",
]

GroupKey = tuple[str, str]
_PLAN_FIELDS = ("name", "text", "kind", "at_local", "weekdays", "window_start", "window_end",
                "days", "timezone", "jitter", "image_url", "link")  # fmt: skip


class TemplateError(ValueError):
    """A template that cannot be saved or applied (the message says why)."""


@dataclass(frozen=True, slots=True)
class Applied:
    group: GroupKey
    bank: str | None  # the bank made for the group, if the template has one
    plans: int  # content plans copied


def template_by_name(conn: Connection, name: str) -> Row[Any] | None:
    t = schema.group_templates
    return conn.execute(select(t).where(t.c.name == name)).first()


def list_templates(conn: Connection) -> list[Row[Any]]:
    t = schema.group_templates
    return list(conn.execute(select(t).order_by(t.c.name)).all())


def _plans_of(conn: Connection, key: GroupKey) -> list[dict[str, Any]]:
    p, pg = schema.content_plans, schema.content_plan_groups
    ids = select(pg.c.plan_id).where(pg.c.platform == key[0], pg.c.group_id == key[1])
    out = []
    for row in conn.execute(select(p).where(p.c.id.in_(ids)).order_by(p.c.id)):
        if key not in targets(conn, row):
            continue
        plan = {f: getattr(row, f) for f in _PLAN_FIELDS}
        if row.kind != "once":
            plan["at_local"] = ""
        out.append(plan)
    return out


def save_template(conn: Connection, name: str, key: GroupKey, *, by: str, now: float) -> int:
    """Save ``key``'s settings, FAQ bank and content plans as template ``name``."""
    name = name.strip()
    if not name or len(name) > 128:
        raise TemplateError("a template needs a name of at most 128 characters")
    if template_by_name(conn, name) is not None:
        raise TemplateError(f"a template named {name!r} exists already")
    lay = layers_of(conn, key)
    doc = merge_docs(lay.toml, lay.doc)
    faq: list[dict[str, Any]] | None = None
    bank = str(doc.get("faq", {}).get("bank", "")) if isinstance(doc.get("faq"), dict) else ""
    if bank.startswith(banks_db.PREFIX):
        row = banks_db.bank_by_name(conn, bank[len(banks_db.PREFIX) :])
        if row is not None:
            faq = [entry_dict(e) for e in banks_db.entries(conn, row.id)]
    t = schema.group_templates
    tid = conn.execute(
        t.insert().values(
            name=name, doc=json.dumps(doc, ensure_ascii=False, sort_keys=True),
            faq=None if faq is None else json.dumps(faq, ensure_ascii=False),
            plans=json.dumps(_plans_of(conn, key), ensure_ascii=False),
            source_platform=key[0], source_group_id=key[1], created_at=now, created_by=by,
        )
    ).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip
    return int(tid)


def entry_dict(e: FaqEntry) -> dict[str, Any]:
    d = {k: getattr(e, k) for k in ("id", "question", "answer", "image", "link")}
    d["variants"], d["keywords"] = list(e.variants), list(e.keywords)
    return d


def _plan_names(conn: Connection, key: GroupKey) -> set[str]:
    p, pg = schema.content_plans, schema.content_plan_groups
    q = (
        select(p.c.name)
        .join(pg, pg.c.plan_id == p.c.id)
        .where(pg.c.platform == key[0], pg.c.group_id == key[1])
    )
    return {r.name for r in conn.execute(q)}


def apply_template(
    conn: Connection, template_id: int, groups: list[GroupKey], *, by: str, now: float
) -> list[Applied]:
    """Give each of ``groups`` the template's settings, a copy of its bank and its plans.

    All or nothing in the caller's transaction: the first group whose settings do not
    validate raises :class:`~shequn.botconfig.ConfigError` and nothing is kept.
    """
    t = schema.group_templates
    tpl = conn.execute(select(t).where(t.c.id == template_id)).first()
    if tpl is None:
        raise TemplateError("no such template")
    if not groups:
        raise TemplateError("choose at least one group")
    faq = None if tpl.faq is None else json.loads(tpl.faq)
    plans = json.loads(tpl.plans)
    out = []
    for key in groups:
        doc = json.loads(tpl.doc)
        bank_name = None
        if faq is not None:
            bank_name = f"{tpl.name} · {key[0]}:{key[1]}"[:128]
            found = banks_db.bank_by_name(conn, bank_name)
            bank_id = (
                found.id
                if found is not None
                else banks_db.create_bank(conn, bank_name, now=now, group=key)
            )
            entries = [
                FaqEntry(
                    **{**e, "variants": tuple(e["variants"]), "keywords": tuple(e["keywords"])}
                )
                for e in faq
            ]
            banks_db.replace_entries(conn, bank_id, entries, now=now)
            doc = merge_docs(doc, {"faq": {"bank": banks_db.PREFIX + bank_name}})
        # The template holds the source's whole settings: the target's file table is
        # validated under it, and the console layer then carries all of them.
        save_doc(conn, key, doc, by=by, now=now)
        have = _plan_names(conn, key)
        copied = 0
        for plan in plans:
            if plan["name"] in have:
                continue
            create_plan(conn, PlanInput(**plan, groups=(key,)), by=by, now=now)
            copied += 1
        out.append(Applied(key, bank_name, copied))
    return out


def delete_template(conn: Connection, template_id: int) -> bool:
    t = schema.group_templates
    return bool(conn.execute(delete(t).where(t.c.id == template_id)).rowcount)


def describe(row: Row[Any]) -> dict[str, Any]:
    """What a template holds, for lists and audit rows."""
    return {
        "name": row.name,
        "settings": json.loads(row.doc),
        "faq_entries": None if row.faq is None else len(json.loads(row.faq)),
        "plans": [p["name"] for p in json.loads(row.plans)],
        "source": f"{row.source_platform}:{row.source_group_id}",
    }
