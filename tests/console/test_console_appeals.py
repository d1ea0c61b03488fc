"""Appeals in the console: the queue shows an appeal with accept and reject; accepting
lifts the running mute and revokes the strike, rejecting tells the member why; both
are in the console's audit log, and roles without undo rights can do neither."""

from __future__ import annotations

import json
from collections.abc import Callable

from console_helpers import T0, TG, add_user, csrf_of, group_id, plan_mute
from fastapi.testclient import TestClient
from sqlalchemy import select

from shequn.actions import appeals
from shequn.platforms.port import FakePlatform
from shequn.store import Store, schema

MEMBER = "user900000003"


def appeal_against_the_mute(store: Store, platform: FakePlatform, reason: str) -> int:
    plan_mute(store, platform, TG, MEMBER)
    with store.engine.begin() as conn:
        strike = appeals.appealable_strike(conn, TG[0], TG[1], MEMBER, T0 + 60)
        assert strike is not None
        return appeals.open_appeal(conn, strike, reason, member_name="小明", now=T0 + 60)


def test_accepting_an_appeal_lifts_the_mute_and_tells_the_member(
    seeded: Store, app_client: Callable[..., TestClient], fake: FakePlatform
) -> None:
    add_user(seeded, "m", "manager", "A")
    aid = appeal_against_the_mute(seeded, fake, "我发的是<官方>活动")
    client = app_client("m")
    gid = group_id(seeded, TG)
    page = client.get(f"/groups/{gid}").text
    assert f'data-testid="appeal-{aid}"' in page
    assert "我发的是&lt;官方&gt;活动" in page and "buy now" in page  # reason and evidence, escaped
    r = client.post(f"/groups/{gid}/appeals/{aid}/accept", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 200 and "msg=appeal_accepted" in str(r.url)
    assert f'data-testid="appeal-{aid}"' not in r.text  # decided: gone from the queue
    assert [(c.name, c.args.get("seconds"), c.args.get("text")) for c in fake.calls] == [
        ("mute", 600, None),
        ("mute", 0, None),
        ("send", None, f"@小明 你的申诉（#{aid}）已通过，这次违规记录已撤销。"),
    ]
    a, s, h, ca = schema.appeals, schema.strikes, schema.human_tasks, schema.console_audit
    with seeded.engine.connect() as conn:
        assert conn.execute(select(a.c.status, a.c.decided_by)).one() == ("accepted", "console:m")
        assert conn.execute(select(s.c.status)).scalar() == "revoked"
        assert conn.execute(select(h.c.status)).scalar() == "done"
        row = conn.execute(select(ca).where(ca.c.action == "appeal.accept")).one()
    assert (row.user_name, row.platform, row.group_id, row.target) == ("m", *TG, f"appeal:{aid}")
    assert json.loads(row.before) == {"status": "open"}
    again = client.post(f"/groups/{gid}/appeals/{aid}/reject", data={"csrf_token": csrf_of(page)})
    assert "msg=appeal_decided" in str(again.url)
    assert len(fake.calls) == 3


def test_rejecting_keeps_the_strike_and_sends_the_note(
    seeded: Store, app_client: Callable[..., TestClient], fake: FakePlatform
) -> None:
    add_user(seeded, "boss", "owner")
    aid = appeal_against_the_mute(seeded, fake, "误判")
    client = app_client("boss")
    gid = group_id(seeded, TG)
    token = csrf_of(client.get(f"/groups/{gid}").text)
    r = client.post(
        f"/groups/{gid}/appeals/{aid}/reject",
        data={"csrf_token": token, "note": "  群规第 3 条：\n禁止推广其他群  "},
    )
    assert "msg=appeal_rejected" in str(r.url)
    assert (
        fake.calls[-1].args["text"]
        == f"@小明 你的申诉（#{aid}）未通过。说明：群规第 3 条： 禁止推广其他群"
    )
    with seeded.engine.connect() as conn:
        assert conn.execute(select(schema.strikes.c.status)).scalar() == "active"
        got = conn.execute(select(schema.appeals.c.status, schema.appeals.c.note)).one()
    assert tuple(got) == ("rejected", "群规第 3 条： 禁止推广其他群")


def test_a_viewer_sees_no_buttons_and_cannot_decide(
    seeded: Store, app_client: Callable[..., TestClient], fake: FakePlatform
) -> None:
    add_user(seeded, "v", "viewer", "A")
    aid = appeal_against_the_mute(seeded, fake, "误判")
    client = app_client("v")
    gid = group_id(seeded, TG)
    page = client.get(f"/groups/{gid}").text
    assert "误判" in page and f'data-testid="accept-{aid}"' not in page
    r = client.post(f"/groups/{gid}/appeals/{aid}/accept", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 403
    with seeded.engine.connect() as conn:
        assert conn.execute(select(schema.appeals.c.status)).scalar() == "open"


def test_an_appeal_of_another_group_is_not_found_here(
    seeded: Store, app_client: Callable[..., TestClient], fake: FakePlatform
) -> None:
    from console_helpers import AI

    add_user(seeded, "boss", "owner")
    aid = appeal_against_the_mute(seeded, fake, "误判")  # in the Telegram group
    client = app_client("boss")
    gid = group_id(seeded, AI)
    token = csrf_of(client.get(f"/groups/{gid}").text)
    assert (
        client.post(f"/groups/{gid}/appeals/{aid}/accept", data={"csrf_token": token}).status_code
        == 404
    )
    assert (
        client.post(f"/groups/{gid}/appeals/{aid}/maybe", data={"csrf_token": token}).status_code
        == 404
    )


def test_an_alert_links_to_its_message_in_context(
    seeded: Store, app_client: Callable[..., TestClient], fake: FakePlatform
) -> None:
    from shequn.actions.moderation import raise_alert

    add_user(seeded, "m", "manager", "A")
    gid = group_id(seeded, TG)
    m = schema.messages
    with seeded.engine.begin() as conn:
        ids = conn.execute(
            select(m.c.platform_id, m.c.text).where(m.c.group_id == gid).order_by(m.c.id)
        ).all()
        pid, text = ids[len(ids) // 2]
        alert = raise_alert(conn, platform=TG[0], group_id=TG[1], kind="uncertain", now=T0,
                            member_id=MEMBER, message_ids=[pid], detail="ad 0.62")  # fmt: skip
    assert len(ids) > 40  # the real export: enough on both sides
    client = app_client("m")
    page = client.get(f"/groups/{gid}").text
    link = f'href="/groups/{gid}/context?m={pid}" data-testid="context-alert-{alert}"'
    assert link in page
    context = client.get(f"/groups/{gid}/context", params={"m": pid}).text
    assert context.count("<tr") == 1 + 31  # the header, 15 before, the message, 15 after
    target = context.split('data-testid="context-target"', 1)[1].split("</tr>", 1)[0]
    if text:
        assert f"<strong>{text[:20]}" in target.replace("&#39;", "'").replace("&amp;", "&")
    missing = client.get(f"/groups/{gid}/context", params={"m": "no-such-id"}).text
    assert 'data-testid="context-missing"' in missing


def test_an_appeal_links_to_the_struck_message_and_viewers_outside_cannot_look(
    seeded: Store, app_client: Callable[..., TestClient], fake: FakePlatform
) -> None:
    add_user(seeded, "m", "manager", "A")
    add_user(seeded, "b", "manager", "B")
    aid = appeal_against_the_mute(seeded, fake, "误判")
    gid = group_id(seeded, TG)
    page = app_client("m").get(f"/groups/{gid}").text
    assert f'href="/groups/{gid}/context?m=m1"' in page  # the strike's message
    assert app_client("b").get(f"/groups/{gid}/context", params={"m": "m1"}).status_code == 404
    assert f"appeal-{aid}" in page
