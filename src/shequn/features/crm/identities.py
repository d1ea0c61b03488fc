"""Merged identities: one person's accounts on different platforms linked into a profile.

An account is ``(platform, the platform's member id)``. Linking two accounts puts them
in one profile (joining two profiles when both already have one); unlinking takes one
account out, and a profile left with a single account is dropped. Figures on a member
page then sum over every linked account the reader may see.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, select, update

from shequn.store import schema

__all__ = ["Account", "accounts_of", "link", "profile_map", "unlink"]

Account = tuple[str, str]  # (platform, the platform's member id)


def _profile_of(conn: Connection, account: Account) -> int | None:
    i = schema.member_identities
    q = select(i.c.profile_id).where(i.c.platform == account[0], i.c.member_id == account[1])
    found = conn.execute(q).scalar()
    return None if found is None else int(found)


def accounts_of(conn: Connection, account: Account) -> list[Account]:
    """Every account of the person ``account`` belongs to (itself first, then sorted)."""
    pid = _profile_of(conn, account)
    if pid is None:
        return [account]
    i = schema.member_identities
    rows = conn.execute(select(i.c.platform, i.c.member_id).where(i.c.profile_id == pid))
    others = sorted((r.platform, r.member_id) for r in rows if (r.platform, r.member_id) != account)
    return [account, *others]


def profile_map(conn: Connection) -> dict[Account, int]:
    """``{account: profile id}`` for every linked account."""
    i = schema.member_identities
    rows = conn.execute(select(i.c.platform, i.c.member_id, i.c.profile_id))
    return {(r.platform, r.member_id): int(r.profile_id) for r in rows}


def _add(conn: Connection, pid: int, account: Account, by: str, now: float) -> None:
    conn.execute(
        schema.member_identities.insert().values(
            profile_id=pid, platform=account[0], member_id=account[1], created_at=now,
            created_by=by,
        )
    )  # fmt: skip


def link(conn: Connection, a: Account, b: Account, *, by: str, now: float) -> int:
    """Put ``a`` and ``b`` in one profile; its id. Raises ValueError when a == b."""
    if a == b:
        raise ValueError("an account cannot be linked to itself")
    if not all(a) or not all(b):
        raise ValueError("an account needs a platform and a member id")
    pa, pb = _profile_of(conn, a), _profile_of(conn, b)
    i, p = schema.member_identities, schema.member_profiles
    if pa is None and pb is None:
        pid = int(
            conn.execute(p.insert().values(created_at=now, created_by=by)).inserted_primary_key[0]  # type: ignore[index]
        )
        _add(conn, pid, a, by, now)
        _add(conn, pid, b, by, now)
        return pid
    if pa is not None and pb is not None:
        if pa != pb:  # two people turn out to be one: the newer profile joins the older
            keep, drop = min(pa, pb), max(pa, pb)
            conn.execute(update(i).where(i.c.profile_id == drop).values(profile_id=keep))
            conn.execute(delete(p).where(p.c.id == drop))
            return keep
        return pa
    found = pa if pa is not None else pb
    assert found is not None
    _add(conn, found, b if pa is not None else a, by, now)
    return found


def unlink(conn: Connection, account: Account) -> list[Account]:
    """Take ``account`` out of its profile; the accounts it was linked to (may be empty)."""
    pid = _profile_of(conn, account)
    if pid is None:
        return []
    i, p = schema.member_identities, schema.member_profiles
    conn.execute(delete(i).where(i.c.platform == account[0], i.c.member_id == account[1]))
    left = [
        (r.platform, r.member_id)
        for r in conn.execute(select(i.c.platform, i.c.member_id).where(i.c.profile_id == pid))
    ]
    if len(left) < 2:
        conn.execute(delete(i).where(i.c.profile_id == pid))
        conn.execute(delete(p).where(p.c.id == pid))
    return left
