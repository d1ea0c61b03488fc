"""Layers in action: each layer's playbook action suggested to operators, one click to carry out.

Seeing the suggestions needs ``view_members`` (they name members); carrying them out
needs ``edit_rules`` (managers and owners). A carry-out plans the calls in the bot's
outbox and writes its console audit row in the same transaction, then does the calls
on the live platform (a platform the console is not connected to turns every call
into a task for a person, as undo does).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Row, select

from shequn.actions import moderation
from shequn.console import audit, changes
from shequn.console.access import Action, can
from shequn.console.context import Console, client_ip, console, render, require
from shequn.features.layers import actions
from shequn.features.layers.settings import LAYER_KEYS
from shequn.features.layers.texts import layer_name
from shequn.store import schema

router = APIRouter()


def _group(request: Request, group_id: int) -> tuple[Row[Any], tuple[str, str]]:
    session = require(request)
    g = schema.groups
    with console(request).store.engine.connect() as conn:
        row = conn.execute(select(g).where(g.c.id == group_id)).first()
    # an unknown group and a group out of reach look the same: no probing
    if row is None or not can(session.user, Action.VIEW_GROUP, (row.platform, row.platform_id)):
        raise HTTPException(404, "no such group")
    key = (row.platform, row.platform_id)
    require(request, Action.VIEW_MEMBERS, key)
    return row, key


def _settings(c: Console, key: tuple[str, str]) -> Any:
    """The group's bot settings: the bot config's when the console has it, else defaults."""
    settings_for = getattr(c, "settings_for", None)
    if settings_for is not None:
        return settings_for(*key)
    from shequn.botconfig import GroupSettings

    return GroupSettings()


def _suggestions(c: Console, key: tuple[str, str]) -> list[actions.Suggestion]:
    gs = _settings(c, key)
    with c.store.engine.connect() as conn:
        return actions.suggest(
            conn, key[0], key[1], gs.layers, lang=gs.language, now=c.clock(),
            name_format=gs.gate.name_format,
        )  # fmt: skip


@router.get("/groups/{group_id}/layers")
def layers_page(request: Request, group_id: int, msg: str = "", n: int = 0) -> Response:
    row, key = _group(request, group_id)
    c = console(request)
    gs = _settings(c, key)
    suggestions = _suggestions(c, key)
    with c.store.engine.connect() as conn:
        done = actions.outcomes(conn, key[0], key[1], gs.layers, now=c.clock())
        log = actions.changes(conn, key[0], key[1])
    return render(
        request, "layers.html", group=row, key=key, layers=actions.by_layer(suggestions),
        outcomes=done, log=log, msg=msg, n=n, days=gs.layers.actions.within_days,
        followup_days=gs.layers.actions.followup_days, layer_label=layer_name,
    )  # fmt: skip


async def _carry_out(
    request: Request, group_id: int, picked: list[actions.Suggestion], what: str
) -> Response:
    session = require(request)
    c = console(request)
    _, key = _group(request, group_id)
    require(request, Action.EDIT_RULES, key)
    platform = c.platforms.get(key[0]) or changes.offline(key[0])
    now = c.clock()
    with c.store.engine.begin() as conn:
        ids = actions.carry_out(
            conn, platform, key[1], picked, now=now, operator=f"console:{session.user.name}"
        )
        if ids:
            audit.record(
                conn, actor=session.user, action="layers.action", target=what, group=key,
                after={"members": [sg.member_id for sg in picked], "bot_actions": ids},
                ip=client_ip(request), now=now,
            )  # fmt: skip
    if ids and key[0] in c.platforms:
        await moderation.carry_out(c.store, platform, now=now, ids=ids)
    msg = "done" if ids else "none"
    return RedirectResponse(
        f"/groups/{group_id}/layers?msg={msg}&n={len(ids)}#suggestions", status_code=303
    )


@router.post("/groups/{group_id}/layers/act")
async def act(request: Request, group_id: int) -> Response:
    """Carry out one suggestion (``key``: its event key)."""
    _, key = _group(request, group_id)
    require(request, Action.EDIT_RULES, key)
    wanted = str((await request.form()).get("key", ""))
    picked = [sg for sg in _suggestions(console(request), key) if sg.key == wanted]
    return await _carry_out(request, group_id, picked, f"member:{wanted}")


@router.post("/groups/{group_id}/layers/act-layer")
async def act_layer(request: Request, group_id: int) -> Response:
    """Carry out every suggestion of one layer."""
    _, key = _group(request, group_id)
    require(request, Action.EDIT_RULES, key)
    layer = str((await request.form()).get("layer", ""))
    if layer not in LAYER_KEYS:
        raise HTTPException(400, "unknown layer")
    picked = [sg for sg in _suggestions(console(request), key) if sg.layer == layer]
    return await _carry_out(request, group_id, picked, f"layer:{layer}")
