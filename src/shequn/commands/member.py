"""``shequn member export|erase``: a member's data on request (privacy)."""

import json
from pathlib import Path
from typing import Annotated

import typer

from shequn.i18n import t

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    member_app = typer.Typer(help=t("member.help"), no_args_is_help=True)
    app.add_typer(member_app, name="member")
    DbOpt = Annotated[str | None, typer.Option("--db", envvar="SHEQUN_DB", help=t("opt.db"))]
    Platform = Annotated[str, typer.Argument(help=t("member.arg.platform"))]
    MemberId = Annotated[str, typer.Argument(help=t("member.arg.member"))]

    @member_app.command("export", help=t("member.export.help"))
    def export_cmd(
        platform: Platform,
        member: MemberId,
        out: Annotated[Path | None, typer.Option("--out", "-o", help=t("member.opt.out"))] = None,
        db: DbOpt = None,
    ) -> None:
        from shequn.actions.privacy import MemberNotFound, export_member
        from shequn.cli import _open, console

        store = _open(db)
        try:
            data = export_member(store, platform, member)
        except MemberNotFound as e:
            console.print(f"[red]{e}[/red]")
            raise typer.Exit(1) from None
        finally:
            store.close()
        text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
        if out is None:
            typer.echo(text)
        else:
            out.write_text(text + "\n", encoding="utf-8")
            console.print(t("member.exported", path=out))

    @member_app.command("erase", help=t("member.erase.help"))
    def erase_cmd(
        platform: Platform,
        member: MemberId,
        operator: Annotated[str, typer.Option("--operator", help=t("member.opt.operator"))],
        reason: Annotated[str, typer.Option("--reason", help=t("member.opt.reason"))],
        yes: Annotated[bool, typer.Option("--yes", help=t("member.opt.yes"))] = False,
        db: DbOpt = None,
    ) -> None:
        from shequn.actions.privacy import MemberNotFound, erase_member
        from shequn.cli import _open, console

        if not yes and not typer.confirm(t("member.confirm", member=member)):
            raise typer.Exit(1)
        store = _open(db)
        try:
            counts = erase_member(store, platform, member, operator=operator, reason=reason)
        except MemberNotFound as e:
            console.print(f"[red]{e}[/red]")
            raise typer.Exit(1) from None
        finally:
            store.close()
        summary = ", ".join(f"{k} {v}" for k, v in counts.items())
        console.print(t("member.erased", member=member, summary=summary))
