"""``[groups.activities]`` in shequn.toml: defaults, nested overrides, errors naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shequn.botconfig import ConfigError, GroupSettings, load_config, parse_config
from shequn.features.activities import ActivitySettings, ChainSettings, LotterySettings

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shequn.toml"


def group(activities: Any) -> dict[str, Any]:
    return {"groups": [{"platform": "fake", "id": "g", "activities": activities}]}


def test_defaults_and_nested_overrides() -> None:
    s = GroupSettings().activities
    assert (s.polls.default_minutes, s.chains.duplicates, s.lottery.keyword) == (
        1440, "refuse", "参与抽奖"
    )  # fmt: skip
    assert s.events.remind_minutes == (1440, 60)
    cfg = parse_config(
        group({"operators": ["@ops:x"], "chains": {"duplicates": "replace"},
               "lottery": {"min_points": 50, "keyword": "抽我"}})
    )  # fmt: skip
    got = cfg.settings_for("fake", "g").activities
    assert got == ActivitySettings(
        operators=("@ops:x",),
        chains=ChainSettings(duplicates="replace"),
        lottery=LotterySettings(min_points=50, keyword="抽我"),
    )


def test_the_example_file_documents_activities() -> None:
    cfg = load_config(EXAMPLE, env={"TELEGRAM_BOT_TOKEN": "t", "MATRIX_TOKEN": "t"})
    learning = cfg.settings_for("matrix", "!learning:example.org").activities
    assert learning.chains.duplicates == "replace"
    assert learning.lottery.active_days == 14
    assert learning.events.remind_minutes == (1440, 30)


@pytest.mark.parametrize(
    ("activities", "key"),
    [
        ("yes", "groups[0].activities"),
        ({"enabled": "no"}, "groups[0].activities.enabled"),
        ({"bogus": 1}, "groups[0].activities.bogus"),
        ({"operators": ["a", 3]}, "groups[0].activities.operators[1]"),
        ({"polls": {"default_minutes": -1}}, "groups[0].activities.polls.default_minutes"),
        ({"polls": {"max_options": 1}}, "groups[0].activities.polls.max_options"),
        ({"chains": {"duplicates": "maybe"}}, "groups[0].activities.chains.duplicates"),
        ({"lottery": {"min_points": "many"}}, "groups[0].activities.lottery.min_points"),
        ({"lottery": {"keyword": " "}}, "groups[0].activities.lottery"),
        ({"events": {"remind_minutes": [60, -5]}}, "groups[0].activities.events.remind_minutes[1]"),
        ({"icebreak": {"window_hours": 0}}, "groups[0].activities.icebreak.window_hours"),
        ({"timezone": "Mars/Olympus"}, "groups[0].activities"),
        ({"polls": {"bogus": 1}}, "groups[0].activities.polls.bogus"),  # nested tables too
    ],
)
def test_errors_name_the_key(activities: Any, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(group(activities))
    assert err.value.key == key


def test_a_nested_table_keeps_the_keys_it_omits() -> None:
    import dataclasses

    from shequn.botconfig import _feature

    base = GroupSettings().activities
    custom = dataclasses.replace(base, polls=dataclasses.replace(base.polls, max_options=3))
    got = _feature("k", {"polls": {"default_minutes": 5}}, custom)
    assert (got.polls.default_minutes, got.polls.max_options) == (5, 3)
