"""The blocklist page: listings with their evidence (for those who reach the group), lift
with unbans carried out, listing by hand, each in the console audit log; only owners
and managers reach it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from console_helpers import T0, TG, add_user, csrf_of
from fastapi.testclient import TestClient
from sqlalchemy import select

from shequn.actions import blocklist, moderation
from shequn.platforms.port import FakePlatform
from shequn.store import Store, schema

SPAMMER = "user900000003"  # posts in the Telegram sample
OTHER_GROUP = "-1009999"


def listed_by_the_ladder(store: Store, platform: FakePlatform) -> int:
    """The ladder's kick in TG listed the member; the list banned them in another group."""
    with store.engine.begin() as conn:
        kick = moderation.plan(
            conn, platform, group_id=TG[1], member_id=SPAMMER, kind="kick",
            reason="strike.ad", now=T0,
        )  # fmt: skip
        eid = blocklist.add(
            conn, platform=TG[0], member_id=SPAMMER, member_name="推广号", group_id=TG[1],
            rule="ad", action_id=kick, evidence={"text": "加V领福利 <速来>"}, now=T0,
        )  # fmt: skip
        assert eid is not None
        entry = conn.execute(select(schema.blocklist)).one()
        blocklist.remove(conn, platform, entry, OTHER_GROUP, now=T0)
    asyncio.run(moderation.carry_out(store, platform, now=T0))
    platform.calls.clear()
    return eid


def test_a_manager_sees_the_listing_and_lifts_it(
    seeded: Store, app_client: Callable[..., TestClient], fake: FakePlatform
) -> None:
    add_user(seeded, "m", "manager", "A")
    eid = listed_by_the_ladder(seeded, fake)
    client = app_client("m")
    page = client.get("/blocklist").text
    assert f'data-testid="entry-{eid}"' in page
    assert "推广号" in page and f"telegram:{SPAMMER}" in page
    assert "加V领福利 &lt;速来&gt;" in page  # the evidence, escaped
    assert 'Reason">ads<br>' in page  # the rule, named
    r = client.post(f"/blocklist/{eid}/lift",
                    data={"csrf_token": csrf_of(page), "note": "误封，已核实"})  # fmt: skip
    assert r.status_code == 200 and "msg=lifted" in str(r.url)
    assert [(c.name, c.args) for c in fake.calls] == [
        ("unban", {"group_id": OTHER_GROUP, "member_id": SPAMMER})
    ]
    b, ca = schema.blocklist, schema.console_audit
    with seeded.engine.connect() as conn:
        entry = conn.execute(select(b)).one()
        row = conn.execute(select(ca).where(ca.c.action == "blocklist.lift")).one()
    assert (entry.status, entry.lifted_by, entry.note) == ("lifted", "console:m", "误封，已核实")
    assert row.target == f"blocklist:{eid}" and json.loads(row.after)["note"] == "误封，已核实"
    again = client.post(f"/blocklist/{eid}/lift", data={"csrf_token": csrf_of(page)})
    assert "msg=lift_refused" in str(again.url)
    zh = client.get("/blocklist?status=all&lang=zh").text
    assert "全局黑名单" in zh and "已解除" in zh and "广告" in zh
    assert len(fake.calls) == 1
    assert f'data-testid="entry-{eid}"' not in client.get("/blocklist").text  # active only
    assert f'data-testid="entry-{eid}"' in client.get("/blocklist?status=lifted").text


def test_evidence_is_shown_only_to_those_who_reach_the_group(
    seeded: Store, app_client: Callable[..., TestClient], fake: FakePlatform
) -> None:
    add_user(seeded, "mb", "manager", "B")  # the WeChat rooms, not the Telegram group
    eid = listed_by_the_ladder(seeded, fake)
    page = app_client("mb").get("/blocklist").text
    assert f'data-testid="entry-{eid}"' in page
    assert "加V领福利" not in page and "a group outside your reach" in page


def test_listing_by_hand(seeded: Store, app_client: Callable[..., TestClient]) -> None:
    add_user(seeded, "boss", "owner")
    client = app_client("boss")
    token = csrf_of(client.get("/blocklist").text)
    form = {"csrf_token": token, "platform": "telegram", "member_id": SPAMMER,
            "note": "members reported a scam"}  # fmt: skip
    assert "msg=listed" in str(client.post("/blocklist", data=form).url)
    assert "msg=already_listed" in str(client.post("/blocklist", data=form).url)
    bad = {**form, "platform": "myspace"}
    assert "msg=bad_member" in str(client.post("/blocklist", data=bad).url)
    b, ca = schema.blocklist, schema.console_audit
    with seeded.engine.connect() as conn:
        entry = conn.execute(select(b)).one()
        row = conn.execute(select(ca).where(ca.c.action == "blocklist.add")).one()
    assert (entry.member_id, entry.created_by, entry.swept_at, entry.note) == (
        SPAMMER,
        "console:boss",
        None,
        "members reported a scam",
    )  # swept by the bot's next tick (tests/engine/test_bot_blocklist.py)
    assert entry.member_name  # the archive's name for them
    assert row.target == f"blocklist:{entry.id}"


def test_other_roles_cannot_reach_it(
    seeded: Store, app_client: Callable[..., TestClient], fake: FakePlatform
) -> None:
    eid = listed_by_the_ladder(seeded, fake)
    for role in ("viewer", "recruiter", "partner"):
        add_user(seeded, role, role, "A")
        client = app_client(role)
        assert client.get("/blocklist").status_code == 403
        token = csrf_of(client.get("/").text)
        assert client.post(f"/blocklist/{eid}/lift", data={"csrf_token": token}).status_code == 403
        assert 'href="/blocklist"' not in client.get("/").text
    with seeded.engine.connect() as conn:
        assert conn.execute(select(schema.blocklist.c.status)).scalar() == "active"
    assert fake.calls == []
