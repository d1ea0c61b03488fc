"""The operations console (运营后台): a FastAPI app with server-rendered pages.

``create_app(store, ...)`` in :mod:`shequn.console.app` builds it; ``shequn serve`` runs
it. Modules: :mod:`.access` (every permission check, as a table), :mod:`.auth`
(accounts, argon2 hashes, server-side sessions, the login rate limit), :mod:`.csrf`,
:mod:`.audit` (the console audit log), :mod:`.changes` (console writes to bot state),
:mod:`.portfolio` and :mod:`.groupview` (what the pages show), :mod:`.context`
(per-request helpers), ``routes/`` (one module per page family), ``templates/`` and
``static/`` (htmx 2, vendored, and one stylesheet; nothing from a CDN).
"""
