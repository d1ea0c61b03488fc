"""``shequn crm segment list|export``, ``crm orders import``, ``crm shop add``.

The command line acts as the server's operator: it sees every group, and its changes
are written to the console audit log under the name ``cli``.
"""

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shequn.i18n import t

if TYPE_CHECKING:
    from sqlalchemy import Connection

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    crm_app = typer.Typer(help=t("crm.help"), no_args_is_help=True)
    segment_app = typer.Typer(help=t("crm.segment.help"), no_args_is_help=True)
    orders_app = typer.Typer(help=t("crm.orders.help"), no_args_is_help=True)
    shop_app = typer.Typer(help=t("crm.shop.help"), no_args_is_help=True)
    app.add_typer(crm_app, name="crm")
    crm_app.add_typer(segment_app, name="segment")
    crm_app.add_typer(orders_app, name="orders")
    crm_app.add_typer(shop_app, name="shop")
    DbOpt = Annotated[str | None, typer.Option("--db", envvar="SHEQUN_DB", help=t("opt.db"))]

    @segment_app.command("list", help=t("crm.segment.list.help"))
    def list_cmd(db: DbOpt = None) -> None:
        from shequn.cli import _open
        from shequn.features.crm import buyers, people, segments
        from shequn.features.crm.segments import Filter

        store = _open(db)
        try:
            with store.engine.connect() as conn:
                everyone = people(conn, _every_group(conn), now=time.time(),
                                  buyers=buyers.likely_buyers(store))  # fmt: skip
                for row in segments.segments(conn):
                    n = len(segments.apply(Filter.from_json(row.filter), everyone, time.time()))
                    typer.echo(f"{row.id}\t{row.name}\t{n}")
        finally:
            store.close()

    @segment_app.command("export", help=t("crm.segment.export.help"))
    def export_cmd(
        segment: Annotated[str, typer.Argument(help=t("crm.arg.segment"))],
        out: Annotated[Path, typer.Option("--out", "-o", help=t("crm.opt.out"))],
        lang: Annotated[str, typer.Option("--header-lang", help=t("crm.opt.lang"))] = "zh",
        db: DbOpt = None,
    ) -> None:
        from shequn.cli import _open, console
        from shequn.console import audit
        from shequn.features.crm import buyers, export, people, segments
        from shequn.features.crm.segments import Filter

        store = _open(db)
        now = time.time()
        try:
            with store.engine.begin() as conn:
                row = next(
                    (r for r in segments.segments(conn) if segment in (str(r.id), r.name)), None
                )
                if row is None:
                    console.print(f"[red]{t('crm.no_segment', segment=segment)}[/red]")
                    raise typer.Exit(1)
                everyone = people(conn, _every_group(conn), now=now,
                                  buyers=buyers.likely_buyers(store))  # fmt: skip
                found = segments.apply(Filter.from_json(row.filter), everyone, now)
                head, data = export.header(lang), export.rows(found)
                kind = "xlsx" if out.suffix.lower() == ".xlsx" else "csv"
                body = (
                    export.to_xlsx(head, data, title=row.name)
                    if kind == "xlsx"
                    else export.to_csv(head, data)
                )
                out.write_bytes(body)
                audit.record(
                    conn, actor=None, actor_name="cli", action="crm.export",
                    target=f"segment:{row.id}", now=now,
                    after={"format": kind, "rows": len(data), "name": row.name, "path": str(out)},
                )  # fmt: skip
        finally:
            store.close()
        console.print(t("crm.exported", n=len(data), path=out))

    @orders_app.command("import", help=t("crm.orders.import.help"))
    def import_cmd(
        file: Annotated[Path, typer.Argument(help=t("crm.arg.file"), exists=True, dir_okay=False)],
        tz: Annotated[str, typer.Option("--tz", help=t("crm.opt.tz"))] = "Asia/Shanghai",
        db: DbOpt = None,
    ) -> None:
        from shequn.cli import _open, console
        from shequn.console import audit
        from shequn.features.crm.orders import OrderError, import_csv

        store = _open(db)
        now = time.time()
        try:
            with store.engine.begin() as conn:
                counts = import_csv(conn, file, by="cli", now=now, tz=tz)
                audit.record(conn, actor=None, actor_name="cli", action="crm.order.import",
                             target=file.name[:200], after=counts, now=now)  # fmt: skip
        except OrderError as e:
            console.print(f"[red]{e}[/red]", soft_wrap=True)
            raise typer.Exit(1) from None
        finally:
            store.close()
        console.print(t("crm.imported", created=counts["created"], known=counts["known"]))

    @shop_app.command("add", help=t("crm.shop.add.help"))
    def shop_add(
        name: Annotated[str, typer.Argument(help=t("crm.arg.shop"))], db: DbOpt = None
    ) -> None:
        from shequn.cli import _open, console
        from shequn.console import audit
        from shequn.features.crm.orders import OrderError, create_shop

        store = _open(db)
        now = time.time()
        try:
            with store.engine.begin() as conn:
                token = create_shop(conn, name, now=now)
                audit.record(conn, actor=None, actor_name="cli", action="crm.shop.add",
                             target=f"shop:{name}", now=now)  # fmt: skip
        except OrderError as e:
            console.print(f"[red]{e}[/red]", soft_wrap=True)
            raise typer.Exit(1) from None
        finally:
            store.close()
        console.print(t("crm.shop.added", shop=name))
        typer.echo(token)


def _every_group(conn: "Connection") -> list[tuple[str, str]]:
    from sqlalchemy import select

    from shequn.store import schema

    g = schema.groups
    rows = conn.execute(select(g.c.platform, g.c.platform_id))
    return [(r.platform, r.platform_id) for r in rows]
