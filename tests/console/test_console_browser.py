"""The console in a real browser (Debian's chromium driven by Playwright).

The server is uvicorn on a free loopback port in a background thread, over an archive
seeded from real exports; the moderation action to undo is decided and carried out
through :mod:`shequn.actions.moderation` exactly as the bot does it. Screenshots go to
``$SHEQUN_SCREENSHOTS`` (or the test's temporary folder) for review.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from console_helpers import (
    CHROMIUM,
    PASSWORD,
    T0,
    TG,
    Clock,
    add_user,
    group_id,
    plan_mute,
    served,
)
from sqlalchemy import select

from shequn.console.app import create_app
from shequn.platforms.port import FakePlatform
from shequn.store import Store, schema

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (apt-get install chromium)"
)


@dataclass
class Live:
    url: str
    store: Store
    fake: FakePlatform
    shots: Path


@pytest.fixture
def live(seeded: Store, tmp_path: Path) -> Iterator[Live]:
    fake = FakePlatform(name="telegram")
    app = create_app(seeded, platforms={"telegram": fake}, clock=Clock(time.time()))
    shots = Path(os.environ.get("SHEQUN_SCREENSHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    with served(app) as url:
        yield Live(url, seeded, fake, shots)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


def _sign_in(page: object, live: Live, name: str) -> None:
    page.goto(f"{live.url}/")  # type: ignore[attr-defined]
    page.fill("input[name=name]", name)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]


def test_sign_in_portfolio_language_group_and_undo(live: Live, browser: object) -> None:
    from playwright.sync_api import expect

    add_user(live.store, "mia", "manager", "A", "B")
    aid = plan_mute(live.store, live.fake, TG, "user900000003")
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    _sign_in(page, live, "mia")
    expect(page.locator("h1")).to_have_text("群组总览")  # Accept-Language: zh-CN
    table = page.get_by_test_id("portfolio")
    expect(table).to_contain_text("上海跑步俱乐部")
    expect(table).to_contain_text("Public tech supergroup")
    page.screenshot(path=str(live.shots / "portfolio-zh.png"), full_page=True)

    page.get_by_test_id("lang-switch").click()
    expect(page.locator("h1")).to_have_text("Groups")
    expect(page.locator("th").first).to_have_text("Group")

    page.get_by_role("link", name="Public tech supergroup (pseudonymised)").click()
    expect(page.get_by_test_id("group-name")).to_have_text("Public tech supergroup (pseudonymised)")
    expect(page.get_by_test_id(f"status-{aid}")).to_have_text("done")
    page.screenshot(path=str(live.shots / "group-en.png"), full_page=True)

    page.get_by_test_id(f"undo-{aid}").click()  # htmx swaps the moderation section
    expect(page.get_by_test_id(f"status-{aid}")).to_have_text("undone")
    expect(page.locator("#moderation")).to_contain_text("Undone.")
    expect(page.get_by_test_id(f"undo-{aid}")).to_have_count(0)
    page.screenshot(path=str(live.shots / "group-undone.png"), full_page=True)

    assert [(c.name, c.args["seconds"]) for c in live.fake.calls] == [("mute", 600), ("mute", 0)]
    t = schema.bot_actions
    with live.store.engine.connect() as conn:
        assert conn.execute(select(t.c.status).where(t.c.id == aid)).scalar() == "undone"
    page.goto(f"{live.url}/audit")
    expect(page.get_by_test_id("audit")).to_contain_text("moderation.undo")
    assert errors == [], errors  # no CSP violations, no script errors
    context.close()


@pytest.mark.parametrize(
    "path",
    ["/", "/groups/{tg}", "/audit", "/users", "/login", "/content", "/members", "/invites",
     "/templates", "/reviews", "/search", "/docs"],
)  # fmt: skip
def test_phone_viewport_has_no_horizontal_scrolling(live: Live, browser: object, path: str) -> None:
    add_user(live.store, "boss", "owner")
    plan_mute(live.store, live.fake, TG, "user900000003")
    context = browser.new_context(  # type: ignore[attr-defined]
        locale="zh-CN", viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    if path != "/login":
        _sign_in(page, live, "boss")
        page.wait_for_url(f"{live.url}/")
    page.goto(live.url + path.format(tg=group_id(live.store, TG)))
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    name = path.strip("/").replace("/", "-").replace("{tg}", "tg") or "portfolio"
    page.screenshot(path=str(live.shots / f"phone-{name}.png"), full_page=True)
    assert widths[0] <= widths[1], f"{path}: page is {widths[0]}px wide on a {widths[1]}px phone"
    context.close()


def test_an_appeal_is_rejected_with_a_note_and_fits_a_phone(live: Live, browser: object) -> None:
    from playwright.sync_api import expect

    from shequn.actions import appeals

    add_user(live.store, "mia", "manager", "A")
    plan_mute(live.store, live.fake, TG, "user900000003")
    with live.store.engine.begin() as conn:
        strike = appeals.appealable_strike(conn, *TG, "user900000003", T0 + 60)
        assert strike is not None
        aid = appeals.open_appeal(conn, strike, "我发的是本群的官方活动", member_name="小明",
                                  now=T0 + 60)  # fmt: skip
    context = browser.new_context(  # type: ignore[attr-defined]
        locale="zh-CN", viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _sign_in(page, live, "mia")
    page.wait_for_url(f"{live.url}/")
    page.goto(f"{live.url}/groups/{group_id(live.store, TG)}")
    appeal = page.get_by_test_id(f"appeal-{aid}")
    expect(appeal).to_be_visible()
    expect(page.locator("#queue")).to_contain_text("我发的是本群的官方活动")
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    page.screenshot(path=str(live.shots / "phone-appeal.png"), full_page=True)
    assert widths[0] <= widths[1], (
        f"the queue with an appeal is {widths[0]}px on a {widths[1]}px phone"
    )

    page.get_by_test_id(f"note-{aid}").fill("群规第 3 条：禁止推广其他群")
    page.get_by_test_id(f"reject-{aid}").click()  # htmx swaps the queue
    expect(page.locator("#queue")).to_contain_text("申诉已驳回")
    expect(page.get_by_test_id(f"appeal-{aid}")).to_have_count(0)
    sent = [c.args["text"] for c in live.fake.calls if c.name == "send"]
    assert sent == [f"@小明 你的申诉（#{aid}）未通过。说明：群规第 3 条：禁止推广其他群"]
    assert errors == [], errors
    context.close()
