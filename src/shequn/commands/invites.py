"""``shequn invites``: 群活码 (invite codes over several groups) and fission leaderboards.

``shequn invites create-code NAME --group telegram:-100123 --group telegram:-100456
[--link telegram:-100123=https://t.me/+AbC] [--code spring] [--cap 500]`` creates a code
whose newcomers fill the groups in order and prints its public address
(``<base>/j/<code>``). ``shequn invites leaderboard CAMPAIGN_ID`` prints a campaign's
referrers by counted invites (``--json`` for one JSON object). Exit status 2: the
archive cannot be opened, or bad input.
"""

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

__all__ = ["register"]

DbOpt = Annotated[
    str | None, typer.Option("--db", envvar="SHEQUN_DB", help="Archive: a path or database URL.")
]


def _open(db: str | None) -> object:
    from shequn.store import open_store, resolve_url

    try:
        return open_store(db)
    except Exception as e:  # a wrong URL or an unreachable server: say which
        Console(stderr=True).print(f"cannot open {resolve_url(db)}: {e}", markup=False)
        raise typer.Exit(2) from None


def register(app: typer.Typer) -> None:
    """Add the ``invites`` command group to the CLI."""
    invites = typer.Typer(help="Invite codes (群活码) and fission campaigns (裂变).")

    @invites.command("create-code", help="Create a 活码 over groups that fill in order.")
    def create_code_cmd(
        name: Annotated[str, typer.Argument(help="What the code is for (shown to visitors).")],
        group: Annotated[
            list[str], typer.Option("--group", help="platform:group_id, in roll-over order.")
        ],
        link: Annotated[
            list[str] | None,
            typer.Option("--link", help="platform:group_id=URL: the group's invite link."),
        ] = None,
        code: Annotated[
            str | None, typer.Option(help="The public code (random if not given).")
        ] = None,
        cap: Annotated[int, typer.Option(help="Members per group before rolling over.")] = 500,
        reserve: Annotated[int, typer.Option(help="Places kept free in each group.")] = 10,
        base_url: Annotated[
            str, typer.Option("--base-url", help="The console's public address.")
        ] = "http://127.0.0.1:8000",
        db: DbOpt = None,
    ) -> None:
        import time

        from sqlalchemy.exc import IntegrityError

        from shequn.features.invites import codes
        from shequn.i18n import t
        from shequn.store import Store

        err = Console(stderr=True)
        targets = []
        for g in group:
            platform, sep, gid = g.partition(":")
            if not sep or not platform or not gid:
                err.print(f"--group {g!r}: expected platform:group_id", markup=False)
                raise typer.Exit(2)
            targets.append((platform, gid))
        links: dict[tuple[str, str], str] = {}
        for item in link or []:
            key, sep, url = item.partition("=")
            platform, _, gid = key.partition(":")
            if not sep or (platform, gid) not in targets:
                err.print(f"--link {item!r}: expected one of the groups, =URL", markup=False)
                raise typer.Exit(2)
            links[(platform, gid)] = url
        store = _open(db)
        assert isinstance(store, Store)
        try:
            with store.engine.begin() as conn:
                cid = codes.create_code(conn, name=name, now=time.time(), by="cli", code=code,
                                        cap=cap, reserve=reserve)  # fmt: skip
                for platform, gid in targets:
                    codes.add_target(conn, cid, platform, gid, link=links.get((platform, gid), ""))
                from shequn.store import schema

                public = (
                    conn.execute(
                        schema.invite_codes.select().where(schema.invite_codes.c.id == cid)
                    )
                    .one()
                    .code
                )
        except (ValueError, IntegrityError) as e:
            err.print(str(e).splitlines()[0], markup=False)
            raise typer.Exit(2) from None
        finally:
            store.close()
        url = f"{base_url.rstrip('/')}/j/{public}"
        Console().print(t("invites.cli.created", code=public, groups=len(targets), url=url),
                        markup=False)  # fmt: skip

    @invites.command("leaderboard", help="A campaign's referrers by counted invites.")
    def leaderboard_cmd(
        campaign_id: Annotated[int, typer.Argument(help="The campaign's id.")],
        limit: Annotated[int, typer.Option(help="Rows to print.")] = 20,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
        db: DbOpt = None,
    ) -> None:
        from sqlalchemy import select

        from shequn.features.invites import campaigns
        from shequn.i18n import t
        from shequn.store import Store, schema

        store = _open(db)
        assert isinstance(store, Store)
        c = schema.invite_campaigns
        try:
            with store.engine.connect() as conn:
                row = conn.execute(select(c).where(c.c.id == campaign_id)).first()
                board = campaigns.leaderboard(conn, campaign_id, limit) if row else []
        finally:
            store.close()
        if row is None:
            Console(stderr=True).print(t("invites.cli.no_campaign", id=campaign_id), markup=False)
            raise typer.Exit(2)
        if as_json:
            print(json.dumps({"campaign": row.name, "leaderboard": board}, ensure_ascii=False))
            return
        table = Table(title=row.name)
        for col in ("#", t("invites.col.member"), t("invites.col.qualified"),
                    t("invites.col.pending"), t("invites.col.flagged"), t("invites.col.left")):  # fmt: skip
            table.add_column(col)
        for i, b in enumerate(board, 1):
            table.add_row(str(i), f"{b['name']} ({b['member_id']})", str(b["qualified"]),
                          str(b["pending"]), str(b["flagged"]), str(b["left"]))  # fmt: skip
        Console().print(table)

    app.add_typer(invites, name="invites")
