"""The event archive: schema, migrations, and the writer importers and adapters feed."""

from shequn.store.engine import DEFAULT_URL, Store, migrate, open_store, resolve_url

__all__ = ["DEFAULT_URL", "Store", "migrate", "open_store", "resolve_url"]
