"""CSRF protection: every state-changing request must carry the session's token.

Installed on the whole app (``FastAPI(dependencies=[Depends(protect)])``), so a new
POST route is protected without anyone remembering to. Signed-in forms carry the
session's CSRF token; the sign-in and setup forms, which come before any session,
carry a random token that must match the ``shequn_pre`` cookie (double submit).
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import HTTPException, Request

from shequn.console.context import current

__all__ = ["FIELD", "PRE_COOKIE", "SAFE_METHODS", "new_token", "protect"]

FIELD = "csrf_token"
PRE_COOKIE = "shequn_pre"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def new_token() -> str:
    return secrets.token_urlsafe(32)


def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


async def protect(request: Request) -> None:
    """Reject (403) a non-GET request whose form lacks the right CSRF token."""
    if request.method in SAFE_METHODS:
        return
    try:
        form = await request.form()
    except Exception:  # not a form at all (JSON, garbage): no token either
        raise HTTPException(403, "CSRF token missing") from None
    sent = form.get(FIELD)
    sent = sent if isinstance(sent, str) else None
    session = current(request)
    expected = session.csrf if session else request.cookies.get(PRE_COOKIE)
    if not _same(sent, expected):
        raise HTTPException(403, "CSRF token missing or wrong")
