"""``shequn crm``: import orders (one bad line imports nothing), export a segment, shop tokens."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from shequn.cli import build_app
from shequn.features.crm import segments
from shequn.features.crm.segments import Filter
from shequn.store import open_store, schema

HEADER = "order_id,platform,member_id,amount\n"


def test_orders_import_segment_export_and_shop_add(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    store = open_store(db)
    with store.engine.begin() as conn:
        g = conn.execute(schema.groups.insert().values(platform="qq", platform_id="1", name="g"))
        for i in range(3):
            m = conn.execute(
                schema.members.insert().values(platform="qq", platform_id=f"u{i}", name=f"用户{i}")
            )
            conn.execute(schema.messages.insert().values(
                group_id=g.inserted_primary_key[0], platform_id=f"{i}", ts=1.0,
                member_id=m.inserted_primary_key[0], kind="text", text="hi"))  # fmt: skip
        segments.save_segment(conn, "buyers", Filter(has_ordered=True), by="t", now=1.0)
    runner = CliRunner()
    app = build_app()
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "1,qq,u0,5\n2,qq,u1,-3\n", encoding="utf-8")
    r = runner.invoke(app, ["crm", "orders", "import", str(bad), "--db", db])
    assert r.exit_code == 1 and "bad.csv:3: not an amount" in " ".join(r.output.split())
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "1,qq,u0,5\n2,qq,u1,3\n", encoding="utf-8")
    r = runner.invoke(app, ["crm", "orders", "import", str(good), "--db", db])
    assert r.exit_code == 0, r.output
    out = tmp_path / "buyers.xlsx"
    r = runner.invoke(app, ["crm", "segment", "export", "buyers", "-o", str(out), "--db", db])
    assert r.exit_code == 0, r.output
    rows = list(load_workbook(out).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert sorted(r[1] for r in rows[1:]) == ["u0", "u1"]
    r = runner.invoke(app, ["crm", "shop", "add", "youzan", "--db", db])
    assert r.exit_code == 0 and "youzan:" in r.output
    a = schema.console_audit
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.crm_orders)).scalar_one() == 2
        actions = sorted(conn.execute(select(a.c.action).where(a.c.user_name == "cli")).scalars())
    assert actions == ["crm.export", "crm.order.import", "crm.shop.add"]
    store.close()
