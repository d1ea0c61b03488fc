"""Orders: CSV import (all or nothing, errors name the file and line), the shop webhook
(token auth, idempotent by order id), coupon codes tying orders to their campaign."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shequn.console.app import create_app
from shequn.features import crm
from shequn.features.crm import orders
from shequn.store import Store, schema

HEADER = "order_id,platform,member_id,amount,currency,item,ordered_at,coupon,shop\n"


def _count(store: Store, table: object = None) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(select(func.count()).select_from(table or schema.crm_orders)).scalar_one()
        )  # type: ignore[arg-type]


def test_csv_import_is_all_or_nothing_and_names_the_bad_line(store: Store, tmp_path: Path) -> None:
    bad = tmp_path / "orders.csv"
    bad.write_text(
        HEADER
        + "A1,wechat,wxid_a,12.50,CNY,跑鞋,2025-03-01 14:30,,\n"
        + "A2,wechat,wxid_b,99,CNY,袜子,2025-03-02T10:00:00+08:00,,\n"
        + "A3,wechat,wxid_c,十块,CNY,帽子,,,\n",
        encoding="utf-8",
    )
    with (
        pytest.raises(orders.OrderError, match=r"orders\.csv:4: not an amount: '十块'"),
        store.engine.begin() as conn,
    ):
        orders.import_csv(conn, bad, by="t", now=1.0)
    assert _count(store) == 0
    dup = tmp_path / "dup.csv"
    dup.write_text(
        HEADER + "A1,wechat,wxid_a,1,,,,,\n\nA1,wechat,wxid_b,2,,,,,\n", encoding="utf-8"
    )
    with (
        pytest.raises(orders.OrderError, match=r"dup\.csv:4: order id 'A1' is on line 2 too"),
        store.engine.begin() as conn,
    ):
        orders.import_csv(conn, dup, by="t", now=1.0)
    good = tmp_path / "good.csv"
    good.write_text(bad.read_text("utf-8").replace("十块", "10"), encoding="utf-8")
    for expected in ({"created": 3, "known": 0}, {"created": 0, "known": 3}):  # a re-import
        with store.engine.begin() as conn:
            assert orders.import_csv(conn, good, by="t", now=1.0) == expected
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(schema.crm_orders).order_by(schema.crm_orders.c.external_id)
        ).all()
    assert [r.amount_cents for r in rows] == [1250, 9900, 1000]
    assert rows[0].ordered_at == rows[1].ordered_at - 86400 + 3600 * 4.5  # both Shanghai time
    assert rows[2].ordered_at == 1.0  # no time: now


def test_a_missing_member_or_a_bad_header_is_refused() -> None:
    with pytest.raises(orders.OrderError, match=r"x\.csv:1: the header"):
        orders.read_csv("id,price\n1,2\n", "x.csv", now=1.0)
    with pytest.raises(orders.OrderError, match=r"x\.csv:2: no member"):
        orders.read_csv(HEADER + "A1,,,5,,,,,\n", "x.csv", now=1.0)
    assert orders.parse_amount("1,234.5") == 123450
    with pytest.raises(orders.OrderError):
        orders.parse_amount("0.001")


def test_coupon_codes_tie_orders_to_their_campaign(store: Store) -> None:
    a, b = ("wechat", "wxid_a"), ("wechat", "wxid_b")
    with store.engine.begin() as conn:
        own = crm.create_campaign(
            conn, name="春季", text="专属券", recipients=[a, b], by="t", now=1.0
        )
        shared = crm.create_campaign(
            conn, name="双十一", text="用 {code}", code="SALE", recipients=[a], by="t", now=1.0
        )
        code_b = conn.execute(select(schema.crm_coupons.c.code).where(
            schema.crm_coupons.c.campaign_id == own, schema.crm_coupons.c.member_id == "wxid_b")).scalar_one()  # fmt: skip
        oid, _ = crm.record_order(
            conn,
            crm.OrderInput("", "", 500, 2.0, coupon_code=code_b),
            source="manual",
            by="t",
            now=2.0,
        )
        oid2, _ = crm.record_order(
            conn, crm.OrderInput(*a, 800, 2.0, coupon_code="SALE"), source="manual", by="t", now=2.0
        )
        with pytest.raises(orders.OrderError, match="unknown coupon"):
            crm.record_order(
                conn,
                crm.OrderInput(*a, 1, 2.0, coupon_code="NOPE"),
                source="manual",
                by="t",
                now=2.0,
            )
        got = {r.id: r for r in conn.execute(select(schema.crm_orders))}
    assert (got[oid].platform, got[oid].member_id, got[oid].campaign_id) == (
        "wechat",
        "wxid_b",
        own,
    )
    assert got[oid2].campaign_id == shared
    assert code_b.startswith(f"C{own}-") and len(code_b) == len(f"C{own}-") + 6


def test_webhook_needs_the_shop_token_and_is_idempotent(store: Store) -> None:
    with store.engine.begin() as conn:
        token = orders.create_shop(conn, "youzan", now=1.0)
        other = orders.create_shop(conn, "taobao", now=1.0)
    client = TestClient(create_app(store), base_url="http://127.0.0.1")
    body = {
        "order_id": "Y-1",
        "platform": "wechat",
        "member_id": "wxid_a",
        "amount": "35.00",
        "item": "咖啡豆",
    }
    assert client.post("/api/orders", json=body).status_code == 401
    assert (
        client.post("/api/orders", json=body, headers={"X-Shequn-Token": token + "x"}).status_code
        == 401
    )
    assert (
        client.post("/api/orders", json=body, headers={"X-Shequn-Token": "youzan"}).status_code
        == 401
    )
    assert (
        client.post("/api/orders", json=body, headers={"X-Shequn-Token": "ghost:abc"}).status_code
        == 401
    )
    r1 = client.post("/api/orders", json=body, headers={"X-Shequn-Token": token})
    r2 = client.post("/api/orders", json=body, headers={"X-Shequn-Token": token})
    assert (r1.status_code, r2.status_code) == (201, 200)
    assert r1.json() == {"id": r2.json()["id"], "created": True} and r2.json()["created"] is False
    # the same order id from another shop is another order
    assert (
        client.post("/api/orders", json=body, headers={"X-Shequn-Token": other}).status_code == 201
    )
    bad = {**body, "order_id": "Y-2", "amount": "lots"}
    r = client.post("/api/orders", json=bad, headers={"X-Shequn-Token": token})
    assert r.status_code == 422 and "amount" in r.json()["error"]
    no_id = {k: v for k, v in body.items() if k != "order_id"}
    assert (
        client.post("/api/orders", json=no_id, headers={"X-Shequn-Token": token}).status_code == 422
    )
    assert _count(store) == 2
    a = schema.console_audit
    with store.engine.connect() as conn:
        names = (
            conn.execute(select(a.c.user_name).where(a.c.action == "crm.order.webhook"))
            .scalars()
            .all()
        )
    assert sorted(names) == ["shop:taobao", "shop:youzan"]
    client.close()
