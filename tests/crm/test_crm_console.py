"""The member CRM in the console (TestClient): pages, changes with audit rows, reach."""

from __future__ import annotations

from collections.abc import Callable

from console_helpers import AI, RUN, TG, add_user, csrf_of
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shequn.store import Store, schema

ALICE = "/members/wechat/wxid_alice_cn"  # in the AI group (set B)
TG_MEMBER = "/members/telegram/user900000003"


def _audit(store: Store, action: str) -> int:
    a = schema.console_audit
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(a.c.action == action)).scalar_one())


def test_pages_render_in_both_languages(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "mia", "manager", "A", "B")
    client = app_client("mia")
    pages = ("/members", "/members/buyers", "/members/funnel", "/members/campaigns",
             "/members/orders", ALICE, TG_MEMBER)  # fmt: skip
    for path, lang in [(p, "zh") for p in pages] + [(ALICE, "en"), ("/members/orders", "en")]:
        r = client.get(path, params={"lang": lang})
        assert r.status_code == 200, (path, lang, r.text[:500])
    page = client.get("/members", params={"lang": "zh"}).text
    assert "会员与分群" in page and "爱丽丝" in page
    assert "Opinion leader" in client.get("/members", params={"lang": "en"}).text


def test_member_out_of_reach_is_404_and_viewer_cannot_edit(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "pat", "viewer", "A")  # sees the Telegram group only
    client = app_client("pat")
    assert client.get(TG_MEMBER).status_code == 200
    assert client.get(ALICE).status_code == 404
    assert client.get("/members/wechat/nobody").status_code == 404
    assert "爱丽丝" not in client.get("/members").text
    csrf = csrf_of(client.get(TG_MEMBER).text)
    r = client.post(
        f"{TG_MEMBER}/tags", data={"csrf_token": csrf, "category": "city", "tag": "上海"}
    )
    assert r.status_code == 403
    r = client.post(f"{ALICE}/tags", data={"csrf_token": csrf, "category": "city", "tag": "上海"})
    assert r.status_code == 404
    assert client.get("/members/orders").status_code == 403  # no record_orders at all
    add_user(seeded, "pia", "partner", "A", "B")  # figures only, no member data
    assert app_client("pia").get("/members").status_code == 403
    assert app_client("pia").get(TG_MEMBER).status_code == 404


def test_tag_note_link_order_each_write_an_audit_row(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "mia", "manager", "A", "B")
    client = app_client("mia")
    csrf = csrf_of(client.get(ALICE).text)
    ok = {"follow_redirects": False}
    assert (
        client.post(
            f"{ALICE}/tags", data={"csrf_token": csrf, "category": "city", "tag": "上海"}, **ok
        ).status_code
        == 303
    )  # type: ignore[arg-type]
    assert (
        client.post(
            f"{ALICE}/notes", data={"csrf_token": csrf, "text": "想要团购"}, **ok
        ).status_code
        == 303
    )  # type: ignore[arg-type]
    r = client.post(
        f"{ALICE}/link", data={"csrf_token": csrf, "other": "telegram:user900000003"}, **ok
    )  # type: ignore[arg-type]
    assert r.status_code == 303
    r = client.post(
        f"{ALICE}/orders", data={"csrf_token": csrf, "amount": "99.90", "item": "跑鞋"}, **ok
    )  # type: ignore[arg-type]
    assert r.status_code == 303
    page = client.get(ALICE).text
    assert "上海" in page and "想要团购" in page and "跑鞋" in page and "99.90" in page
    assert "telegram:user900000003" in page  # the linked account shows on the page
    # the Telegram account's page is the same person: the order shows there too
    assert "跑鞋" in client.get(TG_MEMBER).text
    for action in ("crm.tag.add", "crm.note.add", "crm.identity.link", "crm.order.record"):
        assert _audit(seeded, action) == 1, action
    # a viewer of set A sees the Telegram account but not that it is linked to a WeChat one
    add_user(seeded, "pat", "viewer", "A")
    assert "wxid_alice_cn" not in app_client("pat").get(TG_MEMBER).text
    r = client.post(
        f"{ALICE}/unlink", data={"csrf_token": csrf, "account": "telegram:user900000003"}, **ok
    )  # type: ignore[arg-type]
    assert r.status_code == 303
    assert "跑鞋" not in client.get(TG_MEMBER).text
    assert _audit(seeded, "crm.identity.unlink") == 1


