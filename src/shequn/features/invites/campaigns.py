"""Fission (裂变) campaigns: personal codes, attribution, qualification, rewards.

Every member taking part gets a personal code (``/j/<code>?r=<ref>``, or a personal
platform link where the API allows). A join is credited to a referrer when the
platform names their link (``MemberJoined.invite``), or names them as the one who
added the newcomer (``MemberJoined.inviter``: WeChat's "A 邀请 B 加入了群聊").

A credited invite starts ``pending``; it ``qualified`` once the invitee passed the
entry gate and stayed the campaign's ``stay_days``; it is ``flagged`` (with a reason,
never counted) by the fraud rules in :mod:`.fraud`; ``left`` when the invitee left
earlier; ``gate_failed`` when they never passed the gate. Rewards at thresholds are
rows unique per (campaign, referrer, threshold): granted once, whatever restarts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from shequn.events import MemberJoined, MemberLeft
from shequn.features.checkin.points import award
from shequn.features.invites import fraud
from shequn.features.invites.links import invite_key, new_code, split_state
from shequn.features.invites.settings import InvitesSettings
from shequn.store import schema

__all__ = [
    "Tier",
    "create_campaign",
    "enrol",
    "joined",
    "leaderboard",
    "left",
    "parse_tiers",
    "personal_code",
    "settle",
    "update_campaign",
]

DAY = 86400.0
Tier = dict[str, Any]  # {"n": int, "reward": str, "points": int}
SettingsFor = Callable[[str, str], Any]


def parse_tiers(text: str) -> list[Tier]:
    """``3=红包5元; 10=100 points`` -> tiers; ``N=<k> points`` (or 积分) credits points."""
    out: list[Tier] = []
    for part in text.replace("；", ";").replace("\n", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        n_s, sep, reward = part.partition("=")
        if not sep or not n_s.strip().isdigit() or int(n_s) < 1 or not reward.strip():
            raise ValueError(f"a tier is N=reward, e.g. 3=红包5元: {part!r}")
        reward = reward.strip()
        words = reward.replace("积分", " points").split()
        points = (
            int(words[0]) if len(words) == 2 and words[1] == "points" and words[0].isdigit() else 0
        )
        out.append({"n": int(n_s), "reward": reward, "points": points})
    out.sort(key=lambda t: t["n"])
    if len({t["n"] for t in out}) != len(out):
        raise ValueError("two tiers at the same number of invites")
    return out


def tiers_text(tiers: list[Tier]) -> str:
    return "; ".join(f"{t['n']}={t['reward']}" for t in tiers)


def create_campaign(
    conn: Connection, *, name: str, now: float, tiers: list[Tier], stay_days: float | None = None,
    code_id: int | None = None, by: str = "", ends_at: float | None = None,
) -> int:  # fmt: skip
    if not name.strip():
        raise ValueError("a campaign needs a name")
    if stay_days is not None and stay_days < 0:
        raise ValueError("stay_days must be >= 0")
    c = schema.invite_campaigns
    res = conn.execute(
        c.insert().values(
            name=name.strip(), code_id=code_id, stay_days=stay_days, tiers=json.dumps(tiers, ensure_ascii=False),
            status="active", starts_at=now, ends_at=ends_at, created_at=now, created_by=by,
        )
    )  # fmt: skip
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def update_campaign(conn: Connection, campaign_id: int, **values: Any) -> None:
    c = schema.invite_campaigns
    out: dict[str, Any] = {}
    for k, v in values.items():
        if k == "tiers":
            out[k] = json.dumps(v, ensure_ascii=False)
        elif k == "status":
            if v not in ("active", "ended"):
                raise ValueError(f"unknown status {v!r}")
            out[k] = v
        elif k in ("name", "stay_days", "code_id", "ends_at"):
            out[k] = v
    conn.execute(c.update().where(c.c.id == campaign_id).values(**out))


def enrol(
    conn: Connection, campaign_id: int, platform: str, member_id: str, *, name: str = "",
    group_id: str = "", now: float, link: str | None = None,
) -> Any:  # fmt: skip
    """The member's referrer row in the campaign (created with a personal code if new)."""
    r = schema.invite_referrers
    row = conn.execute(
        select(r).where(r.c.campaign_id == campaign_id, r.c.platform == platform,
                        r.c.member_id == member_id)
    ).first()  # fmt: skip
    if row is not None:
        if link and invite_key(link) != row.invite_key:
            conn.execute(r.update().where(r.c.id == row.id).values(invite_key=invite_key(link)))
        return conn.execute(select(r).where(r.c.id == row.id)).one()
    for _ in range(5):
        ref = new_code(8)
        if conn.execute(select(r.c.id).where(r.c.ref == ref)).first() is None:
            break
    conn.execute(
        r.insert().values(
            campaign_id=campaign_id, platform=platform, member_id=member_id, name=name,
            group_id=group_id, ref=ref, invite_key=invite_key(link), created_at=now,
        )
    )  # fmt: skip
    return conn.execute(select(r).where(r.c.ref == ref)).one()


