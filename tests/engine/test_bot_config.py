"""shequn.toml: templates, overrides, secrets from env, errors that name the key; the bot command."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from bot_transcript import T0, stand_in_moderate, user
from typer.testing import CliRunner

from shequn.botconfig import TEMPLATES, AccountConfig, ConfigError, load_config, parse_config
from shequn.commands.bot import AdapterUnavailable, build_adapter, run_bot
from shequn.events import MessagePosted
from shequn.features.strikes import DEFAULT_LADDER, Step
from shequn.platforms.port import EventHandler, FakePlatform
from shequn.store import Store

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shequn.toml"
ENV = {"MATRIX_TOKEN": "secret"}


def test_the_documented_example_loads() -> None:
    cfg = load_config(EXAMPLE, ENV)
    assert cfg.database == "shequn.db" and cfg.tick_seconds == 10
    acct = cfg.accounts["matrix"]
    assert (acct.token, acct.options["user_id"]) == ("secret", "@shequn-bot:example.org")
    coffee = cfg.settings_for("matrix", "!coffee:example.org")
    assert coffee.ladder == DEFAULT_LADDER  # overridden back from the strict template
    assert coffee.ladder_by_rule == {"ad": (Step("mute", 600), Step("kick"))}
    assert coffee.strike_days == 30 and coffee.gate.mode == "quiz" and len(coffee.gate.quiz) == 3
    assert coffee.exempt == {"@owner:example.org"}
    assert (coffee.alert_group, coffee.appeals) == ("matrix:!ops:example.org", True)
    assert cfg.console_url == "https://console.example.org"
    learning = cfg.settings_for("matrix", "!learning:example.org")
    assert learning.ladder == TEMPLATES["relaxed-learning"].ladder and learning.language == "en"
    assert cfg.settings_for("matrix", "!other:x") == TEMPLATES["default"]


def test_the_default_ladder_is_warn_mute_an_hour_kick() -> None:
    assert (Step("warn"), Step("mute", 3600), Step("kick")) == DEFAULT_LADDER
    assert TEMPLATES["strict-commercial"].ladder != TEMPLATES["relaxed-learning"].ladder


@pytest.mark.parametrize(
    ("doc", "env", "key"),
    [
        ({"bot": {"tick": 1}}, ENV, "bot.tick"),
        ({"accounts": {"matrix": {}}}, ENV, "accounts.matrix.token_env"),
        ({"accounts": {"matrix": {"token_env": "NOPE"}}}, ENV, "accounts.matrix.token_env"),
        (
            {"accounts": {"matrix": {"token_env": "MATRIX_TOKEN", "token": "x"}}},
            ENV,
            "accounts.matrix.token",
        ),
        ({"groups": [{"id": "g"}]}, ENV, "groups[0].platform"),
        ({"groups": [{"platform": "m", "id": "g", "template": "nope"}]}, ENV, "groups[0].template"),
        (
            {"groups": [{"platform": "m", "id": "g", "ladder": ["warn", "mute"]}]},
            ENV,
            "groups[0].ladder[1]",
        ),
        (
            {"groups": [{"platform": "m", "id": "g", "act_threshold": 2}]},
            ENV,
            "groups[0].act_threshold",
        ),
        ({"groups": [{"platform": "m", "id": "g", "exempt": "x"}]}, ENV, "groups[0].exempt"),
        ({"groups": [{"platform": "m", "id": "g", "colour": 1}]}, ENV, "groups[0].colour"),
        (
            {"groups": [{"platform": "m", "id": "g", "gate": {"mode": "moat"}}]},
            ENV,
            "groups[0].gate.mode",
        ),
        (
            {"groups": [{"platform": "m", "id": "g", "gate": {"mode": "quiz"}}]},
            ENV,
            "groups[0].gate",
        ),
        (
            {"groups": [{"platform": "m", "id": "g", "gate": {"name_format": "("}}]},
            ENV,
            "groups[0].gate.name_format",
        ),
        (
            {"groups": [{"platform": "m", "id": "g", "gate": {"quiz": [{"question": "q"}]}}]},
            ENV,
            "groups[0].gate.quiz[0]",
        ),
        (
            {"groups": [{"platform": "m", "id": "g"}, {"platform": "m", "id": "g"}]},
            ENV,
            "groups[1].id",
        ),
        ({"defaults": {"language": "fr"}}, ENV, "defaults.language"),
        ({"defaults": {"alert_group": "-100123"}}, ENV, "defaults.alert_group"),
        ({"defaults": {"appeals": "yes"}}, ENV, "defaults.appeals"),
        ({"defaults": {"announce_penalties": 1}}, ENV, "defaults.announce_penalties"),
        ({"defaults": {"notices_per_minute": -1}}, ENV, "defaults.notices_per_minute"),
        ({"defaults": {"blocklist": "yes"}}, ENV, "defaults.blocklist"),
        ({"defaults": {"blocklist_rules": ["ads"]}}, ENV, "defaults.blocklist_rules"),
        ({"defaults": {"blocklist_rules": "ad"}}, ENV, "defaults.blocklist_rules"),
        ({"defaults": {"purge_minutes": -5}}, ENV, "defaults.purge_minutes"),
        ({"defaults": {"purge_minutes": 3000}}, ENV, "defaults.purge_minutes"),
        ({"defaults": {"purge_minutes": "30"}}, ENV, "defaults.purge_minutes"),
        ({"bot": {"console_url": "console.local"}}, ENV, "bot.console_url"),
        ({"surprise": 1}, ENV, "surprise"),
    ],
)
def test_errors_name_the_key(doc: dict[str, object], env: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(doc, env)
    assert info.value.key == key
    assert str(info.value).startswith(f"{key}: ")


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "shequn.toml"
    bad.write_text("[bot\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad, ENV)


def test_unknown_platforms_and_bad_adapter_options_are_clear() -> None:
    with pytest.raises(AdapterUnavailable, match=r"accounts\.icq: no adapter"):
        build_adapter(AccountConfig("icq", "t", {}))
    with pytest.raises(AdapterUnavailable, match=r"accounts\.matrix"):
        build_adapter(AccountConfig("matrix", "t", {"colour": "red"}))


def test_the_command_reports_config_errors(tmp_path: Path) -> None:
    from shequn.cli import build_app

    cfg = tmp_path / "shequn.toml"
    cfg.write_text('[accounts.matrix]\ntoken_env = "SHEQUN_TEST_UNSET_TOKEN"\n', encoding="utf-8")
    result = CliRunner().invoke(build_app(), ["bot", "--config", str(cfg)])
    assert result.exit_code == 2
    assert "accounts.matrix.token_env" in result.output


@dataclass
class FakeAdapter(FakePlatform):
    """Delivers ``inbox`` once, then idles until stopped, like a live adapter."""

    inbox: list[MessagePosted] = field(default_factory=list)
    delivered: asyncio.Event = field(default_factory=asyncio.Event)
    stopped: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self, handle: EventHandler) -> None:
        for ev in self.inbox:
            await handle(ev, self)
        self.delivered.set()
        await self.stopped.wait()

    async def stop(self) -> None:
        self.stopped.set()


async def test_run_bot_feeds_adapters_through_one_pipeline(store: Store) -> None:
    cfg = parse_config({"bot": {"tick_seconds": 0.01}}, {})
    ad = MessagePosted("fake", "g", "m1", T0, user("alice"), "加微信 x")
    adapter = FakeAdapter(inbox=[ad, ad])
    stop = asyncio.Event()
    task = asyncio.create_task(run_bot(cfg, store, [adapter], stand_in_moderate, stop=stop))
    # (generous waits: the first tick's jobs take seconds on a loaded 2-core CI box)
    await asyncio.wait_for(adapter.delivered.wait(), 30)
    await asyncio.sleep(0.05)  # a few ticks
    stop.set()
    await asyncio.wait_for(task, 30)
    assert [c.name for c in adapter.calls] == ["delete", "send"]  # the duplicate did nothing
    assert adapter.stopped.is_set()
