"""Every adapter's payload parser under generated malformed payloads.

Seeds are the captured payloads the adapters' replay tests use (``tests/fixtures``).
Each generated payload goes through :func:`translate_or_skip` (what the adapters'
event loops call) and the events that come out are written to a real archive. The
property: no exception escapes; a payload is either translated into events the archive
accepts, or skipped with a logged warning naming the platform.
"""

from __future__ import annotations

import copy
import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest
from fuzz_mutations import JSON_VALUES, mutate_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shequn.events import Event
from shequn.platforms import matrix, onebot, telegram
from shequn.platforms.discord import gateway as discord_gateway
from shequn.platforms.discord.state import GatewayState
from shequn.platforms.port import translate_or_skip
from shequn.platforms.qqbot import Routes as QQBotRoutes
from shequn.platforms.qqbot import translate as qqbot_translate
from shequn.store import open_store
from shequn.store.writer import ArchiveWriter

EVENT_TYPES = tuple(Event.__args__)  # type: ignore[attr-defined]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EXAMPLES = int(os.environ.get("SHEQUN_FUZZ_EXAMPLES", "60"))
RANDOM = os.environ.get("SHEQUN_FUZZ_RANDOM") == "1"


def _matrix_seeds() -> list[Any]:
    return [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((FIXTURES / "matrix").glob("*.json"))
    ]


def _list(path: str, key: str) -> list[Any]:
    return [item[key] for item in json.loads((FIXTURES / path).read_text(encoding="utf-8"))]


ADAPTERS = {
    "telegram": (lambda: _list("telegram_bot/updates.json", "update"), telegram.translate, ()),
    "onebot": (lambda: _list("onebot/events.json", "event"), onebot.translate, ()),
    "matrix": (_matrix_seeds, matrix.translate, ("!room:localhost",)),
    "discord": (lambda: _list("discord/gateway.json", "frame"), None, ()),
    "qqbot": (lambda: _qqbot_seeds(), None, ()),
}


def _qqbot_seeds() -> list[Any]:
    return _list("qqbot/dispatches.json", "payload")


def _qqbot() -> Any:
    routes = QQBotRoutes()
    return lambda raw: qqbot_translate(raw, routes, now=0.0)


def _discord(frames: list[Any]) -> Any:
    """Discord's translator keeps state: learn the guild frames first, as after READY."""
    state = GatewayState()
    for frame in frames:
        if frame.get("t") in ("READY", "GUILD_CREATE"):
            discord_gateway.translate(frame, state, now=0.0)
    return lambda raw: discord_gateway.translate(raw, state, now=0.0)


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_parser_survives_malformed_payloads(
    name: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    load, translate, args = ADAPTERS[name]
    seeds = [s for s in load() if isinstance(s, dict)]
    assert seeds, "no seed payloads"
    if translate is None:
        translate = _discord(seeds) if name == "discord" else _qqbot()
    platform = {
        "telegram": telegram.PLATFORM,
        "onebot": onebot.PLATFORM,
        "matrix": matrix.PLATFORM,
        "discord": "discord",
        "qqbot": "qqbot",
    }[name]
    store = open_store(f"sqlite:///{tmp_path / 'fuzz.db'}")
    outcomes = {"events": 0, "skipped": 0, "nothing": 0}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        database=None,
        derandomize=not RANDOM,  # CI runs the same cases; bench/fuzz.py new ones
    )
    @given(st.data())
    def case(data: st.DataObject) -> None:
        seed = copy.deepcopy(data.draw(st.sampled_from(seeds), label="seed"))
        raw = (
            data.draw(st.sampled_from([None]) | st.just(0), label="whole")
            if data.draw(st.integers(0, 30)) == 0
            else mutate_json(seed, data)
        )
        if data.draw(st.integers(0, 30)) == 0:
            raw = data.draw(JSON_VALUES)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="shequn.platforms.port"):
            events = translate_or_skip(platform, translate, raw, *args)
        skipped = [r for r in caplog.records if "skipped a malformed payload" in r.getMessage()]
        if skipped:
            assert events == []
            assert platform in skipped[0].getMessage()
            outcomes["skipped"] += 1
            return
        if not events:
            outcomes["nothing"] += 1
            return
        assert all(isinstance(e, EVENT_TYPES) for e in events)
        with store.engine.begin() as conn:  # the archive must take what the parser made
            writer = ArchiveWriter(conn)
            for e in events:
                writer.add(e)
            writer.flush()
        outcomes["events"] += 1

    try:
        case()
    finally:
        store.close()
    print(
        f"fuzz payload {name}: {outcomes['events']} translated, {outcomes['skipped']} skipped,"
        f" {outcomes['nothing']} ignored"
    )
    assert outcomes["skipped"] > 0 and outcomes["events"] > 0