def _campaign_groups(conn: Connection, campaign: Any) -> set[tuple[str, str]] | None:
    """The groups a campaign covers (its code's groups), None for every group."""
    if campaign.code_id is None:
        return None
    t = schema.invite_targets
    q = select(t.c.platform, t.c.group_id).where(t.c.code_id == campaign.code_id)
    return {(x.platform, x.group_id) for x in conn.execute(q)}


def _running(conn: Connection, ts: float) -> list[Any]:
    c = schema.invite_campaigns
    q = select(c).where(
        c.c.status == "active", c.c.starts_at <= ts, or_(c.c.ends_at.is_(None), c.c.ends_at >= ts)
    )
    return list(conn.execute(q.order_by(c.c.id)).all())


def personal_code(
    conn: Connection, platform: str, group_id: str, member_id: str, name: str, now: float
) -> tuple[str, str] | None:
    """(活码, personal code) of the member in the campaign running in the group, enrolling them."""
    c = schema.invite_codes
    for camp in _running(conn, now):
        if camp.code_id is None:
            continue  # a link needs a 活码 to route through
        groups = _campaign_groups(conn, camp)
        if groups is not None and (platform, group_id) in groups:
            ref = enrol(conn, camp.id, platform, member_id, name=name, group_id=group_id, now=now)
            code = conn.execute(select(c.c.code).where(c.c.id == camp.code_id)).scalar_one()
            return str(code), str(ref.ref)
    return None


def _find_link(conn: Connection, platform: str, key: str, group_id: str) -> tuple[Any, Any]:
    """(target, referrer) a join's invite names, either possibly None."""
    t, r, c = schema.invite_targets, schema.invite_referrers, schema.invite_codes
    targets = conn.execute(select(t).where(t.c.platform == platform, t.c.invite_key == key)).all()
    target = next((x for x in targets if x.group_id == group_id), targets[0] if targets else None)
    referrer = conn.execute(
        select(r).where(r.c.platform == platform, r.c.invite_key == key)
    ).first()
    if target is None and referrer is None:  # a WeCom state: "<code>" or "<code>.<ref>"
        code, ref = split_state(key)
        q = (
            select(t)
            .join(c, c.c.id == t.c.code_id)
            .where(c.c.code == code, t.c.platform == platform, t.c.group_id == group_id)
        )
        target = conn.execute(q).first()
        if ref:
            referrer = conn.execute(select(r).where(r.c.ref == ref)).first()
    return target, referrer


