"""CRM fixtures: the console's seeded archive and clients (from ``tests/console``)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))

from console_fixtures import app_client, cheap_argon2, clock, fake, seeded

__all__ = ["app_client", "cheap_argon2", "clock", "fake", "seeded"]
