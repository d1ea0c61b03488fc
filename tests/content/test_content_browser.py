"""Creating a content plan in a real browser (Debian's chromium) and seeing its preview."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from console_helpers import CHROMIUM, PASSWORD, Clock, add_user, served

from shequn.console.app import create_app
from shequn.platforms.port import FakePlatform
from shequn.store import Store

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (apt-get install chromium)"
)


@pytest.fixture
def live_url(seeded: Store) -> Iterator[str]:
    app = create_app(
        seeded, platforms={"telegram": FakePlatform("telegram")}, clock=Clock(time.time())
    )
    with served(app) as url:
        yield url


def test_create_a_weekday_plan_and_see_its_preview(
    live_url: str, seeded: Store, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    add_user(seeded, "mia", "manager", "A", "B")
    shots = Path(os.environ.get("SHEQUN_SCREENSHOTS") or tmp_path)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{live_url}/")
        page.fill("input[name=name]", "mia")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.get_by_role("link", name="内容计划").click()
        expect(page.locator("h1")).to_have_text("内容计划与群发")
        form = page.get_by_test_id("new-plan")
        form.get_by_test_id("plan-name").fill("工作日早报")
        form.get_by_test_id("plan-text").fill("☀️ 早安！今日资讯")
        form.get_by_test_id("plan-kind").select_option("weekly")
        for d in range(5):
            form.get_by_test_id(f"weekday-{d}").check()
        form.get_by_test_id("window-start").fill("09:00")
        form.get_by_test_id("window-end").fill("10:00")
        form.get_by_test_id("plan-tz").fill("Europe/Berlin")
        form.get_by_label("上海跑步俱乐部").check()
        form.get_by_test_id("plan-save").click()
        expect(page.get_by_test_id("plan-title")).to_have_text("工作日早报")
        items = page.get_by_test_id("preview").locator("li")
        expect(items).to_have_count(10)
        texts = items.all_inner_texts()
        assert all(" 09:" in t for t in texts), texts
        assert not any(day in t for t in texts for day in ("Sat", "Sun")), texts
        page.screenshot(path=str(shots / "content-plan-zh.png"), full_page=True)
        page.get_by_test_id("plan-toggle").click()
        expect(page.get_by_test_id("plan-status")).to_have_text("已暂停")
        assert errors == [], errors
        plan_url = page.url.split("?")[0]
        phone = browser.new_context(
            locale="zh-CN", viewport={"width": 360, "height": 740}, is_mobile=True
        ).new_page()
        phone.goto(f"{live_url}/login")
        phone.fill("input[name=name]", "mia")
        phone.fill("input[name=password]", PASSWORD)
        phone.click("button[type=submit]")
        phone.wait_for_url(f"{live_url}/")
        for url in (f"{live_url}/content", plan_url):
            phone.goto(url)
            widths = phone.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
            assert widths[0] <= widths[1], (url, widths)
        phone.screenshot(path=str(shots / "content-plan-phone.png"), full_page=True)
        browser.close()
