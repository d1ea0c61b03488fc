"""CLI commands that belong to a feature; each module exposes ``register(app)``."""
