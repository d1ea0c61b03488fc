"""``shequn serve --bot`` on a real Synapse, driven in a real browser.

The console and the bot run in one process and one event loop (exactly what
``serve --bot`` runs), against a real homeserver: in Chromium an operator schedules a
post and sees the bot deliver it into the Matrix room, and undoes a mute, which lifts
it on the server at once (the member can speak again) instead of becoming a task.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from matrix_live import client_of as _client
from matrix_live import say as _say
from matrix_live import until as _until
from nio import AsyncClient, RoomPreset
from sqlalchemy import select
from synapse_server import MatrixUser, Synapse

from shequn.botconfig import parse_config
from shequn.commands.bot import _real_moderator, run_bot
from shequn.console import auth
from shequn.console.app import create_app
from shequn.console.serving import serve
from shequn.platforms.matrix import MatrixAdapter
from shequn.store import open_store, schema

CHROMIUM = Path("/usr/bin/chromium")
AD = "加我薇 信 领福利，兼职日结三百 ➕V: abc12345"
WAIT = 20.0
PASSWORD = "correct horse battery"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing")


async def _bot_said(c: AsyncClient, room: str, bot_id: str, text: str) -> bool:
    resp = await c.room_messages(room, start="", limit=100)
    return any(
        text in e.source.get("content", {}).get("body", "")
        for e in resp.chunk
        if e.source.get("sender") == bot_id
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_serve_with_bot_delivers_a_scheduled_post_and_undoes_a_mute_for_real(
    synapse: Synapse, matrix_user: Callable[..., MatrixUser], tmp_path: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    owner_u, bot_u, alice_u = matrix_user("owner"), matrix_user("bot"), matrix_user("alice")
    owner, alice = _client(synapse, owner_u), _client(synapse, alice_u)
    bot_id = bot_u.user_id
    room = (
        await owner.room_create(
            name="控制台联调群",
            preset=RoomPreset.public_chat,
            invite=[bot_id],
            power_level_override={"users": {bot_id: 100}},
        )
    ).room_id
    await alice.join(room)
    store = open_store(f"sqlite:///{tmp_path / 'serve.db'}")
    with store.engine.begin() as conn:
        auth.create_user(conn, "mia", "owner", PASSWORD, now=0.0)
    cfg = parse_config(
        {
            "bot": {"tick_seconds": 0.5},
            "defaults": {"template": "default", "language": "zh"},
            "groups": [
                {
                    "platform": "matrix",
                    "id": room,
                    "exempt": [owner_u.user_id],
                    "ladder": ["warn", "mute:3600", "kick"],
                }
            ],
        },
        env={},
    )
    adapter = MatrixAdapter(synapse.url, bot_id, access_token=bot_u.access_token)
    app = create_app(store, platforms={"matrix": adapter})
    port, started, shutdown = _free_port(), asyncio.Event(), asyncio.Event()

    async def bot(stop: asyncio.Event) -> object:
        return await run_bot(cfg, store, [adapter], _real_moderator(), stop=stop)

    server = asyncio.create_task(
        serve(
            app,
            "127.0.0.1",
            port,
            bot=bot,
            log_level="warning",
            started=started,
            shutdown=shutdown,
        )
    )
    url = f"http://127.0.0.1:{port}"
    shots = Path(os.environ.get("SHEQUN_SCREENSHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    try:
        await asyncio.wait_for(started.wait(), WAIT)

        def joined() -> bool:
            with store.engine.connect() as conn:
                ids = conn.execute(select(schema.groups.c.platform_id)).scalars()
                return room in set(ids)

        await _until(joined, "the bot in the room")
        # alice posts two ads: warned, then muted for an hour
        assert await _say(alice, room, AD) is not None
        await _until(lambda: _bot_said(alice, room, bot_id, ""), "a warning")
        assert await _say(alice, room, AD + " 2") is not None

        async def muted() -> bool:
            return await _say(alice, room, "还能说话吗") is None

        await _until(muted, "alice muted")

        async with async_playwright() as p:
            browser = await p.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
            )
            page = await (await browser.new_context(locale="zh-CN")).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            await page.goto(f"{url}/login")
            await page.fill("input[name=name]", "mia")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{url}/")

            # a post for the next minute (UTC), to this room
            at = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
            at += dt.timedelta(minutes=1)
            text = f"早安！今天的话题：社群冷启动 {at:%H%M}"
            await page.goto(f"{url}/content")
            form = page.get_by_test_id("new-plan")
            await form.get_by_test_id("plan-name").fill("早安")
            await form.get_by_test_id("plan-text").fill(text)
            await form.get_by_test_id("plan-kind").select_option("once")
            await form.locator("input[name=at_local]").fill(f"{at:%Y-%m-%d %H:%M}")
            await form.get_by_test_id("plan-tz").fill("UTC")
            await form.locator("input[name=jitter]").uncheck()
            await form.locator(f"input[name=group][value='matrix:{room}']").check()
            await form.get_by_test_id("plan-save").click()
            await page.wait_for_load_state()
            await page.screenshot(path=str(shots / "live-content.png"), full_page=True)

            # meanwhile, undo the mute from the group page: lifted on the server
            with store.engine.connect() as conn:
                t = schema.bot_actions
                mute = conn.execute(
                    select(t.c.id).where(t.c.kind == "mute", t.c.status == "done")
                ).scalar_one()
                gid = conn.execute(
                    select(schema.groups.c.id).where(schema.groups.c.platform_id == room)
                ).scalar_one()
            await page.goto(f"{url}/groups/{gid}")
            await page.get_by_test_id(f"undo-{mute}").click()
            await expect(page.get_by_test_id(f"status-{mute}")).to_have_text("已撤销")
            with store.engine.connect() as conn:
                assert conn.execute(select(schema.human_tasks.c.id)).first() is None, (
                    "the undo went out through the live connection"
                )

            async def speaks() -> bool:
                return await _say(alice, room, "谢谢管理员") is not None

            await _until(speaks, "alice unmuted by the console's undo")
            await page.screenshot(path=str(shots / "live-group-undone.png"), full_page=True)
            await _until(lambda: _bot_said(owner, room, bot_id, text), "the post", wait=90)
            assert errors == [], errors
            await browser.close()
        with store.engine.connect() as conn:
            s, a = schema.content_sends, schema.bot_actions
            sent = conn.execute(
                select(a.c.status).join(s, s.c.action_id == a.c.id).where(s.c.source == "plan")
            ).scalars()
            assert list(sent) == ["done"]
    finally:
        shutdown.set()
        await asyncio.wait_for(server, WAIT)
        for c in (owner, alice):
            await c.close()
        store.close()