def joined(
    conn: Connection, ev: MemberJoined, key: str, now: float, s: InvitesSettings
) -> int | None:
    """Attribute one join (to a link, a referrer, an inviter); the ``invite_joins`` id."""
    if ev.member.is_bot:
        return None
    target = referrer = None
    k = invite_key(ev.invite)
    if k is not None:
        target, referrer = _find_link(conn, ev.platform, k, ev.group_id)
    inviter = ev.inviter.platform_id if ev.inviter and not ev.inviter.is_bot else None
    if inviter == ev.member.platform_id:
        inviter = None
    campaign = None
    if referrer is not None:
        c = schema.invite_campaigns
        campaign = conn.execute(select(c).where(c.c.id == referrer.campaign_id)).first()
        inviter = referrer.member_id
    elif inviter is not None and not (ev.inviter and ev.inviter.is_operator):
        # the platform says a member added them: that member's campaign invite
        for camp in _running(conn, ev.ts):
            groups = _campaign_groups(conn, camp)
            if groups is None or (ev.platform, ev.group_id) in groups:
                campaign = camp
                name = ev.inviter.name if ev.inviter else ""
                referrer = enrol(conn, camp.id, ev.platform, inviter, name=name,
                                 group_id=ev.group_id, now=now)  # fmt: skip
                break
    if campaign is not None and (campaign.status != "active" or (
        campaign.ends_at is not None and ev.ts > campaign.ends_at
    )):  # fmt: skip
        campaign = referrer = None
    if target is None and inviter is None and referrer is None:
        return None
    status, reason = "", ""
    if campaign is not None and referrer is not None:
        status, reason = _judge_new(conn, ev, campaign, referrer, s)
    j = schema.invite_joins
    res = conn.execute(
        j.insert().values(
            event_key=key, platform=ev.platform, group_id=ev.group_id,
            member_id=ev.member.platform_id, name=ev.member.name, ts=ev.ts, invite=ev.invite,
            code_id=target.code_id if target is not None else None,
            target_id=target.id if target is not None else None, inviter_id=inviter,
            campaign_id=campaign.id if campaign is not None and referrer is not None else None,
            referrer_id=referrer.id if referrer is not None and campaign is not None else None,
            status=status, reason=reason, decided_at=now if status == "flagged" else None,
        )
    )  # fmt: skip
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def _judge_new(
    conn: Connection, ev: MemberJoined, campaign: Any, referrer: Any, s: InvitesSettings
) -> tuple[str, str]:
    """The fraud rules a join can be judged by at once; flags the burst it completes."""
    j = schema.invite_joins
    me = fraud.Invitee(ev.member.platform_id, ev.member.name, ev.ts)
    why = fraud.self_invite(
        referrer.member_id, referrer.name, me, similarity=s.name_similarity,
        id_window=s.alt_id_window,
    )  # fmt: skip
    if why:
        return "flagged", why
    before = conn.execute(
        select(j.c.platform, j.c.member_id).where(
            j.c.campaign_id == campaign.id, j.c.platform == ev.platform,
            j.c.member_id == ev.member.platform_id,
        )
    ).first()  # fmt: skip
    if before is not None:
        return "flagged", "repeat"  # joined again, or another group of the campaign
    window = s.burst_minutes * 60
    earlier = conn.execute(
        select(j.c.id, j.c.member_id, j.c.name, j.c.ts, j.c.status).where(
            j.c.referrer_id == referrer.id, j.c.ts >= ev.ts - window, j.c.ts <= ev.ts + window
        )
    ).all()
    found = fraud.burst(
        me, [fraud.Invitee(e.member_id, e.name, e.ts) for e in earlier],
        minutes=s.burst_minutes, size=s.burst_size, similarity=s.name_similarity,
        id_window=s.alt_id_window,
    )  # fmt: skip
    if found is None:
        return "pending", ""
    reason, ids = found
    hit = [e.id for e in earlier if e.member_id in ids and e.status == "pending"]
    if hit:
        conn.execute(j.update().where(j.c.id.in_(hit)).values(status="flagged", reason=reason))
    return "flagged", reason


def left(conn: Connection, ev: MemberLeft, now: float, s: InvitesSettings) -> None:
    """Note the leave on the member's open joins; a pending invite stops counting."""
    j = schema.invite_joins
    rows = conn.execute(
        select(j).where(
            j.c.platform == ev.platform, j.c.group_id == ev.group_id,
            j.c.member_id == ev.member.platform_id, j.c.left_at.is_(None), j.c.ts <= ev.ts,
        )
    ).all()  # fmt: skip
    for row in rows:
        values: dict[str, Any] = {"left_at": ev.ts}
        if row.status == "pending":
            instant = ev.ts - row.ts < s.instant_leave_hours * 3600
            values.update(
                status="flagged" if instant else "left",
                reason="instant_leave" if instant else "left_early",
                decided_at=now,
            )
        conn.execute(j.update().where(j.c.id == row.id).values(**values))


def _gate_state(
    conn: Connection, platform: str, group_id: str, member_id: str, since: float
) -> str:
    """The member's entry-gate standing since their join: passed (or no gate) | pending | failed."""
    g = schema.gate_entries
    row = conn.execute(
        select(g.c.state).where(
            g.c.platform == platform, g.c.group_id == group_id, g.c.member_id == member_id,
            g.c.joined_at >= since - 1,
        ).order_by(g.c.id.desc())
    ).first()  # fmt: skip
    if row is None or row.state == "passed":
        return "passed"
    return "pending" if row.state == "pending" else "failed"


