"""Real labelled sets split like the training script split them (held-out side only)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shequn.features.moderation import Moderator
from shequn.features.moderation.datasets import Sample, is_held_out, load_set


@pytest.fixture(scope="session")
def moderator() -> Moderator:
    return Moderator()


@pytest.fixture(scope="session")
def zh_held_out(data_dir: Path) -> list[Sample]:
    """Held-out Chinese QQ-group messages (ads and normal chat) from all three sets."""
    out: list[Sample] = []
    for name in ("qq_group", "qq_extra", "qq_review"):
        out += [s for s in load_set(data_dir, name)[0] if is_held_out(s.text)]
    return out


@pytest.fixture(scope="session")
def all_samples(data_dir: Path) -> dict[str, list[Sample]]:
    names = ("qq_group", "qq_extra", "qq_review", "sms", "telegram")
    return {name: load_set(data_dir, name)[0] for name in names}
