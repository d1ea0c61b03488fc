"""``shequn activity``: check the activities the bot ran.

``shequn activity verify-draw LOTTERY_ID --db URL`` recomputes a lottery's draw from
what was logged (the secret against the commitment announced at creation, the seed
from ``id:close_ref:secret``, the winners from the seed and the sorted entrants) and
says whether it matches. Exit status 0: verified; 1: something disagrees (each
problem is printed); 2: no such lottery, or the archive cannot be opened.
``--json`` prints one JSON object instead.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``activity`` command group to the CLI."""
    activity = typer.Typer(help="Activities (polls, chains, lotteries, events): checks.")

    @activity.command(
        "verify-draw", help="Recompute a lottery's draw from its logged seed and entrants."
    )
    def verify_draw_cmd(
        lottery_id: Annotated[int, typer.Argument(help="The lottery's id (抽奖 #id).")],
        db: Annotated[
            str | None,
            typer.Option("--db", envvar="SHEQUN_DB", help="Archive: a path or database URL."),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ) -> None:
        from shequn.features.activities import verify_draw
        from shequn.store import open_store, resolve_url

        out, err = Console(), Console(stderr=True)
        try:
            store = open_store(db)
        except Exception as e:  # a wrong URL or an unreachable server: say which
            err.print(f"cannot open {resolve_url(db)}: {e}", markup=False)
            raise typer.Exit(2) from None
        try:
            with store.engine.connect() as conn:
                check = verify_draw(conn, lottery_id)
        except LookupError as e:
            err.print(str(e), markup=False)
            raise typer.Exit(2) from None
        finally:
            store.close()
        if as_json:
            record = {
                "lottery_id": check.lottery_id,
                "ok": check.ok,
                "seed": check.seed,
                "entrants": check.entrants,
                "winners": check.winners,
                "problems": check.problems,
            }
            print(json.dumps(record, ensure_ascii=False))
        else:
            out.print(f"lottery #{check.lottery_id}: {len(check.entrants)} entrants", markup=False)
            out.print(f"seed    {check.seed}", markup=False)
            out.print(f"winners {', '.join(check.winners) or '-'}", markup=False)
            if check.ok:
                out.print("[green]✓ verified: the draw recomputes exactly / 开奖验证通过[/green]")
            for problem in check.problems:
                out.print(f"[red]✗ {problem}[/red]")
        if not check.ok:
            raise typer.Exit(1)

    app.add_typer(activity, name="activity")
