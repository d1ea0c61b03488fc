"""The console audit log page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from shequn.console import audit
from shequn.console.access import Action
from shequn.console.context import console, render, require

router = APIRouter()

PAGE = 100


@router.get("/audit")
def audit_page(request: Request, page: int = 0) -> Response:
    session = require(request, Action.VIEW_AUDIT)
    c = console(request)
    page = max(page, 0)
    with c.store.engine.connect() as conn:
        rows = audit.visible_rows(conn, session.user, limit=PAGE + 1, offset=page * PAGE)
    return render(request, "audit.html", rows=rows[:PAGE], page=page, more=len(rows) > PAGE)
