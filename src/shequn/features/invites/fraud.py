"""Fraud checks on campaign invites: bursts of look-alike invitees, alt accounts.

Each rule returns the reason an invite is flagged (a key of the ``invites.reason.*``
messages) or None. Flagged invites are kept and shown with their reason; they never
count toward rewards.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Invitee", "burst", "looks_alike", "self_invite", "skeleton"]

_NOISE = re.compile(r"[\d\W_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Invitee:
    member_id: str
    name: str
    ts: float


def skeleton(name: str) -> str:
    """A name without digits, punctuation, spaces and case: ``小明 3号`` -> ``小明号``."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", name).casefold())


def looks_alike(a: str, b: str, similarity: float) -> bool:
    """Near-identical names: the same skeleton, or a difflib ratio at ``similarity`` or more."""
    if not a or not b:
        return False
    sa, sb = skeleton(a), skeleton(b)
    if sa and sa == sb:
        return True
    na, nb = (
        unicodedata.normalize("NFKC", a).casefold(),
        unicodedata.normalize("NFKC", b).casefold(),
    )
    return difflib.SequenceMatcher(None, na, nb).ratio() >= similarity


def _adjacent_ids(a: str, b: str, window: int) -> bool:
    return a.isdigit() and b.isdigit() and a != b and abs(int(a) - int(b)) <= window


def self_invite(
    referrer_id: str, referrer_name: str, invitee: Invitee, *, similarity: float, id_window: int
) -> str | None:
    """``self_invite`` when the invitee is the referrer or looks like their alt account."""
    if invitee.member_id == referrer_id:
        return "self_invite"
    if _adjacent_ids(referrer_id, invitee.member_id, id_window):
        return "alt_account"
    if referrer_name and looks_alike(referrer_name, invitee.name, similarity):
        return "alt_account"
    return None


def burst(
    new: Invitee, earlier: Sequence[Invitee], *, minutes: float, size: int, similarity: float,
    id_window: int,
) -> tuple[str, list[str]] | None:  # fmt: skip
    """(reason, member ids) when ``new`` completes a burst of ``size`` look-alike invitees.

    Look-alike: near-identical names (``burst_names``) or consecutive numeric ids
    (``burst_ids``, accounts registered in a row), all within ``minutes`` of ``new``.
    """
    near = [
        e for e in earlier if abs(new.ts - e.ts) <= minutes * 60 and e.member_id != new.member_id
    ]
    names = [e for e in near if looks_alike(new.name, e.name, similarity)]
    if len(names) + 1 >= size:
        return "burst_names", [e.member_id for e in names]
    ids = [e for e in near if _adjacent_ids(new.member_id, e.member_id, max(id_window, 1) * size)]
    if len(ids) + 1 >= size:
        return "burst_ids", [e.member_id for e in ids]
    return None
