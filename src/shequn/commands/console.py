"""``shequn serve`` (the operations console) and ``shequn user add``.

The console listens on 127.0.0.1 by default. Any other address needs
``--allow-remote``: the console speaks plain HTTP, so on a network it must sit behind
an HTTPS reverse proxy, and with ``--allow-remote`` its cookies are marked Secure.
``--bot`` runs the bot of ``--config`` in the same process (see
:mod:`shequn.console.serving`), so the console acts through the live connections.

(No ``from __future__ import annotations``: Typer evaluates the local ``Annotated``
aliases of the commands at run time.)
"""

import asyncio
import ipaddress
import logging
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from shequn.i18n import t

if TYPE_CHECKING:
    from shequn.console.serving import BotRunner
    from shequn.platforms.port import Platform
    from shequn.store import Store

__all__ = ["is_loopback", "register"]


def is_loopback(host: str) -> bool:
    """Does ``host`` only accept connections from this machine?"""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve to anything


def register(app: typer.Typer) -> None:
    """Add ``serve`` and the ``user`` command group to the CLI."""
    err = Console(stderr=True)
    out = Console()
    DbOpt = Annotated[str | None, typer.Option("--db", envvar="SHEQUN_DB", help=t("opt.db"))]
    LangOpt = Annotated[str | None, typer.Option("--lang", help=t("opt.lang"))]

    def _open(db: str | None) -> "Store":
        from shequn.store import open_store, resolve_url

        try:
            return open_store(db)
        except Exception as e:
            err.print(f"[red]{t('error.db', url=resolve_url(db), error=e)}[/red]", markup=True)
            raise typer.Exit(2) from None

    @app.command("serve", help=t("console.serve.help"))
    def serve_cmd(
        db: DbOpt = None,
        host: Annotated[
            str, typer.Option("--host", help=t("console.serve.opt.host"))
        ] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help=t("console.serve.opt.port"))] = 8000,
        allow_remote: Annotated[
            bool, typer.Option("--allow-remote", help=t("console.serve.opt.allow_remote"))
        ] = False,
        bot: Annotated[bool, typer.Option("--bot", help=t("console.serve.opt.bot"))] = False,
        config: Annotated[
            Path, typer.Option("--config", "-c", help=t("console.serve.opt.config"))
        ] = Path("shequn.toml"),
        lang: LangOpt = None,
    ) -> None:
        from shequn.console import auth
        from shequn.console.app import create_app
        from shequn.console.serving import serve

        if not is_loopback(host) and not allow_remote:
            err.print(t("console.serve.remote_refused", host=host), markup=False, style="red")
            raise typer.Exit(2)
        bot_for: Callable[[Store], BotRunner] | None = None
        platforms: dict[str, Platform] = {}
        if bot:
            bot_for, platforms, db = _bot_runner(config, db)
        store = _open(db)
        runner = bot_for(store) if bot_for is not None else None
        with store.engine.connect() as conn:
            fresh = auth.user_count(conn) == 0
        token = secrets.token_urlsafe(24) if fresh else None
        application = create_app(
            store, platforms=platforms, setup_token=token, secure_cookies=allow_remote
        )
        shown = f"[{host}]" if ":" in host else host
        out.print(
            t("console.serve.listening", url=f"http://{shown}:{port}/"),
            markup=False,
            soft_wrap=True,
        )
        if token:
            link = f"http://{shown}:{port}/setup?token={token}"
            out.print(t("console.serve.setup_link", url=link), markup=False, soft_wrap=True)
        if bot:
            logging.basicConfig(level=logging.INFO)
        try:
            asyncio.run(serve(application, host, port, bot=runner))
        except KeyboardInterrupt:
            pass
        finally:
            store.close()

    def _bot_runner(
        config: Path, db: str | None
    ) -> "tuple[Callable[[Store], BotRunner], dict[str, Platform], str | None]":
        """The bot of ``config`` to run beside the console, its platforms, and the store URL."""
        from shequn.botconfig import ConfigError, load_config
        from shequn.commands.bot import AdapterUnavailable, _real_moderator, build_adapter, run_bot

        try:
            cfg = load_config(config)
            adapters = [build_adapter(a) for a in cfg.accounts.values()]
            moderate = _real_moderator()
        except (ConfigError, AdapterUnavailable, OSError) as e:
            err.print(str(e), markup=False, style="red", soft_wrap=True)
            raise typer.Exit(2) from None
        if not adapters:
            err.print("accounts: no account configured", markup=False, style="red")
            raise typer.Exit(2)

        def bot_for(store: "Store") -> "BotRunner":
            async def run(stop: asyncio.Event) -> object:
                return await run_bot(cfg, store, adapters, moderate, stop=stop)

            return run

        return bot_for, {a.name: a for a in adapters}, db or cfg.database

    user = typer.Typer(help=t("console.user.help"), no_args_is_help=True)

    @user.command("add", help=t("console.user.add.help"))
    def add_cmd(
        name: Annotated[str, typer.Argument(help=t("console.user.add.arg.name"))],
        role: Annotated[str, typer.Option("--role", help=t("console.user.add.opt.role"))],
        group_set: Annotated[
            list[str] | None, typer.Option("--group-set", help=t("console.user.add.opt.group_set"))
        ] = None,
        password_stdin: Annotated[
            bool, typer.Option("--password-stdin", help=t("console.user.add.opt.password_stdin"))
        ] = False,
        db: DbOpt = None,
        lang: LangOpt = None,
    ) -> None:
        from shequn.console import audit, auth
        from shequn.console.access import Role

        if role not in {r.value for r in Role}:
            err.print(t("console.user.bad_role", role=role, roles=", ".join(Role)), markup=False)
            raise typer.Exit(2)
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = typer.prompt(t("console.user.prompt"), hide_input=True,
                                    confirmation_prompt=True)  # fmt: skip
        store = _open(db)
        now = time.time()
        try:
            with store.engine.begin() as conn:
                uid = auth.create_user(
                    conn, name, role, password, now=now, group_sets=group_set or ()
                )
                audit.record(conn, actor=None, actor_name="cli", action="user.create",
                             target=name, now=now,
                             after={"role": role, "group_sets": list(group_set or ())})  # fmt: skip
        except auth.AccountError as e:
            err.print(t("console.user.failed", error=e), markup=False, style="red")
            raise typer.Exit(1) from None
        finally:
            store.close()
        out.print(t("console.user.added", name=name, role=role, id=uid), markup=False)

    app.add_typer(user, name="user")
