"""Regenerate ``tests/fixtures/matrix/*.json`` from a real Synapse.

Run: ``.venv/bin/python tests/e2e/capture_fixtures.py``. It starts a throwaway
homeserver, plays a short room history with real clients (messages in Chinese and
English, a reply, an edit, a reaction, a redaction, joins, a rename, a leave, a kick,
a ban, a knock, a room rename) and saves each raw event as the server returns it
from ``/messages``; user and room ids are whatever this run produced.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from nio import AsyncClient, RoomPreset, RoomVisibility

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synapse_server import MatrixUser, Synapse

OUT = Path(__file__).resolve().parents[1] / "fixtures" / "matrix"


def client(server: Synapse, user: MatrixUser) -> AsyncClient:
    c = AsyncClient(server.url, user.user_id, device_id=user.device_id)
    c.access_token = user.access_token
    c.user_id = user.user_id
    return c


def ok(resp: Any) -> Any:
    if type(resp).__name__.endswith("Error"):
        raise RuntimeError(str(resp))
    return resp


def history(server: Synapse, token: str, room_id: str) -> list[dict[str, Any]]:
    url = (
        f"{server.url}/_matrix/client/v3/rooms/{urllib.parse.quote(room_id)}/messages"
        "?dir=f&limit=500"
    )
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req) as resp:
        return list(json.loads(resp.read())["chunk"])


async def play(server: Synapse) -> dict[str, dict[str, Any]]:
    users = {n: server.register(n) for n in ("owner", "alice", "bob", "carol", "dave")}
    owner, alice, bob, carol, dave = (client(server, users[n]) for n in users)
    room = ok(
        await owner.room_create(
            visibility=RoomVisibility.public, name="shequn 测试群", preset=RoomPreset.public_chat
        )
    ).room_id
    ok(await alice.join(room))
    ok(await carol.join(room))
    ok(await owner.room_invite(room, users["bob"].user_id))
    ok(await bob.join(room))
    text = {"msgtype": "m.text", "body": "大家好，今天签到了吗？"}
    hello = ok(await alice.room_send(room, "m.room.message", text)).event_id
    english = ok(
        await bob.room_send(room, "m.room.message", {"msgtype": "m.text", "body": "Hi all!"})
    ).event_id
    reply_content = {
        "msgtype": "m.text",
        "body": f"> <{users['alice'].user_id}> 大家好，今天签到了吗？\n\n签到了 @alice",
        "m.relates_to": {"m.in_reply_to": {"event_id": hello}},
        "m.mentions": {"user_ids": [users["alice"].user_id]},
    }
    reply = ok(await bob.room_send(room, "m.room.message", reply_content)).event_id
    edit_content = {
        "msgtype": "m.text",
        "body": "* 大家好，今天都签到了吗？",
        "m.new_content": {"msgtype": "m.text", "body": "大家好，今天都签到了吗？"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": hello},
    }
    edit = ok(await alice.room_send(room, "m.room.message", edit_content)).event_id
    reaction = ok(
        await bob.room_send(
            room,
            "m.reaction",
            {"m.relates_to": {"rel_type": "m.annotation", "event_id": hello, "key": "👍"}},
        )
    ).event_id
    image = ok(
        await carol.room_send(
            room,
            "m.room.message",
            {"msgtype": "m.image", "body": "photo.jpg", "url": "mxc://localhost/abc"},
        )
    ).event_id
    spam = ok(
        await carol.room_send(
            room, "m.room.message", {"msgtype": "m.text", "body": "加微信领红包 vx123456"}
        )
    ).event_id
    redaction = ok(await owner.room_redact(room, spam, "spam")).event_id
    ok(await alice.set_displayname("Alice 小爱"))
    topic = ok(await owner.room_put_state(room, "m.room.topic", {"topic": "签到群"})).event_id
    renamed = ok(await owner.room_put_state(room, "m.room.name", {"name": "shequn 群"})).event_id
    ok(await bob.room_leave(room))
    ok(await owner.room_kick(room, users["alice"].user_id, "too loud"))
    ok(await owner.room_ban(room, users["carol"].user_id, "spam"))
    knock_room = ok(
        await owner.room_create(
            name="knock room",
            initial_state=[{"type": "m.room.join_rules", "content": {"join_rule": "knock"}}],
        )
    ).room_id
    ok(await dave.room_knock(knock_room, "想加入，朋友推荐"))

    events = history(server, users["owner"].access_token, room)
    by_id = {e["event_id"]: e for e in events}

    def member(target: str, now: str, before: str | None) -> dict[str, Any]:
        for e in events:
            prev = (e.get("unsigned") or {}).get("prev_content") or {}
            if (
                e["type"] == "m.room.member"
                and e["state_key"] == users[target].user_id
                and e["content"].get("membership") == now
                and prev.get("membership") == before
            ):
                return e
        raise LookupError((target, now, before))

    knocks = history(server, users["owner"].access_token, knock_room)
    knock = next(e for e in knocks if e.get("content", {}).get("membership") == "knock")
    captured = {
        "message_zh": by_id[hello],
        "message_en": by_id[english],
        "reply": by_id[reply],
        "edit": by_id[edit],
        "reaction": by_id[reaction],
        "image": by_id[image],
        "redacted_message": by_id[spam],
        "redaction": by_id[redaction],
        "topic": by_id[topic],
        "room_name": by_id[renamed],
        "join_public": member("alice", "join", None),
        "join_invited": member("bob", "join", "invite"),
        "invite": member("bob", "invite", None),
        "rename": member("alice", "join", "join"),
        "leave": member("bob", "leave", "join"),
        "kick": member("alice", "leave", "join"),
        "ban": member("carol", "ban", "join"),
        "knock": knock,
        "create": next(e for e in events if e["type"] == "m.room.create"),
    }
    for c in (owner, alice, bob, carol, dave):
        await c.close()
    return captured


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = Synapse(Path(tmp))
        server.start()
        try:
            captured = asyncio.run(play(server))
        finally:
            server.stop()
    OUT.mkdir(parents=True, exist_ok=True)
    for name, event in captured.items():
        (OUT / f"{name}.json").write_text(json.dumps(event, ensure_ascii=False, indent=2) + "\n")
    print(f"wrote {len(captured)} events to {OUT}")


if __name__ == "__main__":
    main()
