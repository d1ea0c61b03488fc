"""Accounts and sign-in: argon2 password hashes, server-side sessions, a login rate limit.

A session is a random 256-bit token in an HttpOnly, SameSite cookie; the database keeps
only its SHA-256, with the user, the session's CSRF token and its expiry. Sessions end
after :data:`SESSION_TTL` at the latest, or :data:`IDLE_TTL` without a request, or at
logout. Failed sign-ins are audit rows; more than :data:`MAX_FAILS_PER_NAME` for one
name or :data:`MAX_FAILS_PER_IP` from one address within :data:`FAIL_WINDOW` seconds
refuse further attempts until the window passes (even with the right password).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, func, select, update

from shequn.console import audit
from shequn.console.access import Role, User
from shequn.store import Store, schema

__all__ = [
    "FAIL_WINDOW",
    "IDLE_TTL",
    "MAX_FAILS_PER_IP",
    "MAX_FAILS_PER_NAME",
    "MIN_PASSWORD",
    "SESSION_TTL",
    "AccountError",
    "Login",
    "LoginOutcome",
    "close_session",
    "create_user",
    "end_sessions",
    "ensure_group_set",
    "hash_password",
    "load_user",
    "log_in",
    "open_session",
    "session_user",
    "set_user_group_sets",
    "use_hasher",
    "user_count",
]

SESSION_TTL = 12 * 3600.0
IDLE_TTL = 2 * 3600.0
FAIL_WINDOW = 15 * 60.0
MAX_FAILS_PER_NAME = 5
MAX_FAILS_PER_IP = 20
MIN_PASSWORD = 10

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (64 MiB, 3 passes)
_dummy: dict[int, str] = {}


def _dummy_hash() -> str:
    # Verified against when the name is unknown, so a wrong name costs as long as a
    # wrong password and the timing does not tell which names exist.
    key = id(_hasher)
    if key not in _dummy:
        _dummy[key] = _hasher.hash(secrets.token_urlsafe(16))
    return _dummy[key]


def use_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Swap the password hasher (tests use cheaper argon2 parameters); returns the old one.

    Hashes made with other parameters still verify, and are re-hashed on the next
    sign-in (``check_needs_rehash``).
    """
    global _hasher
    old, _hasher = _hasher, hasher
    _dummy.clear()
    return old


