"""The member CRM in a real browser (Debian's chromium driven by Playwright).

Log in, build a segment with the filter form, save it, export its members to Excel
and read the downloaded workbook back with openpyxl; open a member page and tag the
member. Screenshots of the segment and member pages go to ``$SHEQUN_SCREENSHOTS``
(default ``tests/.screenshots/``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from console_helpers import (
    AI,
    CHROMIUM,
    PASSWORD,
    RUN,
    TELEGRAM,
    TG,
    WECHAT,
    Clock,
    add_user,
    served,
)
from openpyxl import load_workbook
from sqlalchemy import select

from shequn.actions.imports import import_file
from shequn.console import auth
from shequn.console.app import create_app
from shequn.store import Store, schema

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (apt-get install chromium)"
)


@pytest.fixture
def seeded_sqlite(sqlite_store: Store) -> Store:
    """The console's seeded archive, on SQLite only: this test is about the browser."""
    import_file(sqlite_store, TELEGRAM)
    import_file(sqlite_store, WECHAT)
    with sqlite_store.engine.begin() as conn:
        for name, groups in (("A", [TG]), ("B", [AI, RUN])):
            sid = auth.ensure_group_set(conn, name, now=0.0)
            for platform, gid in groups:
                conn.execute(schema.console_group_set_members.insert().values(
                    group_set_id=sid, platform=platform, group_id=gid))  # fmt: skip
    return sqlite_store


@pytest.fixture
def server(seeded_sqlite: Store) -> Iterator[str]:
    seeded = seeded_sqlite
    # the archive's newest message is from 2023: the console's clock is set just after it
    with served(create_app(seeded, clock=Clock(1_700_200_000.0))) as url:
        yield url


def test_segment_export_to_excel_and_member_page(
    server: str, seeded_sqlite: Store, tmp_path: Path
) -> None:
    seeded = seeded_sqlite
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("SHEQUN_SCREENSHOTS") or REPO / "tests" / ".screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    add_user(seeded, "mia", "manager", "A", "B")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        context = browser.new_context(
            locale="zh-CN", viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        page.goto(f"{server}/members")
        page.fill("input[name=name]", "mia")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_have_text("会员")

        page.locator("details.card summary").click()
        page.get_by_test_id("filter-groups").select_option(f"{RUN[0]}:{RUN[1]}")
        page.get_by_test_id("filter").locator("button").click()
        expect(page.get_by_test_id("segment-size")).to_have_text("共 4 人")
        page.get_by_test_id("segment-name").fill("上海跑团")
        page.get_by_test_id("segment-save").click()
        expect(page.get_by_test_id("segment-title")).to_have_text("上海跑团")
        names = page.get_by_test_id("person").locator("td a").all_inner_texts()
        assert len(names) == 4 and "晨跑的陈" in names
        page.screenshot(path=str(shots / "crm-segment-zh.png"), full_page=True)

        with page.expect_download() as info:
            page.get_by_test_id("export-xlsx").click()
        target = tmp_path / info.value.suggested_filename
        info.value.save_as(target)
        assert target.suffix == ".xlsx"
        rows = list(load_workbook(target).active.iter_rows(values_only=True))  # type: ignore[union-attr]
        assert rows[0][:3] == ("平台", "会员 ID", "名字")
        assert sorted(r[2] for r in rows[1:]) == sorted(names)
        assert all(r[0] == "wechat" and f"{RUN[0]}:{RUN[1]}" in r[4] for r in rows[1:])

        page.get_by_role("link", name="晨跑的陈").click()
        expect(page.get_by_test_id("member-name")).to_have_text("晨跑的陈")
        form = page.get_by_test_id("tag-form")
        form.locator("select").select_option("city")
        form.locator("input[name=tag]").fill("上海")
        form.locator("button").click()
        expect(page.get_by_test_id("tags")).to_contain_text("上海")
        page.screenshot(path=str(shots / "crm-member-zh.png"), full_page=True)
        page.set_viewport_size({"width": 360, "height": 800})
        page.reload()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"the member page scrolls sideways on a phone: {width}px"
        page.screenshot(path=str(shots / "crm-member-phone.png"), full_page=True)
        context.close()
        browser.close()
    assert not errors, errors
    a = schema.console_audit
    with seeded.engine.connect() as conn:
        done = set(conn.execute(select(a.c.action).where(a.c.action.like("crm.%"))).scalars())
    assert done == {"crm.segment.save", "crm.export", "crm.tag.add"}
