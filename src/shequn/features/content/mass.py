"""Mass messages (群发): queued per group, released under per-platform rates and caps.

Creating one writes a ``content_sends`` row per group (``queued``). Each tick releases
as many as the platform's rate allows (a token bucket: ``mass_per_second`` tokens a
second since the platform's last release, at most ten seconds' worth at once) and as
the group's daily cap allows (``mass_daily_cap`` a local day; the rest wait for the
next day). Released rows get their ``send`` planned through the outbox like any post,
so the delivery report reads the outbox: sent, failed, or a human task.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select, update

from shequn.actions.moderation import plan
from shequn.features.content.posting import compose, send_key
from shequn.features.content.schedule import local_ts, zone
from shequn.platforms.port import Platform
from shequn.store import schema

if TYPE_CHECKING:
    from shequn.botconfig import GroupSettings

__all__ = ["BURST_SECONDS", "Delivery", "create_mass", "release_mass", "report", "summary"]

#: The bucket holds this many seconds' worth of messages (the most one tick releases).
BURST_SECONDS = 10.0


def create_mass(
    conn: Connection,
    *,
    text: str,
    groups: Iterable[tuple[str, str]],
    by: str,
    now: float,
    name: str = "",
    link: str = "",
    image_url: str = "",
    not_before: float | None = None,
) -> int:
    """Queue a mass message to ``groups``; raises ValueError on an empty text or no groups."""
    targets = sorted(set(groups))
    if not text.strip():
        raise ValueError("a mass message needs a text")
    if not targets:
        raise ValueError("choose at least one group")
    for url in (link, image_url):
        if url and not url.startswith(("http://", "https://")):
            raise ValueError(f"not a web address: {url!r}")
    m, s = schema.content_mass, schema.content_sends
    start = now if not_before is None else not_before
    mid = int(
        conn.execute(
            m.insert().values(
                name=name.strip()[:255], text=text.strip(), link=link.strip(),
                image_url=image_url.strip(), not_before=start, created_by=by, created_at=now,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    )  # fmt: skip
    for platform, gid in targets:
        conn.execute(
            s.insert().values(
                source="mass", source_id=mid, platform=platform, group_id=gid,
                occurrence="mass", due_at=start, status="queued", created_at=now,
            )
        )  # fmt: skip
    return mid


def _sent_today(conn: Connection, platform: str, gid: str, tz_name: str, now: float) -> int:
    s = schema.content_sends
    tz = zone(tz_name)
    today = datetime.fromtimestamp(now, tz).date()
    start = local_ts(today, datetime.min.time(), tz)
    end = local_ts(today + timedelta(days=1), datetime.min.time(), tz)
    q = select(func.count()).where(
        s.c.source == "mass", s.c.platform == platform, s.c.group_id == gid,
        s.c.status == "planned", s.c.planned_at >= start, s.c.planned_at < end,
    )  # fmt: skip
    return int(conn.execute(q).scalar_one())


def release_mass(
    conn: Connection,
    platforms: Mapping[str, Platform],
    settings_for: Callable[[str, str], GroupSettings],
    now: float,
) -> list[int]:
    """Plan the queued mass sends the rates and caps allow now; the new action ids."""
    s, m = schema.content_sends, schema.content_mass
    planned: list[int] = []
    for name, platform in platforms.items():
        queued = conn.execute(
            select(s, m.c.text, m.c.link, m.c.image_url)
            .join(m, m.c.id == s.c.source_id)
            .where(s.c.source == "mass", s.c.platform == name, s.c.status == "queued")
            .where(s.c.due_at <= now)
            .order_by(s.c.id)
        ).all()
        if not queued:
            continue
        last = conn.execute(
            select(func.max(s.c.planned_at)).where(s.c.source == "mass", s.c.platform == name)
        ).scalar()
        tokens: float | None = None
        for row in queued:
            cs = settings_for(name, row.group_id).content
            if not cs.enabled:
                continue
            if tokens is None:
                # the first group's settings set the platform's rate (keep them alike)
                burst = max(1.0, cs.mass_per_second * BURST_SECONDS)
                tokens = burst if last is None else min(burst, cs.mass_per_second * (now - last))
            if tokens < 1:
                break  # the platform's budget for this tick is spent
            if _sent_today(conn, name, row.group_id, cs.timezone, now) >= cs.mass_daily_cap:
                continue  # this group waits for tomorrow; others may still go
            text = compose(row.text, row.link, row.image_url)
            own_way = getattr(platform, "plan_mass", None)
            if own_way is not None:
                # The platform sends mass messages its own way (WeCom: a mass-send task
                # the group owner confirms, one per group a day); None: not today.
                if own_way(conn, row.group_id, text, now=now, tz=cs.timezone):
                    conn.execute(
                        update(s)
                        .where(s.c.id == row.id)
                        .values(status="platform_task", planned_at=now)
                    )
                    tokens -= 1
                continue
            aid = plan(
                conn, platform, group_id=row.group_id, kind="send", now=now,
                params={"text": text}, reason="content.mass",
                evidence={"mass_id": row.source_id},
                event_key=send_key("mass", row.source_id, row.group_id, "mass"),
            )  # fmt: skip
            conn.execute(
                update(s)
                .where(s.c.id == row.id)
                .values(status="planned", action_id=aid, planned_at=now)
            )
            tokens -= 1
            planned.append(aid)
    return planned


@dataclass(frozen=True, slots=True)
class Delivery:
    """One group's line in a delivery report."""

    platform: str
    group_id: str
    state: str  # queued | planned | sent | failed | human_task
    planned_at: float | None
    done_at: float | None
    error: str | None


_STATE = {"done": "sent", "failed": "failed", "human_task": "human_task", "planned": "planned"}


def report(conn: Connection, source: str, source_id: int) -> list[Delivery]:
    """Per group, what became of a mass message (or a plan's sends), from the outbox."""
    s, a = schema.content_sends, schema.bot_actions
    q = (
        select(
            s.c.platform,
            s.c.group_id,
            s.c.status,
            s.c.planned_at,
            a.c.status.label("a"),
            a.c.done_at,
            a.c.error,
        )
        .outerjoin(a, a.c.id == s.c.action_id)
        .where(s.c.source == source, s.c.source_id == source_id)
        .order_by(s.c.platform, s.c.group_id, s.c.id)
    )
    out = []
    for r in conn.execute(q):
        state = r.status if r.a is None else _STATE.get(r.a, r.a)
        out.append(Delivery(r.platform, r.group_id, state, r.planned_at, r.done_at, r.error))
    return out


def summary(rows: Iterable[Delivery]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for d in rows:
        counts[d.state] = counts.get(d.state, 0) + 1
    return counts
