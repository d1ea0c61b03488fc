"""Layers in action: suggestions from a real export replayed into the live layers, the
outbox rows a carry-out plans, human tasks where the platform cannot act, follow-up."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

from layers_actions_helpers import SAMPLE, TZ, export_events, replay_layers
from sqlalchemy import select

from shequn.actions import moderation
from shequn.actions.imports import import_file
from shequn.events import MemberRef, MessagePosted
from shequn.features.layers.actions import carry_out, message, outcomes, suggest
from shequn.features.layers.counters import count_event
from shequn.features.layers.settings import (
    LayerActions,
    LayerChannels,
    LayerSettings,
    LayerTemplates,
    LayerTitles,
)
from shequn.platforms.port import Capability, FakePlatform
from shequn.store import Store, schema

GROUP = "1000000001"  # examples/sample/oop.json
DAY = 86400.0


def _replayed(store: Store) -> float:
    path = SAMPLE / "oop.json"
    import_file(store, path)
    return replay_layers(store, "telegram", export_events(path)) + 3600


def _rows(store: Store, table: Any) -> list[Any]:
    with store.engine.connect() as conn:
        return list(conn.execute(select(table).order_by(table.c.id)))


def test_each_new_member_gets_their_layers_action_once(store: Store) -> None:
    now = _replayed(store)
    s = LayerSettings()
    with store.engine.connect() as conn:
        found = suggest(conn, "telegram", GROUP, s, lang="zh", now=now)
    by_layer = {(sg.layer, sg.from_layer) for sg in found}
    # oop.json: one member forwards enough to be a spreader, three talk (participants),
    # four only appear (bystanders, never changed layer)
    assert [sg.layer for sg in found].count("spreader") == 1
    assert [sg.layer for sg in found].count("participant") == 3
    assert ("bystander", None) in by_layer and ("participant", "bystander") in by_layer
    spreader = found[0]
    assert spreader.layer == "spreader" and spreader.kind == "thank"
    assert [c.kind for c in spreader.calls] == ["send"]  # public thanks; no title configured
    assert (
        spreader.name in spreader.calls[0].params["text"]
        and "传播者" in spreader.calls[0].params["text"]
    )

    fake = FakePlatform(name="telegram")
    with store.engine.begin() as conn:
        ids = carry_out(conn, fake, GROUP, found, now=now, operator="console:mia")
        again = carry_out(conn, fake, GROUP, found, now=now, operator="console:mia")
    assert len(ids) == len(found) and again == []  # a second click plans nothing
    actions = _rows(store, schema.bot_actions)
    assert {a.status for a in actions} == {"planned"} and {a.kind for a in actions} == {"send"}
    assert {a.event_key for a in actions} == {sg.key for sg in found}
    assert {a.reason for a in actions} == {"layers.thank", "layers.care", "layers.guide"}
    assert json.loads(actions[0].evidence)["layer"] == "spreader"
    with store.engine.connect() as conn:
        assert suggest(conn, "telegram", GROUP, s, lang="zh", now=now) == []  # acted on
        # outside the window nobody is "new" any more
        assert suggest(conn, "telegram", GROUP, s, lang="zh", now=now + 15 * DAY) == []

    done = asyncio.run(moderation.carry_out(store, fake, now=now, ids=ids))
    assert done == len(ids)
    texts = [c.args["text"] for c in fake.calls if c.name == "send"]
    assert texts[0] == spreader.calls[0].params["text"]
    assert all(a.status == "done" for a in _rows(store, schema.bot_actions))


def test_what_the_platform_cannot_do_becomes_a_human_task(store: Store) -> None:
    now = _replayed(store)
    s = LayerSettings(
        titles=LayerTitles(spreader="【传播】"),
        actions=LayerActions(
            channels=LayerChannels(participant="direct"),
            templates=LayerTemplates(bystander="Hi {name}, welcome! ({layer})"),
        ),
    )
    send_only = FakePlatform(name="telegram", capabilities=frozenset({Capability.SEND}))
    with store.engine.begin() as conn:
        found = suggest(conn, "telegram", GROUP, s, lang="en", now=now)
        spreader = next(sg for sg in found if sg.layer == "spreader")
        assert [c.kind for c in spreader.calls] == ["send", "set_card"]
        assert spreader.calls[1].params["card"] == "【传播】" + spreader.name
        bystander = next(sg for sg in found if sg.layer == "bystander")
        assert bystander.calls[0].params["text"] == f"Hi {bystander.name}, welcome! (bystander)"
        carry_out(conn, send_only, GROUP, found, now=now, operator="console:mia")
    by_kind: dict[str, set[str]] = {}
    for a in _rows(store, schema.bot_actions):
        by_kind.setdefault(a.kind, set()).add(a.status)
    # group messages can be sent; the card and the direct messages go to a person
    assert by_kind == {"send": {"planned"}, "set_card": {"human_task"}, "direct": {"human_task"}}
    tasks = _rows(store, schema.human_tasks)
    direct = [t for t in tasks if t.kind == "direct"]
    assert len(direct) == 3 and all(t.status == "open" and t.action_id for t in direct)
    assert message(s, "participant", "en", "member_010") in next(
        t.text for t in direct if t.member_id == "user900000011"
    )
    (card_task,) = [t for t in tasks if t.kind == "set_card"]
    (card_row,) = [a for a in _rows(store, schema.bot_actions) if a.id == card_task.action_id]
    assert json.loads(card_row.params) == {"card": "【传播】" + spreader.name}
    m = schema.layer_members
    with store.engine.connect() as conn:
        card = conn.execute(select(m.c.card).where(m.c.member_id == spreader.member_id)).scalar()
    assert card == "【传播】" + spreader.name  # what the bot set, as honours records it


def test_outcomes_say_whether_activity_rose(store: Store) -> None:
    now = _replayed(store)
    s = LayerSettings(actions=dataclasses.replace(LayerActions(), followup_days=3))
    fake = FakePlatform(name="telegram")
    with store.engine.begin() as conn:
        found = suggest(conn, "telegram", GROUP, s, lang="zh", now=now)
        picked = [sg for sg in found if sg.member_id in ("user900000007", "user900000011")]
        carry_out(conn, fake, GROUP, picked, now=now, operator="console:mia")
    with store.engine.connect() as conn:
        assert {o.status for o in outcomes(conn, "telegram", GROUP, s, now=now)} == {"pending"}
    # member_006 (a bystander) talks on the two days after the action; member_010 (a participant) stays silent
    sender = MemberRef("user900000007", "member_006")
    with store.engine.begin() as conn:
        for i in range(4):
            ev = MessagePosted("telegram", GROUP, f"after-{i}", now + DAY * (1 + i % 2), sender,
                               text="谢谢邀请，我来说两句")  # fmt: skip
            count_event(conn, "telegram", ev, ev.ts, TZ)
    with store.engine.connect() as conn:
        got = {o.member_id: o for o in outcomes(conn, "telegram", GROUP, s, now=now + 5 * DAY)}
    assert got["user900000007"].after == 4 and got["user900000007"].status == "rose"
    assert got["user900000011"].after == 0 and got["user900000011"].status in ("fell", "same")
    assert got["user900000011"].status == ("fell" if got["user900000011"].before else "same")