def test_segment_save_export_and_permissions(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "mia", "manager", "A", "B")
    client = app_client("mia")
    csrf = csrf_of(client.get("/members").text)
    r = client.post(
        "/members/segments",
        data={"csrf_token": csrf, "name": "跑团", "groups": f"{RUN[0]}:{RUN[1]}"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    seg = r.headers["location"].split("?")[0]
    page = client.get(seg).text
    assert "晨跑的陈" in page and "爱丽丝" not in page
    r = client.post(f"{seg}/export", data={"csrf_token": csrf, "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.content.decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("平台,会员 ID") or lines[0].startswith("Platform")
    assert len(lines) - 1 == page.count('data-testid="person"')
    assert _audit(seeded, "crm.export") == 1
    assert _audit(seeded, "crm.segment.save") == 1
    # a recruiter may view and tag, but not export
    add_user(seeded, "rex", "recruiter", "B")
    rex = app_client("rex")
    rcsrf = csrf_of(rex.get(seg).text)
    assert (
        rex.post(f"{seg}/export", data={"csrf_token": rcsrf, "format": "xlsx"}).status_code == 403
    )
    r = rex.post(f"{seg}/tag", data={"csrf_token": rcsrf, "category": "interest", "tag": "跑步"},
                 follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert "跑步" in rex.get(seg).text
    assert _audit(seeded, "crm.tag.bulk") == 1


def test_campaign_to_segment_records_coupons_and_queues_a_mass_message(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "mia", "manager", "A", "B")
    client = app_client("mia")
    csrf = csrf_of(client.get("/members").text)
    r = client.post("/members/segments", data={"csrf_token": csrf, "name": "AI",
                    "groups": f"{AI[0]}:{AI[1]}"}, follow_redirects=False)  # fmt: skip
    seg = r.headers["location"].split("?")[0]
    size = client.get(seg).text.count('data-testid="person"')
    r = client.post(
        f"{seg}/campaign",
        data={"csrf_token": csrf, "name": "双十一", "text": "全场八折，用码 {code}", "code": "AI11",
              "announce": "on"},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303, r.text
    with seeded.engine.connect() as conn:
        coupons = conn.execute(select(schema.crm_coupons)).all()
        mass = conn.execute(select(schema.content_mass)).one()
        sends = conn.execute(select(schema.content_sends)).all()
    assert len(coupons) == size and {c.code for c in coupons} == {"AI11"}
    assert mass.text == "全场八折，用码 AI11"
    assert [(s.platform, s.group_id) for s in sends] == [AI]
    page = client.get(r.headers["location"]).text
    assert "双十一" in page
    assert TG not in [(s.platform, s.group_id) for s in sends]


def test_orders_upload_is_all_or_nothing_and_funnel_page_counts(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "mia", "manager", "A", "B")
    client = app_client("mia")
    csrf = csrf_of(client.get("/members/orders").text)
    bad = (
        "order_id,platform,member_id,amount\nW1,wechat,wxid_alice_cn,10\nW2,wechat,wxid_bob_dev,x\n"
    )
    r = client.post("/members/orders/import", data={"csrf_token": csrf},
                    files={"file": ("shop.csv", bad.encode(), "text/csv")})  # fmt: skip
    assert r.status_code == 200 and "shop.csv:3: not an amount" in r.text
    outside = "order_id,platform,member_id,amount\nW1,wechat,someone_else,10\n"
    add_user(seeded, "max", "manager", "A")  # reaches the Telegram group only
    mx = app_client("max")
    r = mx.post("/members/orders/import", data={"csrf_token": csrf_of(mx.get("/members/orders").text)},
                files={"file": ("o.csv", outside.encode(), "text/csv")})  # fmt: skip
    assert "o.csv:2: member out of your reach" in r.text
    with seeded.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.crm_orders)).scalar_one() == 0
    good = bad.replace(",x\n", ",20\n")
    r = client.post("/members/orders/import", data={"csrf_token": csrf},
                    files={"file": ("shop.csv", good.encode(), "text/csv")}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and "created=2" in r.headers["location"]
    assert _audit(seeded, "crm.order.import") == 1
    page = client.get("/members/funnel", params={"lang": "en"}).text
    # the AI group: 3 members, all spoke, none tagged, no coupons; 2 ordered anyway
    ai = page.split("AI 应用开发者社群")[1].split("</section>")[0]
    for stage, n in (("members", 3), ("spoke", 3), ("engaged", 0), ("coupon", 0), ("ordered", 0)):
        assert f'-{stage}">{n}</strong>' in ai, (stage, ai)
    assert "Everyone who ordered (whatever the steps before): 2" in ai
