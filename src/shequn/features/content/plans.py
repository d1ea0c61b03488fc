"""Content plans in the database: create, edit, pause/resume, targets; each in the caller's
transaction so the console writes its audit row with the change."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, delete, select, update

from shequn.features.content.schedule import Schedule, zone
from shequn.store import schema

__all__ = ["PlanInput", "create_plan", "plan_row", "set_status", "targets", "update_plan"]

GroupKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class PlanInput:
    """What an operator fills in; :meth:`check` raises ValueError on a bad field."""

    name: str
    text: str
    kind: str
    at_local: str = ""
    weekdays: str = ""
    window_start: str = "09:00"
    window_end: str = ""
    days: int = 0
    timezone: str = ""
    jitter: bool = True
    image_url: str = ""
    link: str = ""
    groups: tuple[GroupKey, ...] = ()
    group_set_id: int | None = None

    def check(self) -> Schedule:
        if not self.name.strip():
            raise ValueError("a plan needs a name")
        if not self.text.strip():
            raise ValueError("a plan needs a text to post")
        if not self.groups and self.group_set_id is None:
            raise ValueError("choose at least one group")
        for url in (self.image_url, self.link):
            if url and not url.startswith(("http://", "https://")):
                raise ValueError(f"not a web address: {url!r}")
        if self.timezone:
            zone(self.timezone)
        return Schedule.parse(
            self.kind, at_local=self.at_local, weekdays=self.weekdays,
            window_start=self.window_start, window_end=self.window_end,
            days=self.days, jitter=self.jitter,
        )  # fmt: skip

    def values(self) -> dict[str, Any]:
        s = self.check()
        return dict(
            name=self.name.strip()[:255],
            text=self.text.strip(),
            image_url=self.image_url.strip(),
            link=self.link.strip(),
            kind=s.kind,
            at_local=s.at.strftime("%Y-%m-%d %H:%M") if s.at else "",
            weekdays=",".join(map(str, s.weekdays)),
            window_start=s.start.strftime("%H:%M"),
            window_end=s.end.strftime("%H:%M"),
            days=s.days,
            timezone=self.timezone.strip(),
            jitter=s.jitter,
            group_set_id=self.group_set_id,
        )


def create_plan(conn: Connection, plan: PlanInput, *, by: str, now: float) -> int:
    values = plan.values()
    t = schema.content_plans
    pid = conn.execute(
        t.insert().values(
            **values, status="active", active_from=now, created_by=by, created_at=now,
            updated_at=now,
        )
    ).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip
    _set_groups(conn, int(pid), plan.groups)
    return int(pid)


def update_plan(conn: Connection, plan_id: int, plan: PlanInput, *, now: float) -> None:
    t = schema.content_plans
    conn.execute(update(t).where(t.c.id == plan_id).values(**plan.values(), updated_at=now))
    _set_groups(conn, plan_id, plan.groups)


def set_status(conn: Connection, plan_id: int, status: str, *, now: float) -> None:
    """Pause or resume; a resumed plan posts nothing that fell due while it was paused."""
    if status not in ("active", "paused"):
        raise ValueError(f"unknown status {status!r}")
    t = schema.content_plans
    values: dict[str, Any] = {"status": status, "updated_at": now}
    if status == "active":
        values["active_from"] = now
    conn.execute(update(t).where(t.c.id == plan_id).values(**values))


def _set_groups(conn: Connection, plan_id: int, groups: Iterable[GroupKey]) -> None:
    pg = schema.content_plan_groups
    conn.execute(delete(pg).where(pg.c.plan_id == plan_id))
    for platform, gid in sorted(set(groups)):
        conn.execute(pg.insert().values(plan_id=plan_id, platform=platform, group_id=gid))


def plan_row(conn: Connection, plan_id: int) -> Row[Any] | None:
    t = schema.content_plans
    return conn.execute(select(t).where(t.c.id == plan_id)).first()


def targets(conn: Connection, plan: Row[Any]) -> list[GroupKey]:
    """The plan's groups: those listed and, if it names one, its group set's members now."""
    pg, gsm = schema.content_plan_groups, schema.console_group_set_members
    found = {
        (r.platform, r.group_id)
        for r in conn.execute(select(pg.c.platform, pg.c.group_id).where(pg.c.plan_id == plan.id))
    }
    if plan.group_set_id is not None:
        q = select(gsm.c.platform, gsm.c.group_id).where(gsm.c.group_set_id == plan.group_set_id)
        found |= {(r.platform, r.group_id) for r in conn.execute(q)}
    return sorted(found)
