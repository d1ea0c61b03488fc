"""The invites pages in a real browser at a 360 px phone width, in Chinese, with no CSP errors."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from console_helpers import CHROMIUM, PASSWORD, TELEGRAM, TG, Clock, add_user, served

from shequn.actions.imports import import_file
from shequn.console.app import create_app
from shequn.store import Store

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing")


@pytest.fixture
def live(sqlite_store: Store) -> Iterator[str]:
    import_file(sqlite_store, TELEGRAM)
    add_user(sqlite_store, "boss", "owner")
    with served(create_app(sqlite_store, clock=Clock(time.time()))) as url:
        yield url


def test_invites_pages_on_a_phone(live: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("SHEQUN_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        context = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740},
                                      is_mobile=True, has_touch=True)  # fmt: skip
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{live}/login")
        page.fill("input[name=name]", "boss")
        page.fill("input[name=password]", PASSWORD)
        page.locator("form button").last.click()
        page.wait_for_url(f"{live}/")

        def check(name: str) -> None:
            w = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            page.screenshot(path=str(shots / f"phone-invites-{name}.png"), full_page=True)
            assert w[0] <= w[1], f"{name}: {w[0]}px wide on a {w[1]}px phone"

        page.goto(f"{live}/invites")
        form = page.get_by_test_id("new-code")
        form.locator("input[name=name]").fill("春季活码")
        form.locator("input[name=code]").fill("spring")
        form.locator(f"input[value='{TG[0]}:{TG[1]}']").check()
        page.get_by_test_id("code-save").click()
        expect(page.get_by_test_id("code-title")).to_have_text("春季活码")
        check("code")
        page.get_by_test_id("edit-target-1").locator("xpath=..").locator("summary").click()
        page.get_by_test_id("edit-target-1").locator("input[name=link]").fill(
            "https://t.me/+spring"
        )
        page.get_by_test_id("edit-target-1").locator("button").click()
        expect(page.get_by_test_id("targets")).to_contain_text("https://t.me/+spring")
        page.goto(f"{live}/invites")
        form = page.get_by_test_id("new-campaign")
        form.locator("input[name=name]").fill("老带新")
        form.locator("input[name=tiers]").fill("3=红包5元; 10=100 积分")
        page.get_by_test_id("campaign-save").click()
        expect(page.get_by_test_id("campaign-title")).to_have_text("老带新")
        check("campaign")
        page.goto(f"{live}/invites")
        expect(page.get_by_test_id("codes")).to_contain_text("春季活码")
        check("list")
        page.goto(f"{live}/invites/tree")
        check("tree")
        anon = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740})
        public = anon.new_page()
        public.goto(f"{live}/j/nope")
        expect(public.locator("h1")).to_contain_text("不存在")
        assert errors == [], errors  # no CSP violations, no script errors
        browser.close()
