"""``shequn export-parquet FOLDER``: the archive as Parquet parts for DuckDB or Spark."""

from pathlib import Path
from typing import Annotated

import typer

from shequn.i18n import t

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    DbOpt = Annotated[str | None, typer.Option("--db", envvar="SHEQUN_DB", help=t("opt.db"))]

    @app.command("export-parquet", help=t("export_parquet.help"))
    def export_parquet_cmd(
        folder: Annotated[Path, typer.Argument(help=t("export_parquet.arg.folder"))],
        tz: Annotated[str, typer.Option("--tz", help=t("export_parquet.opt.tz"))] = "Asia/Shanghai",
        replace: Annotated[
            bool, typer.Option("--replace", help=t("export_parquet.opt.replace"))
        ] = False,
        size: Annotated[
            int, typer.Option("--size", min=1000, help=t("export_parquet.opt.size"))
        ] = 200_000,
        db: DbOpt = None,
    ) -> None:
        from zoneinfo import ZoneInfo

        from shequn.analytics.parquet_archive import export_archive
        from shequn.cli import _open, console

        try:
            ZoneInfo(tz)
        except Exception:
            raise typer.BadParameter(tz, param_hint="--tz") from None
        if folder.exists() and not replace:
            console.print(f"[red]{t('export_parquet.exists', folder=folder)}[/red]")
            raise typer.Exit(2)
        store = _open(db)
        try:
            manifest = export_archive(store, folder, tz=tz, size=size, replace=replace)
        finally:
            store.close()
        console.print(
            t(
                "export_parquet.done",
                messages=manifest.rows["messages"],
                parts=manifest.parts["messages"],
                members=manifest.rows["members"],
                groups=manifest.rows["groups"],
                folder=folder,
            )
        )
