"""Segments over an archive seeded from real exports (a Telegram export, two WeChat rooms).

Expected member sets are computed here with plain SQL over the archive, apart from
the CRM's own queries, and compared with what each filter returns.
"""

from __future__ import annotations

import io

import pytest
from console_helpers import AI, RUN, TG
from openpyxl import load_workbook
from sqlalchemy import text

from shequn.features import crm
from shequn.features.crm import export, segments, tags
from shequn.features.crm.segments import Filter
from shequn.store import Store, schema

DAY = 86400.0
SCOPE = [TG, AI, RUN]


def _sql(store: Store, sql: str, **params: object) -> set[tuple[str, str]]:
    with store.engine.connect() as conn:
        return {(r[0], r[1]) for r in conn.execute(text(sql), params)}


_IN_GROUPS = """
SELECT DISTINCT m.platform, m.platform_id FROM members m JOIN groups g ON g.id IN (
  SELECT group_id FROM messages WHERE member_id = m.id
  UNION SELECT group_id FROM membership_events WHERE member_id = m.id)
WHERE g.kind != 'private' {extra}
"""


def _keys(people: list[crm.Person]) -> set[tuple[str, str]]:
    return {p.key for p in people}


def _run(store: Store, f: Filter, now: float) -> list[crm.Person]:
    with store.engine.connect() as conn:
        everyone = crm.people(conn, SCOPE, now=now, buyers={})
    return segments.apply(f, everyone, now)


@pytest.fixture
def now(seeded: Store) -> float:
    with seeded.engine.connect() as conn:
        return float(conn.execute(text("SELECT MAX(ts) FROM messages")).scalar_one()) + 60


def test_groups_platforms_and_recency_match_plain_sql(seeded: Store, now: float) -> None:
    everyone = _sql(seeded, _IN_GROUPS.format(extra=""))
    assert len(everyone) == 15  # the private chat's only member is also in a room
    assert _keys(_run(seeded, Filter(), now)) == everyone
    run = _sql(seeded, _IN_GROUPS.format(extra="AND g.platform_id = :g"), g=RUN[1])
    assert _keys(_run(seeded, Filter(groups=(f"{RUN[0]}:{RUN[1]}",)), now)) == run
    assert {k for k in everyone if k[0] == "telegram"} == _keys(
        _run(seeded, Filter(platforms=("telegram",)), now)
    )
    since = now - 30 * DAY
    spoke = _sql(
        seeded,
        "SELECT DISTINCT m.platform, m.platform_id FROM members m JOIN messages x ON "
        "x.member_id = m.id JOIN groups g ON g.id = x.group_id "
        "WHERE x.ts >= :since AND x.kind != 'system' AND g.kind != 'private'",
        since=since,
    )
    assert spoke and spoke != everyone
    assert _keys(_run(seeded, Filter(spoke_within=30), now)) == spoke
    assert _keys(_run(seeded, Filter(silent_over=30), now)) == everyone - spoke
    joined = _sql(
        seeded,
        "SELECT DISTINCT m.platform, m.platform_id FROM members m JOIN membership_events e "
        "ON e.member_id = m.id WHERE e.action = 'join' AND e.ts >= :since",
        since=since,
    )
    assert len(joined) == 4
    assert _keys(_run(seeded, Filter(joined_within=30), now)) == joined


