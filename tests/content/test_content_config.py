"""``[groups.content]`` in shequn.toml: defaults, overrides, errors that name the key."""

from __future__ import annotations

from typing import Any

import pytest

from shequn.botconfig import ConfigError, parse_config
from shequn.features.content import ContentSettings


def _content(table: dict[str, Any]) -> ContentSettings:
    cfg = parse_config({"groups": [{"platform": "qq", "id": "1", "content": table}]}, env={})
    return cfg.settings_for("qq", "1").content


def test_defaults_and_overrides() -> None:
    assert _content({}) == ContentSettings()
    s = _content({"timezone": "Europe/Berlin", "mass_per_second": 0.2, "mass_daily_cap": 1})
    assert (s.timezone, s.mass_per_second, s.mass_daily_cap) == ("Europe/Berlin", 0.2, 1)


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"mass_daily_cap": 0}, "groups[0].content.mass_daily_cap"),
        ({"mass_per_second": 0}, "groups[0].content.mass_per_second"),
        ({"late_minutes": "soon"}, "groups[0].content.late_minutes"),
        ({"timezone": "Mars/Olympus"}, "groups[0].content"),
        ({"rate": 1}, "groups[0].content.rate"),
    ],
)
def test_bad_values_name_the_key(table: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as e:
        _content(table)
    assert e.value.key == key
