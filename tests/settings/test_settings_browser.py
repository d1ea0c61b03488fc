"""Group settings and templates in a real browser (Debian's chromium driven by Playwright).

Log in, edit a group's settings, save the group as a template, apply it to another
group, and see the applied settings on that group's settings page. Screenshots of the
settings and templates pages go to ``$SHEQUN_SCREENSHOTS`` (default
``tests/.screenshots/``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from console_helpers import CHROMIUM, PASSWORD, RUN, TG, Clock, add_user, group_id, served

from shequn.console.app import create_app
from shequn.groupsettings import layers_of
from shequn.store import Store

SHOTS = Path(__file__).resolve().parents[1] / ".screenshots"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (apt-get install chromium)"
)


@pytest.fixture
def store(sqlite_store: Store) -> Store:
    """SQLite only: the routes run on both backends in the TestClient tests."""
    return sqlite_store


@pytest.fixture
def server(seeded: Store) -> Iterator[str]:
    with served(create_app(seeded, clock=Clock(time.time()))) as url:
        yield url


def test_create_a_template_from_a_group_and_apply_it_to_another(server: str, seeded: Store) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("SHEQUN_SCREENSHOTS") or SHOTS)
    shots.mkdir(parents=True, exist_ok=True)
    add_user(seeded, "mia", "manager", "A", "B")
    src, dst = group_id(seeded, TG), group_id(seeded, RUN)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            page = browser.new_context(
                locale="zh-CN", viewport={"width": 1280, "height": 900}
            ).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{server}/")
            page.fill("input[name=name]", "mia")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.goto(f"{server}/groups/{src}")
            page.get_by_test_id("settings-link").click()
            expect(page.get_by_test_id("settings-title")).to_have_text("群设置")

            # a bad value is refused with the key named next to the field
            page.fill("#f-faq-threshold", "2")
            page.get_by_test_id("settings-save").click()
            expect(page.get_by_test_id("error-faq.threshold")).to_contain_text(
                "settings.faq.threshold"
            )
            page.fill("#f-faq-threshold", "0.6")
            page.select_option("#f-gate-mode", "captcha")
            page.fill("#f-gate-welcome", "欢迎 {name}！群规：只聊跑步，不发广告。")
            page.fill("#f-checkin-points", "20")
            page.get_by_test_id("settings-save").click()
            expect(page.get_by_test_id("settings-saved")).to_be_visible()
            expect(page.get_by_test_id("source-gate.mode")).to_have_text("控制台")
            page.screenshot(path=str(shots / "settings-zh.png"), full_page=True)

            page.get_by_test_id("template-name").fill("跑团模板")
            page.get_by_test_id("template-save").click()
            expect(page.get_by_test_id("templates-msg")).to_be_visible()
            page.get_by_test_id(f"apply-跑团模板-{dst}").check()
            page.get_by_test_id("apply-跑团模板").click()
            expect(page.get_by_test_id("templates-msg")).to_have_text("模板已应用。")
            page.screenshot(path=str(shots / "templates-zh.png"), full_page=True)

            page.goto(f"{server}/groups/{dst}/settings")
            expect(page.locator("#f-gate-mode")).to_have_value("captcha")
            expect(page.locator("#f-checkin-points")).to_have_value("20")
            expect(page.locator("#f-gate-welcome")).to_have_value(
                "欢迎 {name}！群规：只聊跑步，不发广告。"
            )
            expect(page.get_by_test_id("source-gate.mode")).to_have_text("控制台")

            phone = browser.new_context(
                locale="en-US", viewport={"width": 360, "height": 740}
            ).new_page()
            phone.goto(f"{server}/")
            phone.fill("input[name=name]", "mia")
            phone.fill("input[name=password]", PASSWORD)
            phone.click("button[type=submit]")
            phone.goto(f"{server}/groups/{dst}/settings")
            expect(phone.get_by_test_id("settings-title")).to_have_text("Group settings")
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, f"the settings page scrolls sideways on a phone ({width}px)"
            phone.screenshot(path=str(shots / "settings-en-phone.png"), full_page=True)
            assert errors == []
        finally:
            browser.close()
    with seeded.engine.connect() as conn:
        assert layers_of(conn, RUN).doc["checkin"] == {"points": 20}