def test_points_layers_strikes_tags_city_and_orders(seeded: Store, now: float) -> None:
    alice, bob, chen = (
        ("wechat", "wxid_alice_cn"),
        ("wechat", "wxid_bob_dev"),
        ("wechat", "wxid_chen_runner"),
    )
    with seeded.engine.begin() as conn:
        for (platform, member), group, delta in (
            (alice, AI, 12),
            (bob, AI, 5),
            (bob, AI, 4),
            (chen, RUN, 30),
        ):
            conn.execute(schema.points_ledger.insert().values(
                platform=platform, group_id=group[1], member_id=member, delta=delta,
                reason="checkin", day="2023-11-16", ts=now))  # fmt: skip
        conn.execute(schema.points_ledger.insert().values(  # a group out of scope: not counted
            platform="wechat", group_id="elsewhere", member_id=bob[1], delta=100, reason="x",
            day="2023-11-16", ts=now))  # fmt: skip
        conn.execute(schema.layer_members.insert().values(
            platform="wechat", group_id=AI[1], member_id=bob[1], layer="spreader", since=now))  # fmt: skip
        conn.execute(schema.strikes.insert().values(
            platform="wechat", group_id=RUN[1], member_id=chen[1], rule="ad", created_at=now,
            expires_at=now + DAY))  # fmt: skip
        tags.add_tag(conn, alice, "city", "上海", by="t", now=now)
        tags.add_tag(conn, chen, "city", "上海", by="t", now=now)
        tags.add_tag(conn, chen, "interest", "跑步", by="t", now=now)
        crm.record_order(
            conn, crm.OrderInput("wechat", chen[1], 9900, now), source="manual", by="t", now=now
        )
    assert _keys(_run(seeded, Filter(min_points=10), now)) == {alice, chen}
    assert _keys(_run(seeded, Filter(min_points=9), now)) == {alice, bob, chen}
    assert _keys(_run(seeded, Filter(layers=("spreader", "active")), now)) == {bob}
    assert _keys(_run(seeded, Filter(min_strikes=1), now)) == {chen}
    assert _keys(_run(seeded, Filter(city="上海"), now)) == {alice, chen}
    assert _keys(_run(seeded, Filter(tags=("上海", "interest:跑步")), now)) == {chen}
    assert _keys(_run(seeded, Filter(tags=("city:跑步",)), now)) == set()
    assert _keys(_run(seeded, Filter(has_ordered=True), now)) == {chen}
    assert chen not in _keys(_run(seeded, Filter(has_ordered=False), now))
    combined = Filter(city="上海", min_points=20, groups=(f"{RUN[0]}:{RUN[1]}",))
    assert _keys(_run(seeded, combined, now)) == {chen}


def test_filter_from_form_round_trips_and_rejects_bad_numbers() -> None:
    form = {"groups": ["wechat:a,wechat:b"], "tags": ["city:上海, 跑步"], "min_points": "10",
            "likely_buyer": "1", "has_ordered": "no"}  # fmt: skip

    def get(k: str) -> str:
        v = form.get(k, "")
        return v if isinstance(v, str) else v[0]

    def getlist(k: str) -> list[str]:
        v = form.get(k, [])
        return [v] if isinstance(v, str) else list(v)

    f = Filter.from_params(get, getlist)
    assert f.groups == ("wechat:a", "wechat:b") and f.tags == ("city:上海", "跑步")
    assert f.min_points == 10 and f.likely_buyer and f.has_ordered is False
    assert Filter.from_json(f.to_json()) == f
    form["min_points"] = "ten"
    with pytest.raises(ValueError, match="min_points"):
        Filter.from_params(get, getlist)
    assert Filter(min_points=0).as_dict() == {"min_points": 0}


def test_saved_segment_exports_to_csv_and_excel(seeded: Store, now: float) -> None:
    f = Filter(groups=(f"{AI[0]}:{AI[1]}",))
    with seeded.engine.begin() as conn:
        sid = segments.save_segment(conn, "AI 群", f, by="t", now=now)
        with pytest.raises(ValueError, match="exists"):
            segments.save_segment(conn, "AI 群", Filter(), by="t", now=now)
        tags.add_tag(conn, ("wechat", "wxid_bob_dev"), "", "=HYPERLINK(1)", by="t", now=now)
        row = segments.segment(conn, sid)
    assert row is not None and Filter.from_json(row.filter) == f
    found = _run(seeded, Filter.from_json(row.filter), now)
    data = export.rows(found)
    wb = load_workbook(io.BytesIO(export.to_xlsx(export.header("en"), data, title=row.name)))
    sheet = list(wb.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert sheet[0][:3] == ("Platform", "Member id", "Name")
    assert {(r[0], r[1]) for r in sheet[1:]} == _keys(found)
    assert len(sheet) - 1 == len(found) == 3  # 阿杰, 爱丽丝, Bob
    csv_text = export.to_csv(export.header("zh"), data).decode("utf-8-sig")
    assert csv_text.startswith("平台,会员 ID,名字")
    assert "'=HYPERLINK(1)" in csv_text  # a formula-looking tag is defused
