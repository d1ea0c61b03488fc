"""Console overrides in ``group_settings``, the published toml layer, and the live view.

Writes go through :func:`save_doc` (validated, then the version row is bumped) in the
caller's transaction, so the console writes its audit row with the change. The bot's
:class:`LiveSettings` reads the version row at most every ``every`` seconds and reloads
the overrides only when it moved: one indexed read per few seconds, not per event.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select, update

from shequn.botconfig import BotConfig, ConfigError, GroupSettings, layered_settings
from shequn.store import schema

if TYPE_CHECKING:
    from shequn.store import Store

__all__ = [
    "DEFAULTS_KEY",
    "Layers",
    "LiveSettings",
    "effective",
    "layers_of",
    "live_settings",
    "publish_toml",
    "save_doc",
    "version",
]

log = logging.getLogger(__name__)

GroupKey = tuple[str, str]
#: The row that holds the file's ``[defaults]`` table (groups without their own table).
DEFAULTS_KEY: GroupKey = ("*", "*")
_SCOPE = "groups"


def version(conn: Connection) -> int:
    """The settings version: it moves on every write."""
    v = schema.settings_versions
    found = conn.execute(select(v.c.version).where(v.c.scope == _SCOPE)).scalar()
    return int(found or 0)


def _bump(conn: Connection) -> None:
    v = schema.settings_versions
    done = conn.execute(
        update(v).where(v.c.scope == _SCOPE).values(version=v.c.version + 1)
    ).rowcount
    if not done:
        conn.execute(v.insert().values(scope=_SCOPE, version=1))


def _loads(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def _dumps(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True, slots=True)
class Layers:
    """A group's two layers: the console's overrides and the file's table."""

    doc: dict[str, Any]  # console overrides
    toml: dict[str, Any]  # the file's table, as the bot last published it
    published: bool  # False: no bot has published its file here yet
    updated_at: float | None = None
    updated_by: str = ""


def layers_of(conn: Connection, key: GroupKey) -> Layers:
    """Both layers of ``key`` (the file's ``[defaults]`` when it has no table of its own)."""
    gs = schema.group_settings
    rows = {
        (r.platform, r.group_id): r
        for r in conn.execute(
            select(gs).where(
                ((gs.c.platform == key[0]) & (gs.c.group_id == key[1]))
                | ((gs.c.platform == DEFAULTS_KEY[0]) & (gs.c.group_id == DEFAULTS_KEY[1]))
            )
        )
    }
    own, defaults = rows.get(key), rows.get(DEFAULTS_KEY)
    toml = _loads(own.toml) if own is not None else None
    if toml is None and defaults is not None:
        toml = _loads(defaults.toml)
    return Layers(
        doc=(_loads(own.doc) or {}) if own is not None else {},
        toml=toml or {},
        published=defaults is not None or (own is not None and own.toml is not None),
        updated_at=own.updated_at if own is not None else None,
        updated_by=own.updated_by if own is not None else "",
    )


def effective(conn: Connection, key: GroupKey) -> GroupSettings:
    """The settings the bot applies to ``key`` (as far as the database knows the file)."""
    lay = layers_of(conn, key)
    return layered_settings(lay.doc, lay.toml)


def save_doc(
    conn: Connection,
    key: GroupKey,
    doc: Mapping[str, Any],
    *,
    by: str,
    now: float,
    toml: Mapping[str, Any] | None = None,
) -> GroupSettings:
    """Validate and store the console's overrides of ``key``; :class:`ConfigError` if bad.

    ``toml`` is the file's table to validate against (default: the published one).
    """
    layer = dict(toml) if toml is not None else layers_of(conn, key).toml
    settings = layered_settings(doc, layer)  # raises ConfigError naming the key
    gs = schema.group_settings
    values = {"doc": _dumps(doc), "updated_at": now, "updated_by": by[:255]}
    done = conn.execute(
        update(gs).where(gs.c.platform == key[0], gs.c.group_id == key[1]).values(**values)
    ).rowcount
    if not done:
        conn.execute(gs.insert().values(platform=key[0], group_id=key[1], toml=None, **values))
    _bump(conn)
    return settings


def publish_toml(conn: Connection, config: BotConfig, *, now: float) -> None:
    """Record the file's tables so the console shows which values come from it."""
    gs = schema.group_settings
    tables: dict[GroupKey, Mapping[str, Any]] = {DEFAULTS_KEY: config.raw_defaults}
    tables.update(config.raw_groups)
    known = {(r.platform, r.group_id): r.toml for r in conn.execute(select(gs))}
    for key, raw in tables.items():
        text = _dumps({k: v for k, v in raw.items() if k not in ("platform", "id")})
        if key not in known:
            conn.execute(
                gs.insert().values(
                    platform=key[0], group_id=key[1], doc="{}", toml=text, updated_at=now,
                    updated_by="",
                )
            )  # fmt: skip
        elif known[key] != text:
            conn.execute(
                update(gs).where(gs.c.platform == key[0], gs.c.group_id == key[1])
                .values(toml=text)
            )  # fmt: skip
    for key, old in known.items():
        if key not in tables and old is not None:  # the table was removed from the file
            conn.execute(
                update(gs).where(gs.c.platform == key[0], gs.c.group_id == key[1])
                .values(toml=None)
            )  # fmt: skip
    _bump(conn)


class LiveSettings:
    """``settings_for_group`` of the live bot: the file's settings with the console's on top.

    Looks at the version row at most every ``every`` seconds; when it moved, reloads
    the overrides. An override that no longer validates against the file (the file
    changed under it) is logged and skipped: the group keeps the file's settings.
    """

    def __init__(
        self,
        config: BotConfig,
        store: Store,
        *,
        every: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.store = store
        self.every = every
        self.clock = clock
        self._lock = threading.Lock()
        self._checked = -float("inf")
        self._version = -1
        self._docs: dict[GroupKey, dict[str, Any]] = {}
        self._cache: dict[GroupKey, GroupSettings] = {}

    def _refresh(self) -> None:
        now = self.clock()
        if now - self._checked < self.every:
            return
        self._checked = now
        try:
            with self.store.engine.connect() as conn:
                v = version(conn)
                if v == self._version:
                    return
                gs = schema.group_settings
                rows = conn.execute(select(gs.c.platform, gs.c.group_id, gs.c.doc)).all()
        except Exception:  # the database is away: keep what we have, try again later
            log.exception("group settings not reloaded")
            return
        self._docs = {(r.platform, r.group_id): doc for r in rows if (doc := _loads(r.doc) or {})}
        self._cache = {}
        self._version = v

    def __call__(self, platform: str, group_id: str) -> GroupSettings:
        key = (platform, group_id)
        with self._lock:
            self._refresh()
            hit = self._cache.get(key)
            if hit is not None:
                return hit
            doc = self._docs.get(key)
            settings = self.config.settings_for(platform, group_id)
            if doc:
                try:
                    settings = layered_settings(doc, self.config.toml_doc(platform, group_id))
                except ConfigError as e:
                    log.error("console settings of %s:%s ignored: %s", platform, group_id, e)
            self._cache[key] = settings
            return settings


def live_settings(config: BotConfig, store: Store, *, every: float = 3.0) -> LiveSettings:
    """Publish the file's tables, then the bot's ``settings_for_group`` over ``store``."""
    with store.engine.begin() as conn:
        publish_toml(conn, config, now=time.time())
    return LiveSettings(config, store, every=every)
