"""The database tables: one module per owner, all on one ``MetaData``.

The archive's tables hold one row per thing that happened, keyed by platform natural
keys: every table an importer or adapter writes has a unique constraint on the
source's own identity (``platform`` + platform id, or ``group_id`` + platform id), so
writing the same export twice, or two exports that overlap, inserts each fact once.
Times are UTC epoch seconds in a float column (see :mod:`shequn.events` for why).

Each module here matches one Alembic migration; ``tests/store`` fails when the tables
and the migrations drift apart. Import tables as ``schema.<table>``.
"""

from __future__ import annotations

from shequn.store.schema.activities import *  # noqa: F403
from shequn.store.schema.archive import *  # noqa: F403
from shequn.store.schema.base import metadata
from shequn.store.schema.bot import *  # noqa: F403
from shequn.store.schema.checkin import *  # noqa: F403
from shequn.store.schema.console import *  # noqa: F403
from shequn.store.schema.content import *  # noqa: F403
from shequn.store.schema.crm import *  # noqa: F403
from shequn.store.schema.faq import *  # noqa: F403
from shequn.store.schema.invites import *  # noqa: F403
from shequn.store.schema.layers import *  # noqa: F403
from shequn.store.schema.search import *  # noqa: F403
from shequn.store.schema.settings import *  # noqa: F403
from shequn.store.schema.wecom import *  # noqa: F403
from shequn.store.schema.workers import *  # noqa: F403

__all__ = ["metadata"]
