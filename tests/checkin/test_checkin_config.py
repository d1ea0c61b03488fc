"""``[groups.checkin]`` in shequn.toml: defaults, overrides, errors that name the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shequn.botconfig import ConfigError, GroupSettings, load_config, parse_config
from shequn.features.checkin import CheckinSettings, Tier

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shequn.toml"


def group(checkin: Any) -> dict[str, Any]:
    return {"groups": [{"platform": "fake", "id": "g", "checkin": checkin}]}


def test_defaults_and_overrides() -> None:
    s = GroupSettings().checkin
    assert (s.timezone, s.points, s.keywords) == (
        "Asia/Shanghai", 10, ("签到", "打卡", "/checkin", "check in")
    )  # fmt: skip
    assert [t.days for t in s.tiers] == [7, 21, 30]
    cfg = parse_config(
        group({"timezone": "Europe/Berlin", "makeup_cost": 5,
               "tiers": [{"days": 3, "bonus": 1, "title": "x"}]})
    )  # fmt: skip
    got = cfg.settings_for("fake", "g").checkin
    assert got == CheckinSettings(timezone="Europe/Berlin", makeup_cost=5, tiers=(Tier(3, 1, "x"),))


def test_the_example_file_documents_checkin() -> None:
    cfg = load_config(EXAMPLE, env={"TELEGRAM_BOT_TOKEN": "t", "MATRIX_TOKEN": "t"})
    first = next(iter(cfg.groups.values()))
    assert first.checkin.makeup_per_month == 2


@pytest.mark.parametrize(
    ("checkin", "key"),
    [
        ("yes", "groups[0].checkin"),
        ({"points": "10"}, "groups[0].checkin.points"),
        ({"daily_cap": -1}, "groups[0].checkin.daily_cap"),
        ({"enabled": 1}, "groups[0].checkin.enabled"),
        ({"timezone": "Mars/Olympus"}, "groups[0].checkin.timezone"),
        ({"keywords": ["签到", 3]}, "groups[0].checkin.keywords[1]"),
        ({"tiers": [{"days": 0, "bonus": 1, "title": "x"}]}, "groups[0].checkin.tiers[0].days"),
        ({"tiers": [{"days": 7, "bonus": 1}]}, "groups[0].checkin.tiers[0]"),
        ({"tiers": [{"days": 7, "bonus": 1, "title": "a"}, {"days": 7, "bonus": 2, "title": "b"}]},
         "groups[0].checkin"),
        ({"bogus": 1}, "groups[0].checkin.bogus"),
        ({"remind_hour": 24}, "groups[0].checkin.remind_hour"),
    ],
)  # fmt: skip
def test_errors_name_the_key(checkin: Any, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(group(checkin))
    assert err.value.key == key


@pytest.mark.parametrize(
    ("checkin", "key"),
    [
        ({"rewards": [{"name": "", "cost": 10}]}, "groups[0].checkin.rewards"),
        ({"rewards": [{"name": "帆布袋", "cost": "10"}]}, "groups[0].checkin.rewards[0].cost"),
        ({"weekly_hour": 24}, "groups[0].checkin.weekly_hour"),
        ({"helpful_points": -1}, "groups[0].checkin.helpful_points"),
        ({"thanks_words": "谢谢"}, "groups[0].checkin.thanks_words"),
    ],
)  # fmt: skip
def test_points_and_rewards_settings_name_the_key(checkin: Any, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"groups": [{"platform": "qq", "id": "1", "checkin": checkin}]}, env={})
    assert err.value.key == key


def test_a_reward_catalogue_is_read_from_the_file() -> None:
    cfg = parse_config(
        {"groups": [{"platform": "qq", "id": "1", "checkin": {
            "rewards": [{"name": "帆布袋", "cost": 300, "stock": 20}, {"name": "贴纸", "cost": 50}],
            "weekly_bonus": [30, 20],
        }}]},
        env={},
    )  # fmt: skip
    s = cfg.settings_for("qq", "1").checkin
    assert [(r.name, r.cost, r.stock) for r in s.rewards] == [("帆布袋", 300, 20), ("贴纸", 50, -1)]
    assert s.weekly_bonus == (30, 20)
