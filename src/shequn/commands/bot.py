"""``shequn bot --config shequn.toml``: run the live bot until Ctrl-C.

Adapters are found by platform name in :data:`ADAPTERS` and imported lazily, so a
missing optional adapter only matters when a config names it. Account keys other
than ``token_env`` are passed to the adapter's constructor by name.

Split across processes on PostgreSQL (see ``docs/scale-out.md``):

- ``--receiver-only``: connect every account and persist its events into the inbox
  (one receiver per account: platforms allow one consumer per token);
- ``--worker``: take a fair share of the groups and process their inbox rows; run as
  many as needed, on any machine that reaches the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import logging
import os
import re
import signal
import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from shequn import secrets
from shequn.botconfig import AccountConfig, BotConfig, ConfigError, load_config
from shequn.events import Event
from shequn.features import layers
from shequn.features.moderation.verdict import Verdict
from shequn.pipeline import Moderate, Pipeline
from shequn.platforms.port import Adapter, Platform
from shequn.store import Store

__all__ = [
    "ADAPTERS",
    "AdapterUnavailable",
    "build_adapter",
    "moderator_callable",
    "register",
    "run_bot",
]

log = logging.getLogger(__name__)
#: Seconds a stopping bot waits for the calls it decided (then they stay planned).
CALLS_GRACE = 10.0

#: platform name -> ("module:Class", the constructor argument that takes the token)
ADAPTERS: dict[str, tuple[str, str]] = {
    "matrix": ("shequn.platforms.matrix:MatrixAdapter", "access_token"),
    "telegram": ("shequn.platforms.telegram:TelegramAdapter", "token"),
    "onebot": ("shequn.platforms.onebot:OneBotAdapter", "access_token"),
    "discord": ("shequn.platforms.discord:DiscordAdapter", "token"),
    "qqbot": ("shequn.platforms.qqbot:QQBotAdapter", "secret"),
    "wecom": ("shequn.platforms.wecom:WeComAdapter", "secret"),
}


class AdapterUnavailable(RuntimeError):
    """No adapter for a platform, or its module cannot be imported here."""


def build_adapter(account: AccountConfig) -> Adapter:
    if account.platform not in ADAPTERS:
        raise AdapterUnavailable(
            f"accounts.{account.platform}: no adapter for this platform "
            f"(known: {', '.join(sorted(ADAPTERS))})"
        )
    target, token_arg = ADAPTERS[account.platform]
    module, _, cls_name = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module), cls_name)
    except (ImportError, AttributeError) as e:
        raise AdapterUnavailable(
            f"accounts.{account.platform}: the adapter {target} cannot be loaded ({e})"
        ) from None
    try:
        adapter: Adapter = cls(**{token_arg: account.token}, **account.options)
    except TypeError as e:
        raise AdapterUnavailable(f"accounts.{account.platform}: {e}") from None
    return adapter


_DOMAIN = re.compile(r"^(?:[\w-]+\.)+[a-z]{2,}$", re.I)


def moderator_callable(moderator: Any) -> Moderate:
    """Adapt the real ``Moderator`` to the pipeline's ``moderate(text, kind, mentions)``.

    A group's ``allow`` strings become the Moderator's ``Allowlist``: domain-like
    entries allow links to that domain, every other entry is an allowed word and handle.
    """
    from shequn.features.moderation.settings import Allowlist

    @functools.lru_cache(maxsize=256)
    def allowlist(items: tuple[str, ...]) -> Allowlist:
        domains = frozenset(i.lower() for i in items if _DOMAIN.match(i))
        rest = frozenset(i for i in items if not _DOMAIN.match(i))
        return Allowlist(domains=domains, handles=rest, words=rest)

    def moderate(
        text: str,
        kind: str,
        mentions: int,
        allow: tuple[str, ...] = (),
        qr: tuple[str, ...] = (),
    ) -> Verdict:
        verdict: Verdict = moderator.check(
            text,
            kind=kind,
            mentions=mentions,
            allow=allowlist(tuple(allow)) if allow else None,
            qr=qr,
        )
        return verdict

    return moderate


def _real_moderator() -> Moderate:
    try:
        engine = importlib.import_module("shequn.features.moderation.engine")
    except ImportError as e:
        raise AdapterUnavailable(f"the moderation engine cannot be loaded ({e})") from None
    return moderator_callable(engine.Moderator())


async def run_bot(
    config: BotConfig,
    store: Store,
    adapters: Sequence[Adapter],
    moderate: Moderate,
    *,
    stop: asyncio.Event | None = None,
    restart_delay: float = 5.0,
    inline_calls: bool = False,
) -> Pipeline:
    """Feed every adapter into one pipeline and tick it until ``stop`` is set.

    ``inline_calls=True`` makes each event wait for its platform calls, as the bot did
    before the carrier (``bench/live_load.py --inline-calls`` compares the two).
    """
    stop = stop or asyncio.Event()
    from shequn.groupsettings import live_settings  # the console's edits over the file

    settings_for = live_settings(config, store)
    # The calls an event decides go out off the event path (a slow platform answer must
    # not hold the next event); per group in order, see Pipeline(inline_calls=...).
    pipeline = Pipeline(
        store, moderate, settings_for, layer_of=layers.layer_lookup(store),
        inline_calls=inline_calls, console_url=config.console_url,
    )  # fmt: skip
    for adapter in adapters:
        pipeline.attach(adapter)
        if getattr(adapter, "store", False) is None:  # an adapter that syncs into the archive
            adapter.store = store  # type: ignore[attr-defined]
        for name, job in getattr(adapter, "tick_jobs", ()):  # an adapter's own upkeep
            pipeline.register_tick(name, job)
    await pipeline.resume()  # whatever a previous run decided but did not do

    async def handle(event: Event, platform: Platform) -> None:
        await pipeline.handle(event, platform)

    async def tick() -> None:
        try:
            await pipeline.tick()
        except Exception:
            log.exception("tick failed")

    # The tick runs beside the adapters (its jobs in a thread of their own, see
    # Pipeline.tick), never in their way; one still running when the next is due
    # makes that one skip: ticks never pile up.
    ticking: asyncio.Task[None] | None = None
    tasks = {asyncio.create_task(a.start(handle)): a for a in adapters}
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=config.tick_seconds)
            if ticking is None or ticking.done():
                ticking = asyncio.create_task(tick())
            else:
                pipeline.ticks_skipped += 1
                log.warning(
                    "tick skipped: the previous one is still in %s (%d skipped so far)",
                    pipeline.tick_step,
                    pipeline.ticks_skipped,
                )
            for task, adapter in list(tasks.items()):
                if task.done() and not stop.is_set():
                    # An adapter ends when its handler raised (the database went away):
                    # it redelivers from its last acknowledged event after a pause.
                    if not task.cancelled() and task.exception() is not None:
                        log.error("%s stopped", adapter.name, exc_info=task.exception())
                    del tasks[task]
                    await asyncio.sleep(restart_delay)
                    tasks[asyncio.create_task(adapter.start(handle))] = adapter
    finally:
        if ticking is not None:  # its thread cannot be cancelled: let it finish
            await asyncio.wait([ticking], timeout=60)
            ticking.cancel()
        # The calls already decided go out while the adapters' connections are open;
        # past the grace they stay planned and the next start's resume() makes them.
        if not await pipeline.drain(timeout=CALLS_GRACE):
            log.warning("stopping with %d batches of calls left planned", pipeline.calls_pending)
        await pipeline.cancel_calls()
        for adapter in adapters:
            with contextlib.suppress(Exception):
                await adapter.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return pipeline


def _until_signalled(coro_fn: Callable[[asyncio.Event], object]) -> None:
    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await coro_fn(stop)  # type: ignore[misc]

    asyncio.run(go())


def register(app: typer.Typer, moderator: Callable[[], Moderate] = _real_moderator) -> None:
    @app.command("bot", help="Run the live bot from shequn.toml until Ctrl-C / 运行机器人")
    def bot_cmd(
        config: Annotated[Path, typer.Option("--config", "-c", help="shequn.toml")] = Path(
            "shequn.toml"
        ),
        db: Annotated[str | None, typer.Option("--db", envvar="SHEQUN_DB")] = None,
        receiver_only: Annotated[
            bool,
            typer.Option("--receiver-only", help="only persist events into the inbox"),
        ] = False,
        worker: Annotated[
            bool,
            typer.Option("--worker", help="process a share of the groups (PostgreSQL)"),
        ] = False,
        worker_id: Annotated[
            str | None, typer.Option("--worker-id", help="default: host:pid")
        ] = None,
        secrets_file: Annotated[
            Path | None,
            typer.Option(
                "--secrets",
                envvar=secrets.ENV_VAR,
                help="KEY=value file (chmod 600); the environment wins over it",
            ),
        ] = None,
    ) -> None:
        from shequn.cli import _open, console
        from shequn.workers import Leases, Receiver, Worker, WorkerPipeline

        if receiver_only and worker:
            console.print("[red]--receiver-only and --worker exclude each other[/red]")
            raise typer.Exit(2)
        try:
            secrets.apply(secrets_file)
            cfg = load_config(config)
            adapters = [build_adapter(a) for a in cfg.accounts.values()]
            moderate = moderator() if not receiver_only else None
        except (ConfigError, AdapterUnavailable, OSError, secrets.SecretsError) as e:
            console.print(f"[red]{secrets.redact(str(e))}[/red]")
            raise typer.Exit(2) from None
        if not adapters:
            console.print("[red]accounts: no account configured[/red]")
            raise typer.Exit(2)
        store = _open(db or cfg.database)
        if (receiver_only or worker) and store.dialect != "postgresql":
            store.close()
            console.print("[red]--receiver-only / --worker need a PostgreSQL database[/red]")
            raise typer.Exit(2)
        logging.basicConfig(level=logging.INFO)
        secrets.install_log_redaction()
        try:
            if receiver_only:
                _until_signalled(lambda stop: Receiver(store).run(adapters, stop))
            elif worker:
                assert moderate is not None
                wid = worker_id or f"{socket.gethostname()}:{os.getpid()}"
                # Adapters are not started here: the worker only makes outbound calls.
                from shequn.groupsettings import live_settings

                pipe = WorkerPipeline(
                    store, moderate, live_settings(cfg, store), db_patience=10.0,
                    console_url=cfg.console_url,
                )  # fmt: skip
                w = Worker(
                    store,
                    pipe,
                    {a.name: a for a in adapters},
                    Leases(store.url, wid),
                    tick_every=cfg.tick_seconds,
                )
                _until_signalled(w.run)
            else:
                assert moderate is not None
                asyncio.run(run_bot(cfg, store, adapters, moderate))
        except KeyboardInterrupt:
            console.print("stopped / 已停止")
        finally:
            store.close()
