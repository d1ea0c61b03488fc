"""``shequn search QUERY``, ``shequn search digest --group G --week W``, ``shequn search index``.

One command: a first word ``digest`` or ``index`` picks those modes (a sub-command
group could not also take a free query as its first argument).
"""

import json
from datetime import UTC, date, datetime
from typing import Annotated

import typer

from shequn.i18n import t

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    DbOpt = Annotated[str | None, typer.Option("--db", envvar="SHEQUN_DB", help=t("opt.db"))]

    @app.command("search", help=t("search.help"))
    def search_cmd(
        query: Annotated[list[str], typer.Argument(help=t("search.arg.query"))],
        group: Annotated[
            str | None, typer.Option("--group", "-g", help=t("search.opt.group"))
        ] = None,
        since: Annotated[str | None, typer.Option("--since", help=t("search.opt.since"))] = None,
        week: Annotated[str | None, typer.Option("--week", help=t("search.opt.week"))] = None,
        fmt: Annotated[str, typer.Option("--format", "-f", help=t("search.opt.format"))] = "text",
        limit: Annotated[int, typer.Option("--limit", "-n", help=t("search.opt.limit"))] = 20,
        repair_all: Annotated[bool, typer.Option("--repair", help=t("search.opt.repair"))] = False,
        db: DbOpt = None,
    ) -> None:
        from rich.markup import escape
        from sqlalchemy import or_, select

        from shequn.cli import _open, console, out
        from shequn.features.search import Filters, catch_up, repair, search
        from shequn.features.search.digest import digest, to_html, to_markdown, week_bounds
        from shequn.store import schema

        store = _open(db)
        try:
            if query == ["index"]:
                if repair_all:
                    done = repair(store)
                    console.print(
                        t(
                            "search.repaired",
                            added=done["added"],
                            reindexed=done["reindexed"],
                            removed=done["removed"],
                        )
                    )
                else:
                    console.print(t("search.indexed", n=catch_up(store)))
                return
            gid: int | None = None
            if group:
                g = schema.groups
                cond = g.c.platform_id == group
                if group.isdigit():
                    cond = or_(cond, g.c.id == int(group))
                with store.engine.connect() as conn:
                    gid = conn.execute(select(g.c.id).where(cond).order_by(g.c.id)).scalar()
                if gid is None:
                    console.print(f"[red]{t('search.no_group', group=group)}[/red]")
                    raise typer.Exit(1)
            if query == ["digest"]:
                if gid is None:
                    console.print(f"[red]{t('search.need_group')}[/red]")
                    raise typer.Exit(2)
                if not week:
                    y, w, _ = datetime.now(UTC).date().isocalendar()
                    week = f"{y}-W{w:02d}"
                try:
                    week_bounds(week)
                except ValueError:
                    console.print(f"[red]{t('search.bad_week')}[/red]")
                    raise typer.Exit(2) from None
                with store.engine.connect() as conn:
                    d = digest(conn, gid, week, top=limit)
                if fmt == "json":
                    typer.echo(json.dumps(d.as_dict(), ensure_ascii=False, indent=2))
                elif fmt == "html":
                    typer.echo(to_html(d))
                else:
                    typer.echo(to_markdown(d))
                return
            catch_up(store)
            since_ts = None
            if since:
                since_ts = datetime.combine(
                    date.fromisoformat(since), datetime.min.time(), UTC
                ).timestamp()
            f = Filters(group_ids=[gid] if gid is not None else None, since=since_ts)
            with store.engine.connect() as conn:
                page = search(conn, " ".join(query), f, per_page=limit)
            if fmt == "json":
                typer.echo(
                    json.dumps(
                        {"total": page.total, "hits": [h.as_dict() for h in page.hits]},
                        ensure_ascii=False,
                        indent=2,
                    )
                )
                return
            for h in page.hits:
                when = datetime.fromtimestamp(h.ts, UTC).strftime("%Y-%m-%d %H:%M")
                head = f"[bold]{escape(h.group_name)}[/bold] · {escape(h.member_name)} · {when}"
                out.print(head, highlight=False)
                out.print("  " + h.text.replace("\n", " ")[:200], markup=False, highlight=False)
            console.print(t("search.found", total=page.total, shown=len(page.hits)))
        finally:
            store.close()
