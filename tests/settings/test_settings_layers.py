"""Console overrides layered over shequn.toml, and the live bot seeing an edit."""

from __future__ import annotations

import random

import msgspec
import pytest
from bot_transcript import Chat, Clock, stand_in_moderate, user
from settings_data import TOML_DOC, bank_csv

from shequn.botconfig import ConfigError, layered_settings, parse_config, source_of
from shequn.features.faq import banks_db
from shequn.groupsettings import LiveSettings, layers_of, live_settings, save_doc, version
from shequn.pipeline import Pipeline
from shequn.platforms.port import FakePlatform
from shequn.store import Store

KEY = ("fake", "g1")
ALICE, BOB = user("alice", "Alice"), user("bob", "Bob")


def test_console_keys_win_table_by_table_and_sources_are_named() -> None:
    toml = TOML_DOC["groups"][0]  # type: ignore[index]
    s = layered_settings({"gate": {"time_limit": 90}, "faq": {"threshold": 0.7}}, toml)
    assert s.gate.mode == "quiz" and s.gate.time_limit == 90  # the file's mode stays
    assert s.gate.welcome == "欢迎 {name}，请先读群规。"
    assert s.faq.threshold == 0.7 and s.faq.enabled is False
    assert s.act_threshold == 0.9  # the file's template: relaxed-learning
    # the console's template replaces the file's; the file's own keys still apply
    strict = layered_settings({"template": "strict-commercial"}, toml)
    assert strict.act_threshold == 0.7 and strict.gate.mode == "quiz"
    doc = {"faq": {"threshold": 0.7}}
    assert source_of("faq.threshold", doc, toml) == "console"
    assert source_of("faq.enabled", doc, toml) == "toml"
    assert source_of("checkin.points", doc, toml) == "template"


@pytest.mark.parametrize(
    ("doc", "key"),
    [
        ({"faq": {"threshold": 2}}, "settings.faq.threshold"),
        ({"gate": {"mode": "door"}}, "settings.gate.mode"),
        ({"ladder": ["warn", "mute"]}, "settings.ladder[1]"),
        ({"checkin": {"points": -1}}, "settings.checkin.points"),
        ({"nonsense": 1}, "settings.nonsense"),
        ({"id": "other"}, "settings.id"),
        ({"template": "loose"}, "settings.template"),
    ],
)
def test_a_bad_override_names_its_key(doc: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as e:
        layered_settings(doc, {})
    assert e.value.key == key


def _version(store: Store) -> int:
    with store.engine.connect() as conn:
        return version(conn)


def test_live_settings_look_at_the_version_row_at_most_every_few_seconds(store: Store) -> None:
    cfg = parse_config(TOML_DOC, env={})
    now = [0.0]
    live_settings(cfg, store)  # publishes the file's tables
    live = LiveSettings(cfg, store, every=3.0, clock=lambda: now[0])
    assert live("fake", "g1").faq.threshold == 0.5
    assert live("fake", "other").gate.mode == "captcha"  # [defaults]
    with store.engine.begin() as conn:
        assert layers_of(conn, ("fake", "other")).toml == TOML_DOC["defaults"]
        save_doc(conn, KEY, {"faq": {"threshold": 0.8}}, by="mia", now=1.0)
    now[0] = 2.0
    assert live("fake", "g1").faq.threshold == 0.5  # not looked yet
    now[0] = 3.5
    assert live("fake", "g1").faq.threshold == 0.8
    assert live("fake", "g1").gate.mode == "quiz"
    # an invalid edit is refused with the key named, and nothing moves
    before = _version(store)
    with pytest.raises(ConfigError) as e, store.engine.begin() as conn:
        save_doc(conn, KEY, {"faq": {"threshold": "high"}}, by="mia", now=2.0)
    assert e.value.key == "settings.faq.threshold"
    with store.engine.connect() as conn:
        assert layers_of(conn, KEY).doc == {"faq": {"threshold": 0.8}}
    assert _version(store) == before
    now[0] = 10.0
    assert live("fake", "g1").faq.threshold == 0.8


async def test_the_running_bot_answers_from_a_db_bank_after_console_edits(store: Store) -> None:
    """No restart: enabling the FAQ, naming a DB bank and editing an entry all take effect."""
    cfg = parse_config(TOML_DOC, env={})
    clock = Clock()
    settings_for = live_settings(cfg, store, every=0.0)
    pipeline = Pipeline(store, stand_in_moderate, settings_for, clock, rng=random.Random(7))
    chat = Chat(pipeline, FakePlatform(), clock)
    banks_db.clear()
    with store.engine.begin() as conn:
        bid = banks_db.create_bank(conn, "社群问答", now=clock.now, group=KEY)
        assert banks_db.import_bytes(conn, bid, "bank.csv", bank_csv(), now=clock.now) == 4

    await chat.say(ALICE, "如何每日打卡？")  # the file says faq.enabled = false
    assert _replies(chat) == []
    with store.engine.begin() as conn:
        save_doc(conn, KEY, {"faq": {"enabled": True, "bank": "db:社群问答", "cooldown": 0}},
                 by="mia", now=clock.now)  # fmt: skip
    await chat.say(BOB, "如何每日打卡？")
    assert _replies(chat) == ["每天在群里发送「签到」或「打卡」即可。"]
    with store.engine.begin() as conn:
        old = next(e for e in banks_db.entries(conn, bid) if e.id == "checkin")
        new = msgspec.structs.replace(old, answer="发「打卡」两个字。")
        banks_db.put_entry(conn, bid, new, now=clock.now)
    await chat.say(ALICE, "如何每日打卡？")
    assert _replies(chat) == ["发「打卡」两个字。"]


def _replies(chat: Chat) -> list[str]:
    return [str(a["text"]) for name, a in chat.take() if name == "send"]
