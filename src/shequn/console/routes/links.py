"""The public redirect of tracked links (``/l/<code>``): count the visit, send the visitor on.

No sign-in (members click it in a chat group); an unknown code is a plain 404 page.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from shequn.console.context import console
from shequn.features.content.links import click

router = APIRouter()


@router.get("/l/{code}", include_in_schema=False)
def follow(request: Request, code: str) -> Response:
    c = console(request)
    with c.store.engine.begin() as conn:
        target = click(conn, code, c.clock())
    if target is None:
        raise HTTPException(404, "no such link")
    return RedirectResponse(target, status_code=302)
