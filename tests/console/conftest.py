"""Console fixtures (defined in ``console_fixtures``, shared with ``tests/content``)."""

from console_fixtures import app_client, cheap_argon2, clock, fake, seeded

__all__ = ["app_client", "cheap_argon2", "clock", "fake", "seeded"]
