"""``[groups.layers]`` in shequn.toml: defaults, overrides, errors that name the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shequn.botconfig import ConfigError, GroupSettings, load_config, parse_config
from shequn.features.layers.settings import LayerSettings, LayerTitles

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shequn.toml"


def group(layers: Any) -> dict[str, Any]:
    return {"groups": [{"platform": "fake", "id": "g", "layers": layers}]}


def test_defaults_and_overrides() -> None:
    s = GroupSettings().layers
    assert (s.grace_days, s.titles.opinion_leader, s.bonus_daily_cap) == (14.0, "【核心】", 200)
    cfg = parse_config(
        group({"grace_days": 7, "titles": {"active": "[Active] "}, "announce": ["active"]})
    )
    got = cfg.settings_for("fake", "g").layers
    assert got.grace_days == 7.0
    assert got.announce == ("active",)
    # A nested table keeps the keys it does not name: the default titles stay.
    assert got.titles == LayerTitles(active="[Active] ")
    assert got == LayerSettings(grace_days=7, announce=("active",), titles=got.titles)


def test_the_example_file_documents_layers() -> None:
    cfg = load_config(EXAMPLE, env={"TELEGRAM_BOT_TOKEN": "t", "MATRIX_TOKEN": "t"})
    layered = [g.layers for g in cfg.groups.values() if g.layers != LayerSettings()]
    assert layered and layered[0].grace_days == 21


@pytest.mark.parametrize(
    ("layers", "key"),
    [
        ("yes", "groups[0].layers"),
        ({"grace_days": -1}, "groups[0].layers.grace_days"),
        ({"grace_days": "7"}, "groups[0].layers.grace_days"),
        ({"bonus_daily_cap": -5}, "groups[0].layers.bonus_daily_cap"),
        ({"bonus": {"active": -1}}, "groups[0].layers.bonus.active"),
        ({"bonus": {"active": "10"}}, "groups[0].layers.bonus.active"),
        ({"enabled": 1}, "groups[0].layers.enabled"),
        ({"level_keywords": ["/level", 3]}, "groups[0].layers.level_keywords[1]"),
        ({"titles": {"boss": "【老板】"}}, "groups[0].layers.titles.boss"),
        ({"titles": {"active": "  "}}, "groups[0].layers.titles.active"),
        (
            {"titles": {"active": "【一二三四五六七八九十一二三四五六七】"}},
            "groups[0].layers.titles.active",
        ),
        ({"bonus": {"kol": 5}}, "groups[0].layers.bonus.kol"),
        ({"announce": ["kol"]}, "groups[0].layers.announce[0]"),
        ({"timezone": "Mars/Olympus"}, "groups[0].layers"),
        ({"bogus": 1}, "groups[0].layers.bogus"),
    ],
)
def test_errors_name_the_key(layers: Any, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(group(layers))
    assert err.value.key == key
