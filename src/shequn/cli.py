"""The ``shequn`` command line (Typer + Rich), in Chinese or English.

Help texts are looked up when the app is built, so ``--lang`` (or the locale) is read
from ``argv`` first; every command then goes through :mod:`shequn.actions` or the
analytics API, never around them.
"""

import importlib
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from shequn import i18n
from shequn.i18n import t

if TYPE_CHECKING:
    from shequn.store import Store

console = Console(stderr=True)
out = Console()


def _lang_from_argv(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def _open(db: str | None) -> "Store":
    from shequn.store import open_store, resolve_url

    try:
        return open_store(db)
    except Exception as e:  # a wrong URL or an unreachable server: say which
        console.print(f"[red]{t('error.db', url=resolve_url(db), error=e)}[/red]")
        raise typer.Exit(2) from None


def build_app() -> typer.Typer:
    from shequn import importers

    app = typer.Typer(
        help=t("app.help"),
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def _root(
        lang: Annotated[str | None, typer.Option("--lang", help=t("opt.lang"))] = None,
    ) -> None:
        """Read before the app is built (see :func:`main`); declared so --help shows it."""

    DbOpt = Annotated[str | None, typer.Option("--db", envvar="SHEQUN_DB", help=t("opt.db"))]
    LangOpt = Annotated[str | None, typer.Option("--lang", help=t("opt.lang"))]

    @app.command("import", help=t("import.help"))
    def import_cmd(
        paths: Annotated[list[Path], typer.Argument(help=t("import.arg.paths"))],
        fmt: Annotated[
            str | None,
            typer.Option(
                "--format",
                "-f",
                help=t("import.opt.format", formats=", ".join(importers.available())),
            ),
        ] = None,
        tz: Annotated[str, typer.Option("--tz", help=t("import.opt.tz"))] = "Asia/Shanghai",
        group: Annotated[str | None, typer.Option("--group", help=t("import.opt.group"))] = None,
        db: DbOpt = None,
        lang: LangOpt = None,
    ) -> None:
        from shequn.actions.imports import import_file
        from shequn.importers.base import ImportFormatError, Source

        store = _open(db)
        failures = 0
        for path in paths:
            size = Source(path=path).size() if path.exists() else 0
            with Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=True,
                disable=not console.is_terminal,
            ) as progress:
                task = progress.add_task(t("import.progress", name=path.name), total=size or None)
                try:
                    result = import_file(
                        store,
                        path,
                        fmt=fmt,
                        tz=tz,
                        group_name=group,
                        on_progress=partial(progress.advance, task),
                    )
                except ImportFormatError as e:
                    failures += 1
                    console.print(f"[red]{t('import.failed', error=e)}[/red]")
                    continue
                except KeyboardInterrupt:
                    console.print(f"[red]{t('import.failed', error='interrupted')}[/red]")
                    raise typer.Exit(130) from None
            s = result.stats
            out.print(
                t(
                    "import.done",
                    path=path,
                    fmt=result.format,
                    events=s.events,
                    new=s.new_rows,
                    dups=s.duplicates,
                    members=s.members,
                    secs=result.seconds,
                )
            )
            if s.truncated:
                console.print(f"[yellow]{t('import.truncated', path=path, n=s.truncated)}[/yellow]")
        if len(paths) > 1:
            out.print(t("import.summary", ok=len(paths) - failures, total=len(paths)))
        store.close()
        if failures:
            raise typer.Exit(1)

    @app.command("formats", help=t("formats.help"))
    def formats_cmd(lang: LangOpt = None) -> None:
        for name in importers.available():
            try:
                label = importers.get(name).label
            except ModuleNotFoundError:
                continue
            out.print(f"[bold]{name}[/bold]\t{label}")

    @app.command("report", help=t("report.help"))
    def report_cmd(
        output: Annotated[Path, typer.Option("--output", "-o", help=t("report.opt.output"))] = Path(
            "report.html"
        ),
        json_path: Annotated[Path | None, typer.Option("--json", help=t("report.opt.json"))] = None,
        xlsx_path: Annotated[Path | None, typer.Option("--xlsx", help=t("report.opt.xlsx"))] = None,
        top: Annotated[int, typer.Option("--top", help=t("report.opt.top"))] = 20,
        engine: Annotated[str | None, typer.Option("--engine", help=t("report.opt.engine"))] = None,
        parquet: Annotated[
            Path | None, typer.Option("--parquet", help=t("report.opt.parquet"))
        ] = None,
        db: DbOpt = None,
        lang: LangOpt = None,
    ) -> None:
        from shequn.analytics import REPORT_ENGINES
        from shequn.report import run_report

        if engine is not None and engine not in REPORT_ENGINES:
            raise typer.BadParameter(", ".join(REPORT_ENGINES), param_hint="--engine")
        if parquet is not None and engine == "polars":
            raise typer.BadParameter(t("report.parquet_engine"), param_hint="--engine")
        store = None if parquet is not None else _open(db)
        try:
            code = run_report(
                store,
                parquet=parquet,
                html=output,
                json_path=json_path,
                xlsx_path=xlsx_path,
                top=top,
                lang=i18n.get_lang(),
                console=out,
                engine=engine,
            )
        except (FileNotFoundError, ValueError) as e:
            if parquet is None:
                raise
            from rich.markup import escape

            console.print(f"[red]{escape(str(e))}[/red]")  # not an export, or another zone
            raise typer.Exit(2) from None
        finally:
            if store is not None:
                store.close()
        if code:
            raise typer.Exit(code)

    @app.command("demo", help=t("demo.help"))
    def demo_cmd(
        output: Annotated[Path, typer.Option("--output", "-o")] = Path("report.html"),
        db: DbOpt = None,
        lang: LangOpt = None,
    ) -> None:
        from shequn.demo import run_demo

        code = run_demo(db=db, html=output, lang=i18n.get_lang(), console=out)
        if code:
            raise typer.Exit(code)

    for module in _COMMAND_MODULES:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name != module:  # a command's own missing dependency must show
                raise
            continue
        mod.register(app)
    return app


#: Commands that live with their feature; each module has ``register(app)``.
_COMMAND_MODULES = (
    "shequn.commands.moderate",
    "shequn.commands.bot",
    "shequn.commands.faq",
    "shequn.commands.activity",
    "shequn.commands.console",
    "shequn.commands.member",
    "shequn.commands.crm",  # members: tags, segments, export, orders
    "shequn.commands.invites",  # invite links, 活码 and fission campaigns
    "shequn.commands.search",  # archive search and digests
    "shequn.commands.settings",  # group settings, templates and FAQ banks
    "shequn.commands.archive",  # the archive as Parquet parts for DuckDB / Spark
)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``shequn`` console script."""
    args = sys.argv[1:] if argv is None else argv
    i18n.set_lang(_lang_from_argv(args))
    app = build_app()
    app(args=args, prog_name="shequn")


if __name__ == "__main__":  # pragma: no cover
    main()
