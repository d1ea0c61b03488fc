"""Layers in action in a real browser: a manager on a 360 px phone carries out a whole
layer with one tap (htmx swaps the suggestions), in Chinese, with no script errors."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))

from console_fixtures import cheap_argon2, seeded
from console_helpers import CHROMIUM, PASSWORD, TG, Clock, add_user, group_id, served
from layers_actions_helpers import SAMPLE, export_events, replay_layers
from sqlalchemy import select

from shequn.console.app import create_app
from shequn.platforms.port import FakePlatform
from shequn.store import Store, schema

__all__ = ["cheap_argon2", "seeded"]


@pytest.fixture
def server(seeded: Store) -> Iterator[tuple[str, FakePlatform]]:
    if seeded.engine.dialect.name != "sqlite":
        pytest.skip("the page is the same on every backend; the other tests cover both")
    now = replay_layers(seeded, "telegram", export_events(SAMPLE / "oop.json")) + 3600
    fake = FakePlatform(name="telegram")
    app = create_app(seeded, platforms={"telegram": fake}, clock=Clock(now))
    with served(app) as url:
        yield url, fake


@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium not installed")
def test_a_whole_layer_in_one_tap_on_a_phone(
    seeded: Store, server: tuple[str, FakePlatform]
) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, fake = server
    add_user(seeded, "mia", "manager", "A")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        context = browser.new_context(
            locale="zh-CN", viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{url}/")
        page.fill("input[name=name]", "mia")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/")
        page.goto(f"{url}/groups/{group_id(seeded, TG)}")
        page.get_by_test_id("layers-link").click()
        expect(page.locator("h1")).to_have_text("分层运营")
        expect(page.get_by_test_id("suggestion")).to_have_count(8)
        widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], f"the page is {widths[0]}px wide on a {widths[1]}px phone"
        page.get_by_test_id("act-layer-bystander").click()  # htmx swaps #suggestions
        expect(page.get_by_test_id("layer-bystander")).to_have_count(0)
        expect(page.locator("#suggestions [role=status]")).to_contain_text("已执行 4 项操作")
        expect(page.get_by_test_id("suggestion")).to_have_count(4)
        assert page.url.endswith("/layers")  # swapped in place, no navigation
        assert errors == [], errors  # no CSP violations, no script errors
        browser.close()
    assert len([c for c in fake.calls if c.name == "send"]) == 4
    with seeded.engine.connect() as conn:
        statuses = {r[0] for r in conn.execute(select(schema.bot_actions.c.status))}
    assert statuses == {"done"}
