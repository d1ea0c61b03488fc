"""The settings form, templates and FAQ banks in the console (TestClient, every backend)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

from console_helpers import AI, RUN, T0, TG, add_user, csrf_of, group_id
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from settings_data import BANK_ROWS, bank_csv
from sqlalchemy import select

from shequn.features.content import PlanInput, create_plan
from shequn.features.faq import banks_db
from shequn.groupsettings import layers_of
from shequn.store import Store, schema

Make = Callable[..., TestClient]


def _audit(store: Store, action: str) -> list[Any]:
    a = schema.console_audit
    with store.engine.connect() as conn:
        return list(conn.execute(select(a).where(a.c.action == action).order_by(a.c.id)).all())


def _post(client: TestClient, page: str, url: str, data: dict[str, Any], **kw: Any) -> Any:
    csrf = csrf_of(client.get(page).text)
    return client.post(url, data={**data, "csrf_token": csrf}, follow_redirects=False, **kw)


def test_a_manager_edits_settings_bad_values_are_refused_and_audited(
    seeded: Store, app_client: Make
) -> None:
    add_user(seeded, "mia", "manager", "A", "B")
    client = app_client("mia")
    gid = group_id(seeded, TG)
    page = client.get(f"/groups/{gid}/settings", headers={"accept-language": "zh-CN"})
    assert page.status_code == 200 and "群设置" in page.text and "入群验证" in page.text
    assert 'data-testid="source-gate.mode"' in page.text
    assert f'href="/groups/{gid}/settings"' in client.get(f"/groups/{gid}").text
    # an invalid edit is refused, the key named next to each bad field
    form = {"faq.threshold": "1.5", "checkin.points": "ten", "extra": '{"faq": {"cooldown": -1}}'}
    r = _post(client, f"/groups/{gid}/settings?lang=en", f"/groups/{gid}/settings?lang=en", form)
    assert r.status_code == 400
    assert 'data-testid="error-faq.threshold"' in r.text and "settings.faq.threshold" in r.text
    assert 'data-testid="error-checkin.points"' in r.text and "settings.checkin.points" in r.text
    assert "Some values are invalid" in r.text
    assert 'value="ten"' in r.text  # what was typed stays in the form
    r = _post(
        client,
        f"/groups/{gid}/settings",
        f"/groups/{gid}/settings",
        {"extra": '{"faq": {"cooldown": -1}}'},
    )
    assert r.status_code == 400 and "settings.faq.cooldown" in r.text
    with seeded.engine.connect() as conn:
        assert layers_of(conn, TG).doc == {}
    assert _audit(seeded, "settings.edit") == []
    # a good edit is stored, with its audit row
    form = {"gate.mode": "captcha", "gate.welcome": "欢迎 {name}！群规：不发广告。",
            "faq.threshold": "0.6", "ladder": "warn mute:600 kick", "template": "default"}  # fmt: skip
    r = _post(client, f"/groups/{gid}/settings", f"/groups/{gid}/settings", form)
    assert r.status_code == 303 and r.headers["location"].endswith("msg=saved")
    with seeded.engine.connect() as conn:
        doc = layers_of(conn, TG).doc
    assert doc == {"gate": {"mode": "captcha", "welcome": "欢迎 {name}！群规：不发广告。"},
                   "faq": {"threshold": 0.6}, "ladder": ["warn", "mute:600", "kick"]}  # fmt: skip
    (row,) = _audit(seeded, "settings.edit")
    assert (row.user_name, row.platform, row.group_id) == ("mia", *TG)
    assert json.loads(row.before) == {} and json.loads(row.after) == doc
    shown = client.get(f"/groups/{gid}/settings?lang=en").text
    assert 'data-testid="source-gate.mode">console' in shown
    assert 'data-testid="source-checkin.points">default' in shown


def test_the_blocklist_is_set_per_group_in_the_form(seeded: Store, app_client: Make) -> None:
    add_user(seeded, "mia", "manager", "A")
    client = app_client("mia")
    gid = group_id(seeded, TG)
    page = client.get(f"/groups/{gid}/settings?lang=zh").text
    assert "全局黑名单" in page and "share（上报并执行）" in page and "honour（只执行）" in page
    url = f"/groups/{gid}/settings"
    r = _post(client, url, url + "?lang=en", {"blocklist_rules": "ad\nads"})
    assert r.status_code == 400 and "settings.blocklist_rules" in r.text
    assert "清理最近消息（分钟）" in page
    r = _post(client, url, url + "?lang=en", {"purge_minutes": "2000"})
    assert r.status_code == 400 and "settings.purge_minutes" in r.text and "1440" in r.text
    r = _post(client, url, url, {"blocklist": "honour", "blocklist_rules": "ad\nsensitive",
                                 "purge_minutes": "10"})  # fmt: skip
    assert r.status_code == 303
    with seeded.engine.connect() as conn:
        doc = layers_of(conn, TG).doc
    assert doc == {"blocklist": "honour", "blocklist_rules": ["ad", "sensitive"],
                   "purge_minutes": 10}  # fmt: skip


def test_viewer_partner_and_recruiter_cannot_edit_settings_or_apply_templates(
    seeded: Store, app_client: Make
) -> None:
    add_user(seeded, "mia", "manager", "A", "B")
    mia = app_client("mia")
    src = group_id(seeded, TG)
    _post(mia, "/templates", "/templates", {"name": "t1", "group": str(src)})
    tid = int(mia.get("/templates").text.split('action="/templates/')[1].split("/")[0])
    for role in ("viewer", "partner", "recruiter"):
        add_user(seeded, role, role, "A", "B")
        client = app_client(role)
        page = client.get(f"/groups/{src}/settings")
        assert page.status_code == 200 and 'data-testid="settings-save"' not in page.text
        r = client.post(f"/groups/{src}/settings", data={"csrf_token": csrf_of(page.text),
                        "faq.threshold": "0.1"}, follow_redirects=False)  # fmt: skip
        assert r.status_code == 403, role
        page = client.get("/templates")
        assert "t1" in page.text and 'data-testid="apply-t1"' not in page.text
        r = _post(
            client, "/templates", f"/templates/{tid}/apply", {"groups": [str(group_id(seeded, AI))]}
        )
        assert r.status_code == 403, role
        r = _post(client, "/templates", "/templates", {"name": "t2", "group": str(src)})
        assert r.status_code == 403, role
    add_user(seeded, "ann", "manager", "A")  # set A only: B's groups look absent
    assert app_client("ann").get(f"/groups/{group_id(seeded, AI)}/settings").status_code == 404
    assert _audit(seeded, "settings.edit") == [] and _audit(seeded, "template.apply") == []


def test_a_template_is_saved_from_a_group_and_applied_to_others(
    seeded: Store, app_client: Make
) -> None:
    add_user(seeded, "mia", "manager", "A", "B")
    client = app_client("mia")
    src = group_id(seeded, TG)
    with seeded.engine.begin() as conn:
        bid = banks_db.create_bank(conn, "tech", now=T0, group=TG)
        banks_db.import_bytes(conn, bid, "bank.csv", bank_csv(), now=T0)
        create_plan(conn, PlanInput("早报", "早上好", "weekly", weekdays="0,1,2,3,4",
                                    window_start="09:00", window_end="10:00", groups=(TG,)),
                    by="mia", now=T0)  # fmt: skip
    form = {"gate.mode": "captcha", "faq.enabled": "true", "faq.bank": "db:tech"}
    assert (
        _post(client, f"/groups/{src}/settings", f"/groups/{src}/settings", form).status_code == 303
    )
    r = _post(client, "/templates", "/templates", {"name": "技术群", "group": str(src)})
    assert r.status_code == 303
    page = client.get("/templates")
    assert "技术群" in page.text and "早报" in page.text
    tid = int(page.text.split('action="/templates/')[1].split("/")[0])
    targets = [str(group_id(seeded, AI)), str(group_id(seeded, RUN))]
    r = _post(client, "/templates", f"/templates/{tid}/apply", {"groups": targets})
    assert r.status_code == 303 and "msg=applied" in r.headers["location"]
    with seeded.engine.connect() as conn:
        for key in (AI, RUN):
            doc = layers_of(conn, key).doc
            assert doc["gate"] == {"mode": "captcha"}
            bank = banks_db.bank_by_name(conn, f"技术群 · {key[0]}:{key[1]}")
            assert doc["faq"] == {"enabled": True, "bank": f"db:{bank.name}"}
            assert [e.id for e in banks_db.entries(conn, bank.id)] == [r[0] for r in BANK_ROWS]
            p, pg = schema.content_plans, schema.content_plan_groups
            names = conn.execute(select(p.c.name).join(pg, pg.c.plan_id == p.c.id).where(
                pg.c.platform == key[0], pg.c.group_id == key[1])).scalars().all()  # fmt: skip
            assert names == ["早报"]
    applied = _audit(seeded, "template.apply")
    assert sorted((r.platform, r.group_id) for r in applied) == sorted([AI, RUN])
    assert len(_audit(seeded, "template.save")) == 1
    # applying again copies no plan twice
    _post(client, "/templates", f"/templates/{tid}/apply", {"groups": targets[:1]})
    with seeded.engine.connect() as conn:
        assert conn.execute(select(schema.content_plans)).all().__len__() == 3
    r = _post(client, "/templates", f"/templates/{tid}/delete", {})
    assert r.status_code == 303 and "技术群" not in client.get("/templates").text
    assert len(_audit(seeded, "template.delete")) == 1


def test_faq_banks_are_created_edited_imported_and_exported(
    seeded: Store, app_client: Make
) -> None:
    add_user(seeded, "mia", "manager", "B")
    add_user(seeded, "vic", "viewer", "B")
    client = app_client("mia")
    with seeded.engine.connect() as conn:
        set_b = conn.execute(select(schema.console_group_sets.c.id).where(
            schema.console_group_sets.c.name == "B")).scalar_one()  # fmt: skip
    r = _post(
        client, "/settings/faq", "/settings/faq", {"name": "wechat 问答", "scope": f"set:{set_b}"}
    )
    assert r.status_code == 303
    url = r.headers["location"]
    r = _post(
        client, url, f"{url}/import", {}, files={"file": ("bank.csv", bank_csv(), "text/csv")}
    )
    assert r.status_code == 303 and "msg=imported" in r.headers["location"]
    page = client.get(url)
    assert page.status_code == 200 and all(row[1] in page.text for row in BANK_ROWS)
    entry = {"id": "late", "question": "迟到了怎么办？", "answer": "联系助教补签。",
             "variants": "迟到能补吗\n晚到了", "link": "https://example.org/late"}  # fmt: skip
    assert _post(client, url, f"{url}/entries", entry).status_code == 303
    bad = {**entry, "id": "bad", "link": "javascript:alert(1)"}
    r = _post(client, url, f"{url}/entries", bad)
    assert "error=" in r.headers["location"]
    r = _post(client, url, f"{url}/entries", {**entry, "old_id": "late", "answer": "找助教。"})
    assert _post(client, url, f"{url}/entries/refund/delete", {}).status_code == 303
    csv_text = client.get(f"{url}/export.csv").content.decode("utf-8-sig")
    assert "找助教。" in csv_text and "refund" not in csv_text and "迟到能补吗|晚到了" in csv_text
    book = load_workbook(io.BytesIO(client.get(f"{url}/export.xlsx").content))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:3] == ("id", "question", "answer") and len(rows) == 5
    # a bad import names the file and line and keeps the bank as it was
    broken = b"id,question,answer\nx,,no question\n"
    r = _post(client, url, f"{url}/import", {}, files={"file": ("broken.csv", broken, "text/csv")})
    assert "broken.csv" in r.headers["location"]
    actions = [a for a in ("faq_bank.create", "faq_bank.import", "faq_bank.entry",
                           "faq_bank.entry_delete") if _audit(seeded, a)]  # fmt: skip
    assert len(actions) == 4 and len(_audit(seeded, "faq_bank.entry")) == 2
    # a viewer of the set sees the bank but cannot change it
    viewer = app_client("vic")
    page = viewer.get(url)
    assert page.status_code == 200 and 'data-testid="entry-save"' not in page.text
    r = _post(viewer, url, f"{url}/entries", {**entry, "id": "v"})
    assert r.status_code == 403
