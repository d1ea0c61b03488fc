"""The invites console: 活码 and campaigns, permissions, audit rows, the public /j/ page."""

from __future__ import annotations

from collections.abc import Callable

from console_helpers import AI, TG, add_user, csrf_of
from fastapi.testclient import TestClient
from sqlalchemy import select

from shequn.store import Store, schema


def _post(client: TestClient, page: str, url: str, data: dict[str, object]) -> object:
    token = csrf_of(client.get(page).text)
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=False)


def _audit(store: Store) -> list[str]:
    a = schema.console_audit
    with store.engine.connect() as conn:
        return [r.action for r in conn.execute(select(a.c.action).order_by(a.c.id))]


def test_codes_campaigns_and_permissions(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "boss", "owner")
    add_user(seeded, "rita", "recruiter", "A")
    add_user(seeded, "vic", "viewer", "A")
    add_user(seeded, "pat", "partner", "A")
    boss, rita, vic, pat = (app_client(n) for n in ("boss", "rita", "vic", "pat"))
    tg, ai = f"{TG[0]}:{TG[1]}", f"{AI[0]}:{AI[1]}"
    r = _post(boss, "/invites", "/invites/codes",
              {"name": "春季活码", "code": "spring", "cap": "500", "reserve": "10", "group": [tg, ai]})  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/invites/codes/1?msg=saved"  # type: ignore[attr-defined]
    page = boss.get("/invites/codes/1?lang=zh").text
    assert "春季活码" in page and "/j/spring" in page and "未设置链接" in page
    assert "Newcomers now go to: 1000000001" in boss.get("/invites/codes/1?lang=en").text
    # a recruiter of set A does not reach the wechat group: the code is out of sight
    assert "春季活码" not in rita.get("/invites").text
    assert rita.get("/invites/codes/1").status_code == 404
    r = _post(rita, "/invites", "/invites/codes", {"name": "tg only", "group": [tg]})
    assert r.status_code == 303  # type: ignore[attr-defined]
    r = _post(rita, "/invites", "/invites/codes", {"name": "sneaky", "group": [ai]})
    assert r.status_code == 403  # type: ignore[attr-defined]
    r = _post(vic, "/invites", "/invites/codes", {"name": "viewer", "group": [tg]})
    assert r.status_code == 403  # type: ignore[attr-defined]
    # the recruiter edits their code's group: link pasted by hand (Telegram link here)
    t = schema.invite_targets
    with seeded.engine.connect() as conn:
        tid = conn.execute(select(t.c.id).where(t.c.code_id == 2)).scalar_one()
    r = _post(rita, "/invites/codes/2", f"/invites/targets/{tid}",
              {"link": "https://t.me/+rita", "status": "open"})  # fmt: skip
    assert r.status_code == 303  # type: ignore[attr-defined]
    assert _post(
        vic, "/invites", f"/invites/targets/{tid}", {"link": "https://x.y"}
    ).status_code in (403, 404)  # type: ignore[attr-defined]
    # a campaign over the recruiter's code; tiers parsed, leaderboard for those who see members
    r = _post(rita, "/invites", "/invites/campaigns",
              {"name": "老带新", "code_id": "2", "stay_days": "7", "tiers": "3=红包5元; 10=100 points"})  # fmt: skip
    assert r.status_code == 303  # type: ignore[attr-defined]
    cid = int(r.headers["location"].split("/")[3].split("?")[0])  # type: ignore[attr-defined]
    r = _post(rita, f"/invites/campaigns/{cid}", f"/invites/campaigns/{cid}/enrol",
              {"group": tg, "member_id": "424242", "name": "Mia"})  # fmt: skip
    assert r.status_code == 303  # type: ignore[attr-defined]
    board = rita.get(f"/invites/campaigns/{cid}?lang=en").text
    assert "Mia" in board and "/j/" in board and "3=红包5元; 10=100 points" in board
    partner = pat.get(f"/invites/campaigns/{cid}?lang=en").text
    assert "Mia" not in partner and "does not see member data" in partner
    # a reward reached (granted by the tick), handed out by the team
    with seeded.engine.begin() as conn:
        rf = schema.invite_referrers
        mia = conn.execute(select(rf.c.id).where(rf.c.member_id == "424242")).scalar_one()
        conn.execute(schema.invite_rewards.insert().values(
            campaign_id=cid, referrer_id=mia, threshold=3, reward="红包5元", points=0,
            status="to_hand_out", granted_at=1.0))  # fmt: skip
    assert "hand-out-1" in rita.get(f"/invites/campaigns/{cid}").text
    assert _post(vic, "/invites", "/invites/rewards/1/handed-out", {}).status_code in (403, 404)  # type: ignore[attr-defined]
    r = _post(rita, f"/invites/campaigns/{cid}", "/invites/rewards/1/handed-out", {})
    assert r.status_code == 303  # type: ignore[attr-defined]
    with seeded.engine.connect() as conn:
        assert conn.execute(select(schema.invite_rewards.c.status)).scalar_one() == "handed_out"
    assert rita.get("/invites/tree?lang=zh").status_code == 200
    r = _post(rita, "/invites/tree", "/invites/seeds", {"group": tg, "first": "3"})
    assert r.status_code == 303  # type: ignore[attr-defined]
    with seeded.engine.connect() as conn:
        assert conn.execute(select(schema.invite_seeds)).all()  # the export's first members
    assert _audit(seeded)[-7:] == [
        "invites.code.create", "invites.code.create", "invites.target.edit",
        "invites.campaign.create", "invites.campaign.enrol", "invites.reward.handed_out",
        "invites.seed.mark",
    ]  # fmt: skip

    # every invites POST refuses a request without the session's CSRF token
    before = _audit(seeded)
    for path in ("/invites/codes", "/invites/codes/1", "/invites/codes/1/targets",
                 f"/invites/targets/{tid}", f"/invites/targets/{tid}/platform-link",
                 "/invites/campaigns", f"/invites/campaigns/{cid}",
                 f"/invites/campaigns/{cid}/enrol", "/invites/seeds",
                 "/invites/rewards/1/handed-out"):  # fmt: skip
        r = boss.post(path, data={"name": "x", "group": tg, "member_id": "1", "first": "1"})
        assert r.status_code == 403, path
    assert _audit(seeded) == before
    # a live platform that cannot make links by API says so (the fake is not Telegram's)
    r = _post(rita, "/invites/codes/2", f"/invites/targets/{tid}/platform-link", {})
    assert "cannot create invite links by API" in r.text  # type: ignore[attr-defined]

    # the public page: no sign-in; a redirect to the group's link, counted per group
    anon = app_client()
    r = anon.get("/j/spring", follow_redirects=False)
    assert r.status_code == 200 and 'data-testid="qr"' not in r.text  # no link yet: shown, not sent
    with seeded.engine.begin() as conn:
        conn.execute(t.update().where(t.c.code_id == 1, t.c.group_id == TG[1])
                     .values(link="https://t.me/+spring"))  # fmt: skip
    r = anon.get("/j/spring", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "https://t.me/+spring")
    with seeded.engine.begin() as conn:  # the Telegram group fills up: on to the WeChat group
        conn.execute(t.update().where(t.c.code_id == 1, t.c.group_id == TG[1]).values(size=495))
        conn.execute(t.update().where(t.c.code_id == 1, t.c.group_id == AI[1])
                     .values(qr_url="https://example.com/wechat-qr.png"))  # fmt: skip
    r = anon.get("/j/spring?lang=zh")
    assert r.status_code == 200 and "https://example.com/wechat-qr.png" in r.text
    assert "img-src 'self' data: https:" in r.headers["content-security-policy"]
    with seeded.engine.begin() as conn:
        conn.execute(
            t.update().where(t.c.code_id == 1, t.c.group_id == AI[1]).values(status="archived")
        )
    assert 'data-testid="all-full"' in anon.get("/j/spring").text
    assert anon.get("/j/nope").status_code == 404
    v = schema.invite_visits
    with seeded.engine.connect() as conn:
        visits = conn.execute(select(v.c.target_id).where(v.c.code_id == 1).order_by(v.c.id)).all()
    assert [x.target_id is None for x in visits] == [False, False, False, True]
    assert "访问 4" in boss.get("/invites/codes/1?lang=zh").text
