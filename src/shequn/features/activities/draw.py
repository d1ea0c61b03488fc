"""The verifiable lottery draw: commit to a secret, reveal it, derive the winners.

At creation the bot draws a random ``secret`` and announces ``sha256(secret)`` (the
commitment), so it cannot pick another secret later. At the draw::

    seed    = sha256("<lottery id>:<close_ref>:<secret>")      (hex)
    ranking = entrants sorted by sha256("<seed>:<member id>"), ties by member id
    winners = the first ``k`` of the ranking

``close_ref`` is the platform's id of the message that closed the lottery (not known
when the commitment was made), or ``deadline:<epoch>`` when the deadline closed it.
Anyone holding the logged seed inputs and the sorted entrant list can recompute the
winners; :func:`verify_draw` does exactly that against the database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from shequn.store import schema

__all__ = ["DrawCheck", "commitment", "draw_seed", "pick_winners", "verify_draw"]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def commitment(secret: str) -> str:
    """What is announced at creation: ``sha256(secret)``."""
    return _sha(secret)


def draw_seed(lottery_id: int, close_ref: str, secret: str) -> str:
    return _sha(f"{lottery_id}:{close_ref}:{secret}")


def pick_winners(seed: str, entrants: Sequence[str], k: int) -> list[str]:
    """The first ``k`` distinct entrants ranked by ``sha256(seed:member)``."""
    pool = sorted(set(entrants))
    return sorted(pool, key=lambda m: (_sha(f"{seed}:{m}"), m))[:k]


@dataclass(slots=True)
class DrawCheck:
    """The outcome of recomputing one lottery's draw."""

    lottery_id: int
    ok: bool
    seed: str | None = None
    entrants: list[str] = field(default_factory=list)
    winners: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def verify_draw(conn: Connection, lottery_id: int) -> DrawCheck:
    """Recompute lottery ``lottery_id``'s draw from its logged inputs; list what disagrees."""
    lt, le = schema.lotteries, schema.lottery_entries
    row = conn.execute(select(lt).where(lt.c.id == lottery_id)).first()
    if row is None:
        raise LookupError(f"no lottery {lottery_id}")
    check = DrawCheck(lottery_id, ok=False, seed=row.seed)
    if row.status != "drawn" or row.seed is None or row.close_ref is None:
        check.problems.append("not drawn yet")
        return check
    if commitment(row.secret) != row.commitment:
        check.problems.append("the secret does not match the announced commitment")
    seed = draw_seed(row.id, row.close_ref, row.secret)
    if seed != row.seed:
        check.problems.append("the logged seed is not sha256(id:close_ref:secret)")
    logged: list[str] = json.loads(row.entrants or "[]")
    check.entrants = logged
    entries = conn.execute(select(le.c.member_id, le.c.rank).where(le.c.lottery_id == row.id)).all()
    if sorted(r.member_id for r in entries) != logged or logged != sorted(set(logged)):
        check.problems.append("the logged entrant list differs from the entries")
    winners = pick_winners(seed, logged, row.winners)
    check.winners = winners
    if json.loads(row.result or "[]") != winners:
        check.problems.append("the announced winners are not the recomputed ones")
    ranks = sorted((r.rank, r.member_id) for r in entries if r.rank is not None)
    if [m for _rank, m in ranks] != winners:
        check.problems.append("the winners marked on the entries are not the recomputed ones")
    check.ok = not check.problems
    return check
