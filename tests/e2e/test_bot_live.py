"""The whole bot on a real Synapse: real users post, the bot warns, redacts, mutes, kicks.

Nothing is faked: the Matrix adapter talks to the homeserver, the pipeline records
into a real archive, the real Moderator judges the text, and the test watches the
room through the members' own clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from matrix_live import WAIT
from matrix_live import client_of as _client
from matrix_live import say as _say
from matrix_live import until as _until
from nio import AsyncClient, RoomPreset, RoomVisibility
from sqlalchemy import select
from synapse_server import MatrixUser, Synapse

from shequn.actions.moderation import undo
from shequn.botconfig import parse_config
from shequn.commands.bot import _real_moderator, run_bot
from shequn.platforms.matrix import MatrixAdapter
from shequn.store import open_store, schema

AD = "加我薇 信 领福利，兼职日结三百 ➕V: abc12345"


async def _redacted(c: AsyncClient, room: str, event_id: str) -> bool:
    resp = await c.room_get_event(room, event_id)
    return "redacted_because" in resp.event.source.get("unsigned", {})


async def _bot_texts(c: AsyncClient, room: str, bot_id: str) -> list[str]:
    resp = await c.room_messages(room, start="", limit=100)
    return [
        e.source["content"].get("body", "")
        for e in resp.chunk
        if e.source.get("sender") == bot_id and e.source.get("type") == "m.room.message"
    ]


@contextlib.asynccontextmanager
async def _bot_room(
    synapse: Synapse,
    owner: AsyncClient,
    bot_u: MatrixUser,
    store: Any,
    name: str,
    *,
    joiners: Sequence[AsyncClient] = (),
    config: dict[str, Any] | None = None,
    group: dict[str, Any] | None = None,
    **room: Any,
) -> AsyncIterator[tuple[str, MatrixAdapter]]:
    """A room the owner creates with the bot as admin, and the whole bot running on it
    (real adapter, pipeline, archive and Moderator) until the block ends."""
    bot_id = bot_u.user_id
    room_id = (
        await owner.room_create(
            name=name,
            preset=RoomPreset.public_chat,
            invite=[bot_id],
            power_level_override={"users": {bot_id: 100}},
            **room,
        )
    ).room_id
    for c in joiners:
        await c.join(room_id)
    cfg = parse_config(
        {
            "bot": {"tick_seconds": 0.5},
            **(config or {}),
            "groups": [{"platform": "matrix", "id": room_id, **(group or {})}],
        },
        env={},
    )
    adapter = MatrixAdapter(synapse.url, bot_id, access_token=bot_u.access_token)
    stop = asyncio.Event()
    runner = asyncio.create_task(
        run_bot(cfg, store, [adapter], _real_moderator(), stop=stop, restart_delay=0.5)
    )
    try:
        await _until(lambda: room_id in _joined(store), "the bot in the room")
        yield room_id, adapter
    finally:
        stop.set()
        await asyncio.wait_for(runner, WAIT)


async def test_ad_three_times_warn_mute_kick_and_undo(
    synapse: Synapse, matrix_user: Callable[..., MatrixUser], tmp_path: Path
) -> None:
    owner_u, bot_u, alice_u = matrix_user("owner"), matrix_user("bot"), matrix_user("alice")
    owner, alice = _client(synapse, owner_u), _client(synapse, alice_u)
    bot_id = bot_u.user_id
    store = open_store(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        async with _bot_room(
            synapse,
            owner,
            bot_u,
            store,
            "广告测试群",
            joiners=[alice],
            config={"defaults": {"template": "default", "language": "zh"}},
            group={"exempt": [owner_u.user_id], "ladder": ["warn", "mute:3", "kick"]},
            visibility=RoomVisibility.public,
        ) as (room, adapter):
            # ordinary chat is left alone
            hello = await _say(alice, room, "大家好，今天的分享很有收获！")
            assert hello is not None
            # 1st ad: deleted and a warning posted
            first = await _say(alice, room, AD)
            assert first is not None
            await _until(lambda: _redacted(alice, room, first), "1st ad redacted")
            await _until(lambda: _bot_texts(alice, room, bot_id), "a warning")
            # 2nd ad: deleted and alice muted (the server now refuses her messages)
            second = await _say(alice, room, AD + " 2")
            assert second is not None
            await _until(lambda: _redacted(alice, room, second), "2nd ad redacted")

            async def muted() -> bool:
                return await _say(alice, room, "还能说话吗") is None

            await _until(muted, "alice muted")
            assert not await _redacted(alice, room, hello)

            # the mute is timed (3 s here): the bot lifts it, alice can speak again
            async def can_speak() -> bool:
                return await _say(alice, room, "谢谢管理员") is not None

            await _until(can_speak, "alice unmuted after the mute's time")

            # 3rd ad: deleted and alice kicked (警告3次后踢出)
            third = await _say(alice, room, AD + " 3")
            assert third is not None
            await _until(lambda: _redacted(owner, room, third), "3rd ad redacted")

            async def kicked() -> bool:
                return room not in (await alice.joined_rooms()).rooms

            await _until(kicked, "alice kicked")

            def all_recorded() -> bool:  # a row is marked done just after the reply
                with store.engine.connect() as conn:
                    t = schema.bot_actions
                    q = select(t.c.status).where(t.c.kind == "kick")
                    planned = select(t.c.id).where(t.c.status == "planned")
                    return (
                        conn.execute(q).scalar() == "done" and conn.execute(planned).first() is None
                    )

            await _until(all_recorded, "the kick and its notice recorded as done")
            with store.engine.connect() as conn:
                done = [
                    (r.kind, r.reason)
                    for r in conn.execute(
                        select(schema.bot_actions.c.kind, schema.bot_actions.c.reason)
                        .where(schema.bot_actions.c.status.in_(["done", "lifted"]))
                        .order_by(schema.bot_actions.c.id)
                    )
                ]
                kick_id = conn.execute(
                    select(schema.bot_actions.c.id).where(schema.bot_actions.c.kind == "kick")
                ).scalar_one()
            assert [k for k, _ in done[:9]] == [
                "delete",
                "send",
                "delete",
                "mute",
                "send",
                "mute",
                "delete",
                "kick",
                "send",
            ]
            assert done[5] == ("mute", "mute.expired")
            # the kick recalled what she said in the last purge_minutes (清理): her
            # greeting, and what she said when she could speak again
            assert done[9:] and set(done[9:]) == {("delete", "purge")}, done
            await _until(lambda: _redacted(owner, room, hello), "her greeting redacted")
            # the room was told why, each time (the member may appeal to the bot in private)
            said = await _bot_texts(owner, room, bot_id)
            assert any("因发布广告（第 2 次违规）被禁言 3 秒" in t for t in said), said
            assert any("因发布广告（第 3 次违规）已被移出本群" in t for t in said), said

            # an operator undoes the kick: alice is unbanned and may join again
            await undo(store, adapter, kick_id, "owner", now=time.time())
            await _until(lambda: _rejoin(alice, room), "alice rejoined after undo")
    finally:
        for c in (owner, alice):
            await c.close()
        store.close()


def _joined(store: Any) -> set[str]:
    with store.engine.connect() as conn:
        return set(conn.execute(select(schema.groups.c.platform_id)).scalars())


async def _rejoin(c: AsyncClient, room: str) -> bool:
    resp = await c.join(room)
    return not type(resp).__name__.endswith("Error")


async def test_image_with_a_group_qr_code_is_redacted(
    synapse: Synapse, matrix_user: Callable[..., MatrixUser], tmp_path: Path
) -> None:
    """A member uploads a real PNG with a WeChat group code; the bot downloads it through
    the authenticated media API, reads the code and redacts the image."""
    import io

    import segno
    from nio import UploadResponse

    owner_u, bot_u, dora_u = matrix_user("owner2"), matrix_user("bot2"), matrix_user("dora")
    owner, dora = _client(synapse, owner_u), _client(synapse, dora_u)
    store = open_store(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        async with _bot_room(synapse, owner, bot_u, store, "二维码测试群", joiners=[dora]) as (
            room,
            _adapter,
        ):

            def png(payload: str) -> bytes:
                buf = io.BytesIO()
                segno.make(payload, error="m").save(buf, kind="png", scale=6)
                return buf.getvalue()

            async def post_image(data: bytes, name: str) -> str:
                up, _ = await dora.upload(io.BytesIO(data), content_type="image/png", filename=name,
                                          filesize=len(data))  # fmt: skip
                assert isinstance(up, UploadResponse), up
                content = {"msgtype": "m.image", "body": name, "url": up.content_uri,
                           "info": {"mimetype": "image/png", "size": len(data)}}  # fmt: skip
                resp = await dora.room_send(room, "m.room.message", content)
                return str(resp.event_id)

            plain = await post_image(png("第3章 课后练习答案见群公告"), "notes.png")
            ad = await post_image(png("https://weixin.qq.com/g/AwYAAFakeGroupCode"), "福利群.png")
            await _until(lambda: _redacted(dora, room, ad), "the QR ad redacted")
            assert not await _redacted(dora, room, plain)
            with store.engine.connect() as conn:
                evidence = conn.execute(select(schema.strikes.c.evidence)).scalar_one()
            assert "qr.invite" in evidence
    finally:
        for c in (owner, dora):
            await c.close()
        store.close()


async def test_captcha_gate_on_a_real_server(
    synapse: Synapse, matrix_user: Callable[..., MatrixUser], tmp_path: Path
) -> None:
    """Newcomers answer a captcha in the room itself (so they must not be muted): the
    right answer is welcomed, a wrong one is redacted and its author removed."""
    import json

    owner_u, bot_u = matrix_user("owner3"), matrix_user("bot3")
    erin_u, frank_u = matrix_user("erin"), matrix_user("frank")
    owner, erin, frank = (_client(synapse, u) for u in (owner_u, erin_u, frank_u))
    bot_id = bot_u.user_id
    store = open_store(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        async with _bot_room(
            synapse,
            owner,
            bot_u,
            store,
            "入群验证群",
            group={
                "exempt": [owner_u.user_id],
                "gate": {"mode": "captcha", "time_limit": 120, "welcome": "欢迎 {name}！"},
            },
        ) as (room, _adapter):

            def pending(member: str) -> dict[str, Any] | None:
                g = schema.gate_entries
                with store.engine.connect() as conn:
                    raw = conn.execute(
                        select(g.c.challenge).where(g.c.member_id == member, g.c.state == "pending")
                    ).scalar()
                return json.loads(raw) if raw else None

            await erin.join(room)
            challenge = await _until(lambda: pending(erin_u.user_id), "erin's captcha")
            question, answer = challenge["questions"][0]["q"], challenge["questions"][0]["a"][0]
            await _until(
                lambda: _has_text(owner, room, bot_id, question), "the captcha asked in the room"
            )
            assert await _say(erin, room, answer) is not None  # not muted: she can answer
            await _until(lambda: _has_text(owner, room, bot_id, "欢迎"), "erin welcomed")

            await frank.join(room)
            await _until(lambda: pending(frank_u.user_id), "frank's captcha")
            wrong = await _say(frank, room, "我是来发广告的")
            assert wrong is not None
            await _until(lambda: _redacted(owner, room, wrong), "the wrong answer redacted")

            async def frank_gone() -> bool:
                members = await owner.joined_members(room)
                return frank_u.user_id not in {m.user_id for m in members.members}

            await _until(frank_gone, "frank removed")
            assert await _say(erin, room, "谢谢，大家好") is not None  # erin stays a member
    finally:
        for c in (owner, erin, frank):
            await c.close()
        store.close()


async def _has_text(c: AsyncClient, room: str, sender: str, needle: str) -> bool:
    return any(needle in t for t in await _bot_texts(c, room, sender))
