"""Sign-in, sign-out, the one-time owner setup, and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import update

from shequn import i18n
from shequn.console import audit, auth, csrf
from shequn.console.access import Role
from shequn.console.context import (
    SESSION_COOKIE,
    client_ip,
    console,
    current,
    render,
    require,
)
from shequn.store import schema

router = APIRouter()


def _safe_next(target: str | None) -> str:
    # only paths on this site: "//evil.example" and "https://..." would leave it
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _pre_form(request: Request, template: str, status: int = 200, **ctx: object) -> Response:
    token = request.cookies.get(csrf.PRE_COOKIE) or csrf.new_token()
    response = render(request, template, status_code=status, csrf=token, **ctx)
    c = console(request)
    response.set_cookie(
        csrf.PRE_COOKIE, token, httponly=True, samesite="strict", secure=c.secure_cookies,
        path="/",
    )  # fmt: skip
    return response


def _signed_in(request: Request, user_id: int, target: str) -> Response:
    c = console(request)
    with c.store.engine.begin() as conn:
        token, _ = auth.open_session(
            conn, user_id, ip=client_ip(request), now=c.clock(), ttl=c.session_ttl
        )
    response = RedirectResponse(_safe_next(target), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=int(c.session_ttl), httponly=True, samesite="lax",
        secure=c.secure_cookies, path="/",
    )  # fmt: skip
    response.delete_cookie(csrf.PRE_COOKIE, path="/")
    return response


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    if current(request):
        return RedirectResponse(_safe_next(next), status_code=303)
    c = console(request)
    with c.store.engine.connect() as conn:
        no_users = auth.user_count(conn) == 0
    return _pre_form(request, "login.html", next=_safe_next(next), error=None, no_users=no_users)


@router.post("/login")
def login_submit(
    request: Request,
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    c = console(request)
    result = auth.log_in(c.store, name, password, ip=client_ip(request), now=c.clock())
    if result.outcome is auth.LoginOutcome.OK and result.user:
        return _signed_in(request, result.user.id, next)
    limited = result.outcome is auth.LoginOutcome.LIMITED
    error = "console.login.limited" if limited else "console.login.bad"
    return _pre_form(
        request, "login.html", status=429 if limited else 401, next=_safe_next(next),
        error=error, no_users=False,
    )  # fmt: skip


@router.post("/logout")
def logout(request: Request) -> Response:
    session = require(request)
    c = console(request)
    with c.store.engine.begin() as conn:
        auth.close_session(conn, session.token)
        audit.record(conn, actor=session.user, action="logout", target=session.user.name,
                     ip=client_ip(request), now=c.clock())  # fmt: skip
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/setup")
def setup_page(request: Request, token: str = "") -> Response:
    c = console(request)
    with c.store.engine.connect() as conn:
        if auth.user_count(conn) or not c.check_setup_token(token):
            raise HTTPException(404, "no setup pending (or a wrong link)")
    return _pre_form(request, "setup.html", token=token, error=None)


@router.post("/setup")
def setup_submit(
    request: Request,
    token: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    c = console(request)
    now = c.clock()
    with c.store.engine.begin() as conn:
        if auth.user_count(conn) or not c.check_setup_token(token):
            raise HTTPException(404, "no setup pending (or a wrong link)")
        try:
            uid = auth.create_user(conn, name, Role.OWNER, password, now=now)
        except auth.AccountError as e:
            return _pre_form(request, "setup.html", status=400, token=token, error=str(e))
        owner = auth.load_user(conn, uid)
        audit.record(conn, actor=owner, action="user.create", target=name, now=now,
                     after={"role": "owner", "via": "setup"}, ip=client_ip(request))  # fmt: skip
    c.setup_token = None  # one time only
    return _signed_in(request, uid, "/")


@router.post("/settings/lang")
def set_lang(
    request: Request, lang: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/"
) -> Response:
    session = require(request)
    if lang not in i18n.LANGS:
        raise HTTPException(400, "lang must be zh or en")
    c = console(request)
    u = schema.console_users
    with c.store.engine.begin() as conn:
        conn.execute(update(u).where(u.c.id == session.user.id).values(lang=lang))
        audit.record(conn, actor=session.user, action="user.lang", target=session.user.name,
                     before={"lang": session.user.lang}, after={"lang": lang},
                     ip=client_ip(request), now=c.clock())  # fmt: skip
    return RedirectResponse(_safe_next(next), status_code=303)
