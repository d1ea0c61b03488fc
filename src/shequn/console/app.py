"""The console's FastAPI app: :func:`create_app` wires state, CSRF, headers and pages."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from shequn.console import auth, csrf
from shequn.console.context import Console, render
from shequn.console.routes import (
    apidocs,
    audit_log,
    blocklist,
    content,
    groups,
    invites,
    layers,
    links,
    login,
    members,
    reviews,
    search,
    settings,
    users,
)
from shequn.platforms.port import Platform
from shequn.store import Store

__all__ = ["create_app"]

_STATIC = Path(__file__).with_name("static")

# 'self' only: htmx and the CSS are served from /static, nothing inline, no CDN.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def create_app(
    store: Store,
    *,
    platforms: Mapping[str, Platform] | None = None,
    clock: Callable[[], float] = time.time,
    setup_token: str | None = None,
    secure_cookies: bool = False,
    session_ttl: float = auth.SESSION_TTL,
) -> FastAPI:
    """The console over ``store``.

    ``platforms`` are the live bot connections by platform name (undo calls them);
    a platform missing there turns an undo into a task for a human. ``setup_token``
    enables the one-time ``/setup`` page that creates the owner when there is none.
    ``secure_cookies`` marks cookies Secure (serve over HTTPS when it is set).
    """
    app = FastAPI(
        title="shequn console",
        dependencies=[Depends(csrf.protect)],
        docs_url=None,  # the stock page loads Swagger from a CDN: routes/apidocs.py instead
        redoc_url=None,
        openapi_url=None,  # served by routes/apidocs.py, to signed-in users only
    )
    app.state.console = Console(
        store=store,
        platforms=dict(platforms or {}),
        clock=clock,
        setup_token=setup_token,
        secure_cookies=secure_cookies,
        session_ttl=session_ttl,
    )

    @app.middleware("http")
    async def _headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", _CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 303 and exc.headers:
            return RedirectResponse(exc.headers["Location"], status_code=303)
        return render(
            request, "error.html", status_code=exc.status_code, status=exc.status_code,
            detail=str(exc.detail),
        )  # fmt: skip

    # the report's vendored ECharts, served as is (one copy in the package); before /static
    app.mount(
        "/static/report", StaticFiles(directory=_STATIC.parent.parent / "report" / "static"),
        name="report-static",
    )  # fmt: skip
    app.mount("/static", StaticFiles(directory=_STATIC), name="static")
    for module in (
        login, groups, audit_log, users, content, settings, invites, members, reviews, search,
        layers, apidocs, links, blocklist,
    ):  # fmt: skip
        app.include_router(module.router)
    return app