def settle(conn: Connection, now: float, settings_for: SettingsFor) -> list[int]:
    """Qualify pending invites whose invitee stayed long enough; grant rewards due.

    Returns the ids of ``invite_rewards`` rows granted now.
    """
    j, c = schema.invite_joins, schema.invite_campaigns
    q = (
        select(j, c.c.stay_days)
        .join(c, c.c.id == j.c.campaign_id)
        .where(j.c.status == "pending", j.c.ts <= now)
    )
    touched: set[tuple[int, int]] = set()
    for row in conn.execute(q).all():
        stay = row.stay_days
        if stay is None:
            stay = settings_for(row.platform, row.group_id).invites.stay_days
        if row.ts + float(stay) * DAY > now:
            continue
        gate = _gate_state(conn, row.platform, row.group_id, row.member_id, row.ts)
        if gate == "pending":
            continue
        status, reason = ("qualified", "") if gate == "passed" else ("gate_failed", "gate")
        conn.execute(
            j.update().where(j.c.id == row.id, j.c.status == "pending")
            .values(status=status, reason=reason, decided_at=now)
        )  # fmt: skip
        if status == "qualified":
            touched.add((row.campaign_id, row.referrer_id))
    # referrers qualified before a crash between qualification and reward are caught up
    r = schema.invite_rewards
    granted_n = (
        select(func.count()).select_from(r)
        .where(r.c.campaign_id == j.c.campaign_id, r.c.referrer_id == j.c.referrer_id)
        .scalar_subquery()
    )  # fmt: skip
    behind = (
        select(j.c.campaign_id, j.c.referrer_id)
        .where(j.c.status == "qualified", granted_n == 0)
        .distinct()
    )
    touched |= {(x.campaign_id, x.referrer_id) for x in conn.execute(behind)}
    out: list[int] = []
    for campaign_id, referrer_id in sorted(touched):
        out += grant(conn, campaign_id, referrer_id, now)
    return out


def _insert_ignore(conn: Connection) -> Any:
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


def grant(conn: Connection, campaign_id: int, referrer_id: int, now: float) -> list[int]:
    """Rewards the referrer has reached and not yet got (each exactly once)."""
    c, j, rf, rw = (schema.invite_campaigns, schema.invite_joins, schema.invite_referrers,
                    schema.invite_rewards)  # fmt: skip
    camp = conn.execute(select(c).where(c.c.id == campaign_id)).first()
    ref = conn.execute(select(rf).where(rf.c.id == referrer_id)).first()
    if camp is None or ref is None:
        return []
    n = conn.execute(
        select(func.count()).where(
            j.c.campaign_id == campaign_id, j.c.referrer_id == referrer_id,
            j.c.status == "qualified",
        )
    ).scalar_one()  # fmt: skip
    out = []
    for tier in json.loads(camp.tiers or "[]"):
        if int(tier["n"]) > n:
            break
        points = int(tier.get("points") or 0)
        credit = points > 0 and bool(ref.group_id)
        stmt = (
            _insert_ignore(conn)(rw)
            .values(
                campaign_id=campaign_id, referrer_id=referrer_id, threshold=int(tier["n"]),
                reward=str(tier["reward"]), points=points,
                status="credited" if credit else "to_hand_out", granted_at=now,
            )
            .on_conflict_do_nothing()
            .returning(rw.c.id)
        )  # fmt: skip
        got = conn.execute(stmt).first()
        if got is None:
            continue  # granted before
        out.append(int(got.id))
        if credit:
            day = datetime.fromtimestamp(now, UTC).date().isoformat()
            award(conn, ref.platform, ref.group_id, ref.member_id, points=points,
                  reason=f"invite:{campaign_id}:{tier['n']}", day=day, ts=now, cap=points)  # fmt: skip
    return out


def leaderboard(conn: Connection, campaign_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """Referrers by qualified invites (then pending), with every standing counted."""
    rf, j = schema.invite_referrers, schema.invite_joins
    counts: dict[int, dict[str, int]] = {}
    q = (
        select(j.c.referrer_id, j.c.status, func.count())
        .where(j.c.campaign_id == campaign_id)
        .group_by(j.c.referrer_id, j.c.status)
    )
    for rid, status, n in conn.execute(q):
        counts.setdefault(rid, {})[status] = int(n)
    rows = conn.execute(select(rf).where(rf.c.campaign_id == campaign_id)).all()
    out = []
    for r in rows:
        k = counts.get(r.id, {})
        out.append({
            "id": r.id, "platform": r.platform, "member_id": r.member_id, "name": r.name or r.member_id,
            "ref": r.ref, "qualified": k.get("qualified", 0), "pending": k.get("pending", 0),
            "flagged": k.get("flagged", 0), "left": k.get("left", 0) + k.get("gate_failed", 0),
        })  # fmt: skip
    out.sort(key=lambda x: (-x["qualified"], -x["pending"], x["name"]))
    return out[:limit]


def flagged(conn: Connection, campaign_id: int) -> list[Any]:
    """Flagged invites of a campaign, newest first, with the referrer's name."""
    j, rf = schema.invite_joins, schema.invite_referrers
    q = (
        select(j, rf.c.name.label("referrer_name"), rf.c.member_id.label("referrer_member"))
        .join(rf, and_(rf.c.id == j.c.referrer_id))
        .where(j.c.campaign_id == campaign_id, j.c.status == "flagged")
        .order_by(j.c.ts.desc())
    )
    return list(conn.execute(q).all())
