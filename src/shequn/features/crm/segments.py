"""Segments: a filter over :class:`~shequn.features.crm.people.Person`, saved by name.

Every condition that is set must hold (AND); within a list (groups, platforms,
layers) any entry matches, while every listed tag must be present. Days count back
from ``now``: "spoke within 7 days" is a last message at or after ``now - 7 days``,
"silent over 30 days" is no message since ``now - 30 days`` (or never).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy import Connection, Row, select, update

from shequn.features.crm.people import Person
from shequn.store import schema

__all__ = [
    "LAYERS",
    "Filter",
    "apply",
    "delete_segment",
    "describe",
    "match",
    "save_segment",
    "segment",
    "segments",
]

DAY = 86400.0
LAYERS = ("opinion_leader", "co_opinion_leader", "spreader", "active", "participant", "bystander")
_LISTS = ("groups", "platforms", "layers", "tags")
_INTS = ("min_points", "spoke_within", "silent_over", "joined_within", "min_strikes")


@dataclass(frozen=True, slots=True)
class Filter:
    groups: tuple[str, ...] = ()  # "platform:group id"
    platforms: tuple[str, ...] = ()
    layers: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()  # "category:tag", or "tag" for that tag in any category
    min_points: int | None = None
    spoke_within: int | None = None  # days
    silent_over: int | None = None  # days
    joined_within: int | None = None  # days
    min_strikes: int | None = None
    city: str = ""
    likely_buyer: bool = False
    has_ordered: bool | None = None

    @classmethod
    def from_params(cls, get: Callable[[str], str], getlist: Callable[[str], list[str]]) -> Filter:
        """From a form or query string; raises ValueError on a bad number."""
        values: dict[str, Any] = {}
        for name in _LISTS:
            items: list[str] = []
            for raw in getlist(name):
                items += [x.strip() for x in str(raw).split(",") if x.strip()]
            values[name] = tuple(dict.fromkeys(items))
        for name in _INTS:
            raw = str(get(name) or "").strip()
            if raw:
                try:
                    number = int(raw)
                except ValueError:
                    raise ValueError(f"{name}: not a whole number: {raw!r}") from None
                if number < 0:
                    raise ValueError(f"{name}: must not be negative")
                values[name] = number
        values["city"] = str(get("city") or "").strip()
        values["likely_buyer"] = str(get("likely_buyer") or "") in ("1", "on", "true", "yes")
        ordered = str(get("has_ordered") or "")
        values["has_ordered"] = {"yes": True, "no": False}.get(ordered)
        bad = [x for x in values["layers"] if x not in LAYERS]
        if bad:
            raise ValueError(f"unknown layer: {bad[0]!r}")
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> Filter:
        data = json.loads(text or "{}")
        known = {f.name for f in fields(cls)}
        kw: dict[str, Any] = {
            k: (tuple(v) if k in _LISTS else v) for k, v in data.items() if k in known
        }
        return cls(**kw)

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, sort_keys=True)

    def as_dict(self) -> dict[str, Any]:
        """Only the conditions that are set."""
        out: dict[str, Any] = {}
        for k, v in asdict(self).items():
            if v is None or v == () or v == "" or (v is False and k != "has_ordered"):
                continue
            out[k] = list(v) if isinstance(v, tuple) else v
        return out

    def query(self) -> list[tuple[str, str]]:
        """The filter as query-string pairs (for links back to the member list)."""
        out: list[tuple[str, str]] = []
        for k, v in self.as_dict().items():
            if isinstance(v, list):
                out += [(k, str(x)) for x in v]
            elif isinstance(v, bool):
                out.append((k, ("yes" if v else "no") if k == "has_ordered" else "1"))
            else:
                out.append((k, str(v)))
        return out


def _has_tag(person: Person, wanted: str) -> bool:
    if ":" in wanted:
        cat, tag = wanted.split(":", 1)
        return (cat.strip(), tag.strip()) in person.tags
    return any(tag == wanted for _, tag in person.tags)


def match(f: Filter, person: Person, now: float) -> bool:
    """Does ``person`` meet every condition of ``f``?"""
    checks = (
        not f.groups or any(f"{p}:{g}" in f.groups for p, g in person.groups),
        not f.platforms or any(p in f.platforms for p, _ in person.accounts),
        not f.layers or any(layer in f.layers for layer in person.layers.values()),
        all(_has_tag(person, t) for t in f.tags),
        f.min_points is None or person.points >= f.min_points,
        f.spoke_within is None
        or (person.last_spoke is not None and person.last_spoke >= now - f.spoke_within * DAY),
        f.silent_over is None
        or person.last_spoke is None
        or person.last_spoke < now - f.silent_over * DAY,
        f.joined_within is None
        or (person.joined is not None and person.joined >= now - f.joined_within * DAY),
        f.min_strikes is None or person.strikes >= f.min_strikes,
        not f.city or f.city in person.cities,
        not f.likely_buyer or person.likely_buyer,
        f.has_ordered is None or (person.orders > 0) == f.has_ordered,
    )
    return all(checks)


def apply(f: Filter, people: Iterable[Person], now: float) -> list[Person]:
    return [p for p in people if match(f, p, now)]


def segments(conn: Connection) -> list[Row[Any]]:
    s = schema.crm_segments
    return list(conn.execute(select(s).order_by(s.c.name)).all())


def segment(conn: Connection, segment_id: int) -> Row[Any] | None:
    s = schema.crm_segments
    return conn.execute(select(s).where(s.c.id == segment_id)).first()


def save_segment(
    conn: Connection, name: str, f: Filter, *, by: str, now: float, segment_id: int | None = None
) -> int:
    """Create (or, with ``segment_id``, update) a saved segment; its id."""
    name = " ".join(name.split())[:255]
    if not name:
        raise ValueError("a segment needs a name")
    s = schema.crm_segments
    clash = conn.execute(select(s.c.id).where(s.c.name == name)).scalar()
    if clash is not None and clash != segment_id:
        raise ValueError(f"a segment named {name!r} exists already")
    if segment_id is not None:
        conn.execute(
            update(s)
            .where(s.c.id == segment_id)
            .values(name=name, filter=f.to_json(), updated_at=now)
        )
        return segment_id
    result = conn.execute(
        s.insert().values(
            name=name, filter=f.to_json(), created_at=now, created_by=by, updated_at=now
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def delete_segment(conn: Connection, segment_id: int) -> None:
    s, c = schema.crm_segments, schema.crm_campaigns
    conn.execute(update(c).where(c.c.segment_id == segment_id).values(segment_id=None))
    conn.execute(s.delete().where(s.c.id == segment_id))


def describe(
    f: Filter, labels: Mapping[str, str], group_names: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """``[(label, value)]`` of the set conditions, for a page (``labels`` by field name,
    groups shown by ``group_names`` keyed ``"platform:group id"``)."""
    out = []
    for k, v in f.as_dict().items():
        if k == "groups" and group_names:
            v = [group_names.get(g, g) for g in v]
        shown = ", ".join(v) if isinstance(v, list) else ("✓" if v is True else str(v))
        if k == "has_ordered":
            shown = "✓" if v else "✗"
        out.append((labels.get(k, k), shown))
    return out
