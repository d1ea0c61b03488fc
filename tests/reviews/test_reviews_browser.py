"""The review page draws its charts in a real browser (chromium), under the strict CSP."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from console_helpers import CHROMIUM, PASSWORD, add_user, served
from test_reviews_figures import D, T, _build

from shequn.console.app import create_app
from shequn.features.reviews import all_items
from shequn.store import Store


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing")
def test_review_page_draws_its_chart(sqlite_store: Store) -> None:
    from playwright.sync_api import expect, sync_playwright

    _build(sqlite_store)
    add_user(sqlite_store, "boss", "owner")
    with sqlite_store.engine.connect() as conn:
        (item,) = [i for i in all_items(conn) if i.kind == "poll"]
    app = create_app(sqlite_store, clock=lambda: T + 30 * D)
    shots = Path(os.environ.get("SHEQUN_SCREENSHOTS") or Path(__file__).parents[1] / ".screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with served(app) as base, sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        page = b.new_page(locale="zh-CN", viewport={"width": 360, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/login")
        page.fill("input[name=name]", "boss")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{base}/reviews/poll/{item.id}")
        chart = page.get_by_test_id("review-chart")
        expect(chart.locator("svg")).to_have_count(1)
        expect(chart.locator("svg path").first).to_be_attached()
        page.screenshot(path=str(shots / "review-zh-phone.png"), full_page=True)
        assert errors == [], errors
        b.close()
