"""The portfolio's active-members trend and the group page's member columns (issue 5)."""

from __future__ import annotations

import re
from collections.abc import Callable

from console_helpers import AI, T0, TG, add_user, group_id
from fastapi.testclient import TestClient
from sqlalchemy import select

from shequn.console.portfolio import trend_of
from shequn.store import Store, schema


def test_trend_line_and_direction() -> None:
    up = trend_of([0, 0, 1, 1, 4, 6, 8, 10])
    assert up.direction == "up" and (up.first, up.last) == (0, 10)
    pts = [tuple(map(float, p.split(","))) for p in up.points.split()]
    assert len(pts) == 8 and pts[0] == (0.0, 19.0) and pts[-1] == (80.0, 1.0)
    assert [x for x, _ in pts] == sorted(x for x, _ in pts)
    assert trend_of([10, 9, 10, 9, 3, 2, 2, 1]).direction == "down"
    assert trend_of([5, 5, 5, 5, 5, 5, 5, 5]).direction == "flat"
    assert trend_of([5, 5, 5, 5, 5, 5, 5, 5]).points.split()[0] == "0.0,1.0"
    assert trend_of([]).weeks == () and trend_of([]).points == ""


def test_portfolio_shows_eight_weeks_of_active_members(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "boss", "owner")
    page = app_client("boss").get("/", params={"lang": "en"}).text
    gid = group_id(seeded, AI)
    cell = page.split(f'data-testid="trend-{gid}">', 1)[1].split("</td>", 1)[0]
    found = re.search(r'aria-label="Weekly active members, last 8 weeks: ([\d, ]+)"', cell)
    assert found, cell
    weeks = [int(x) for x in found.group(1).split(", ")]
    # the latest week is the "active 7 days" figure of the same row; the room is new
    row = page.split(f'href="/groups/{gid}"', 1)[1].split("</tr>", 1)[0]
    active = re.search(r'data-label="Active 7d">(\d+)<', row)
    assert active, row
    assert weeks[-1] == int(active.group(1)) == 3 and sum(weeks[:-1]) == 0
    assert "<polyline" in cell and "trend-up" in cell and "0→3 ↑" in cell


def test_group_members_show_layer_points_tags_and_link_to_the_crm(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "m", "manager", "A")
    with seeded.engine.begin() as conn:
        mem = schema.members
        who = conn.execute(
            select(mem.c.platform_id).where(mem.c.platform == TG[0]).order_by(mem.c.id).limit(1)
        ).scalar_one()
        conn.execute(
            schema.layer_members.insert().values(
                platform=TG[0], group_id=TG[1], member_id=who, layer="opinion_leader", since=T0
            )
        )
        for delta in (5, 3, -2):
            conn.execute(
                schema.points_ledger.insert().values(
                    platform=TG[0], group_id=TG[1], member_id=who, delta=delta, reason="checkin",
                    day="2026-01-01", ts=T0,
                )
            )  # fmt: skip
        conn.execute(  # points in another group do not count here
            schema.points_ledger.insert().values(
                platform=TG[0], group_id="other", member_id=who, delta=100, reason="checkin",
                day="2026-01-01", ts=T0,
            )
        )  # fmt: skip
        conn.execute(
            schema.member_tags.insert().values(
                platform=TG[0], member_id=who, category="city", tag="上海", source="console",
                created_at=T0,
            )
        )  # fmt: skip
    page = app_client("m").get(f"/groups/{group_id(seeded, TG)}", params={"lang": "en"}).text
    members = page.split('id="members"', 1)[1]
    row = members.split(f'href="/members/telegram/{who}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-testid="member-layer">Opinion leader<' in row
    assert 'data-testid="member-points">6<' in row
    assert "city:上海" in row
    assert "Bystander" not in members.split("<tbody>", 1)[1].split("</tbody>")[0]  # no layer: —
