"""Per-app state and per-request helpers: the signed-in user, the language, rendering."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from shequn import i18n
from shequn.console import auth
from shequn.console.access import Action, User, can, can_somewhere
from shequn.console.portfolio import HealthCache
from shequn.platforms.port import Platform
from shequn.store import Store

__all__ = [
    "SESSION_COOKIE",
    "Console",
    "Session",
    "console",
    "current",
    "lang_of",
    "render",
    "require",
]

SESSION_COOKIE = "shequn_session"
_TEMPLATES = Path(__file__).with_name("templates")
_UNSET = object()


@dataclass
class Console:
    """What the routes share: the archive, live platforms, the clock, the templates."""

    store: Store
    platforms: Mapping[str, Platform] = field(default_factory=dict)
    clock: Callable[[], float] = time.time
    setup_token: str | None = None
    secure_cookies: bool = False
    session_ttl: float = auth.SESSION_TTL
    health: HealthCache = field(default_factory=HealthCache)
    env: Environment = field(init=False)

    def __post_init__(self) -> None:
        # autoescape everywhere: member names and message texts are hostile input
        self.env = Environment(
            loader=FileSystemLoader(_TEMPLATES),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["dt"] = _fmt_ts

    def check_setup_token(self, token: str | None) -> bool:
        return bool(self.setup_token and token) and secrets.compare_digest(
            str(self.setup_token), str(token)
        )


def _fmt_ts(ts: float | None) -> str:
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    csrf: str
    token: str


def console(request: Request) -> Console:
    found: Console = request.app.state.console
    return found


def current(request: Request) -> Session | None:
    """The request's live session (looked up once per request), or None."""
    cached = getattr(request.state, "session", _UNSET)
    if cached is not _UNSET:
        return cast("Session | None", cached)
    token = request.cookies.get(SESSION_COOKIE)
    c = console(request)
    found = auth.session_user(c.store, token, now=c.clock())
    session = Session(found[0], found[1], token or "") if found else None
    request.state.session = session
    return session


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def _accept_language(header: str) -> str | None:
    best: tuple[float, str] | None = None
    for part in header.split(","):
        bits = part.strip().split(";")
        tag = bits[0].strip().lower()
        q = 1.0
        for b in bits[1:]:
            if b.strip().startswith("q="):
                try:
                    q = float(b.strip()[2:])
                except ValueError:
                    q = 0.0
        lang = "zh" if tag.startswith("zh") else "en" if tag.startswith("en") else None
        if lang and q > 0 and (best is None or q > best[0]):
            best = (q, lang)
    return best[1] if best else None


def lang_of(request: Request) -> str:
    """``?lang=`` wins, then the user's setting, then Accept-Language, then English."""
    asked = request.query_params.get("lang")
    if asked in i18n.LANGS:
        return asked
    session = current(request)
    if session and session.user.lang in i18n.LANGS:
        return str(session.user.lang)
    return _accept_language(request.headers.get("accept-language", "")) or "en"


def require(
    request: Request, action: Action | None = None, group: tuple[str, str] | None = None
) -> Session:
    """The session, or 303 to the sign-in page; 403 when ``action`` is not allowed."""
    session = current(request)
    if session is None:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        raise HTTPException(303, headers={"Location": f"/login?next={_quote(target)}"})
    if action is not None and not can(session.user, action, group):
        raise HTTPException(403, "not allowed")
    return session


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="")


def render(request: Request, name: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
    """Render template ``name`` with the language, user, CSRF token and ``t``."""
    c = console(request)
    lang = lang_of(request)
    session = current(request)

    def t(key: str, **params: object) -> str:
        return i18n.t(key, lang=lang, **params)

    base = {
        "lang": lang,
        "t": t,
        "user": session.user if session else None,
        "csrf": ctx.pop("csrf", None) or (session.csrf if session else ""),
        "can": lambda action, group=None: (
            session is not None and can(session.user, Action(action), group)
        ),
        # menus: may the user take the action on some group of theirs?
        "can_somewhere": lambda action: (
            session is not None and can_somewhere(session.user, Action(action))
        ),
        "path": request.url.path,
    }
    html = c.env.get_template(name).render(**base, **ctx)
    return HTMLResponse(html, status_code=status_code)
