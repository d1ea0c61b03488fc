"""Settings fixtures: the console's seeded archive and clients (from ``tests/console``),
the bot-engine transcript helpers (from ``tests/engine``); no network ever."""

import os
import sys
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
_TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_TESTS / "console"))
sys.path.insert(0, str(_TESTS / "engine"))

from console_fixtures import app_client, cheap_argon2, clock, fake, seeded  # noqa: E402

__all__ = ["app_client", "cheap_argon2", "clock", "fake", "seeded"]