class AccountError(ValueError):
    """A user or group set cannot be created as asked (bad name, short password...)."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(schema.console_users)).scalar_one())


def ensure_group_set(conn: Connection, name: str, *, now: float) -> int:
    """The id of group set ``name``, created when missing."""
    gs = schema.console_group_sets
    name = name.strip()
    if not name or len(name) > 64:
        raise AccountError("a group set needs a name of 1 to 64 characters")
    found = conn.execute(select(gs.c.id).where(gs.c.name == name)).scalar()
    if found is not None:
        return int(found)
    return int(conn.execute(gs.insert().values(name=name, created_at=now)).inserted_primary_key[0])  # type: ignore[index]


def set_user_group_sets(
    conn: Connection, user_id: int, names: Iterable[str], *, now: float
) -> None:
    ugs = schema.console_user_group_sets
    conn.execute(delete(ugs).where(ugs.c.user_id == user_id))
    for gs_id in sorted({ensure_group_set(conn, n, now=now) for n in names if n.strip()}):
        conn.execute(ugs.insert().values(user_id=user_id, group_set_id=gs_id))


def create_user(
    conn: Connection,
    name: str,
    role: Role | str,
    password: str,
    *,
    now: float,
    group_sets: Iterable[str] = (),
) -> int:
    """Add a console user; raises :class:`AccountError` for a taken or bad name."""
    u = schema.console_users
    name = name.strip()
    if not name or len(name) > 64:
        raise AccountError("a user name needs 1 to 64 characters")
    try:
        role = Role(role)
    except ValueError:
        raise AccountError(f"unknown role {role!r}: {', '.join(Role)}") from None
    if conn.execute(select(u.c.id).where(u.c.name == name)).first() is not None:
        raise AccountError(f"the user {name!r} exists already")
    uid = int(
        conn.execute(
            u.insert().values(
                name=name,
                password_hash=hash_password(password),
                role=role.value,
                disabled=False,
                created_at=now,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    )
    set_user_group_sets(conn, uid, group_sets, now=now)
    return uid


def load_user(conn: Connection, user_id: int) -> User | None:
    """The user with the groups of all their group sets, or None."""
    u, ugs, gsm = (
        schema.console_users,
        schema.console_user_group_sets,
        schema.console_group_set_members,
    )
    row = conn.execute(select(u).where(u.c.id == user_id)).first()
    if row is None:
        return None
    keys = conn.execute(
        select(gsm.c.platform, gsm.c.group_id)
        .join(ugs, ugs.c.group_set_id == gsm.c.group_set_id)
        .where(ugs.c.user_id == user_id)
    ).all()
    return User(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        groups=frozenset((p, g) for p, g in keys),
        disabled=bool(row.disabled),
        lang=row.lang,
    )


class LoginOutcome(StrEnum):
    OK = "ok"
    BAD = "bad"  # wrong name or password (never said which)
    LIMITED = "limited"  # too many failures lately


@dataclass(frozen=True, slots=True)
class Login:
    outcome: LoginOutcome
    user: User | None = None


def _recent_fails(conn: Connection, *, name: str, ip: str, now: float) -> tuple[int, int]:
    a = schema.console_audit
    since = (a.c.action == "login.failed") & (a.c.ts > now - FAIL_WINDOW)
    by_name = conn.execute(select(func.count()).where(since, a.c.target == name)).scalar_one()
    by_ip = conn.execute(select(func.count()).where(since, a.c.ip == ip)).scalar_one()
    return int(by_name), int(by_ip)


def log_in(store: Store, name: str, password: str, *, ip: str, now: float) -> Login:
    """Check a sign-in attempt and audit it; does not open the session."""
    u = schema.console_users
    name = name.strip()[:64]
    with store.engine.begin() as conn:
        by_name, by_ip = _recent_fails(conn, name=name, ip=ip, now=now)
        if by_name >= MAX_FAILS_PER_NAME or by_ip >= MAX_FAILS_PER_IP:
            audit.record(conn, actor=None, actor_name=name, action="login.limited",
                         target=name, ip=ip, now=now)  # fmt: skip
            return Login(LoginOutcome.LIMITED)
        row = conn.execute(select(u).where(u.c.name == name)).first()
        ok = False
        try:
            ok = _hasher.verify(row.password_hash if row else _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or row is None or row.disabled:
            audit.record(conn, actor=None, actor_name=name, action="login.failed",
                         target=name, ip=ip, now=now)  # fmt: skip
            return Login(LoginOutcome.BAD)
        if _hasher.check_needs_rehash(row.password_hash):
            conn.execute(
                update(u).where(u.c.id == row.id).values(password_hash=_hasher.hash(password))
            )
        user = load_user(conn, row.id)
        audit.record(conn, actor=user, action="login", target=name, ip=ip, now=now)
    return Login(LoginOutcome.OK, user)


def open_session(
    conn: Connection, user_id: int, *, ip: str, now: float, ttl: float = SESSION_TTL
) -> tuple[str, str]:
    """A new session for ``user_id``: (cookie token, CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    conn.execute(
        schema.console_sessions.insert().values(
            token_hash=_digest(token),
            user_id=user_id,
            csrf_token=csrf,
            created_at=now,
            last_seen=now,
            expires_at=now + ttl,
            ip=ip[:64],
        )
    )
    return token, csrf


def session_user(store: Store, token: str | None, *, now: float) -> tuple[User, str] | None:
    """The user and CSRF token of a live session, or None (expired sessions are removed)."""
    if not token:
        return None
    s = schema.console_sessions
    key = _digest(token)
    with store.engine.begin() as conn:
        row = conn.execute(select(s).where(s.c.token_hash == key)).first()
        if row is None:
            return None
        if now >= row.expires_at or now - row.last_seen >= IDLE_TTL:
            conn.execute(delete(s).where(s.c.token_hash == key))
            return None
        user = load_user(conn, row.user_id)
        if user is None or user.disabled:
            return None
        if now - row.last_seen > 60:  # one write a minute is enough for the idle clock
            conn.execute(update(s).where(s.c.token_hash == key).values(last_seen=now))
    return user, row.csrf_token


def end_sessions(conn: Connection, user_id: int) -> None:
    """Sign the user out everywhere (when disabled)."""
    s = schema.console_sessions
    conn.execute(delete(s).where(s.c.user_id == user_id))


def close_session(conn: Connection, token: str | None) -> None:
    if token:
        s = schema.console_sessions
        conn.execute(delete(s).where(s.c.token_hash == _digest(token)))
