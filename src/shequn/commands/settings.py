"""``shequn settings``: a group's settings in effect, and group templates (复制).

``shequn settings show telegram:1001`` prints the settings the console layers over
the file, with each overridden key's source; ``shequn settings template save NAME
--group PLATFORM:ID``, ``... apply NAME --group A --group B`` and ``... list`` do
what the console's templates page does, writing the same audit rows (actor ``cli``).

(No ``from __future__ import annotations``: Typer evaluates the local ``Annotated``
aliases of the commands at run time.)
"""

import json
import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from shequn.i18n import t

if TYPE_CHECKING:
    from shequn.store import Store

__all__ = ["register"]


def _key(text: str) -> tuple[str, str]:
    platform, sep, gid = text.partition(":")
    if not sep or not platform or not gid:
        raise typer.BadParameter(f"{text!r}: write PLATFORM:GROUP_ID, e.g. telegram:1001")
    return platform, gid


def register(app: typer.Typer) -> None:
    """Add the ``settings`` command group (with ``template``) to the CLI."""
    err = Console(stderr=True)
    out = Console()
    DbOpt = Annotated[str | None, typer.Option("--db", envvar="SHEQUN_DB", help=t("opt.db"))]
    GroupsOpt = Annotated[
        list[str], typer.Option("--group", "-g", help="PLATFORM:GROUP_ID (repeatable)")
    ]

    def _open(db: str | None) -> "Store":
        from shequn.store import open_store, resolve_url

        try:
            return open_store(db)
        except Exception as e:
            err.print(f"[red]{t('error.db', url=resolve_url(db), error=e)}[/red]", markup=True)
            raise typer.Exit(2) from None

    settings = typer.Typer(help=t("settings.cli.help"), no_args_is_help=True)
    template = typer.Typer(help=t("settings.cli.template.help"), no_args_is_help=True)
    settings.add_typer(template, name="template")

    @settings.command("show", help=t("settings.cli.show.help"))
    def show_cmd(
        group: Annotated[str, typer.Argument(help="PLATFORM:GROUP_ID")], db: DbOpt = None
    ) -> None:
        from shequn.botconfig import merge_docs
        from shequn.groupsettings import layers_of

        key = _key(group)
        store = _open(db)
        try:
            with store.engine.connect() as conn:
                lay = layers_of(conn, key)
        finally:
            store.close()
        shown = {"console": lay.doc, "toml": lay.toml, "effective": merge_docs(lay.toml, lay.doc)}
        out.print(json.dumps(shown, ensure_ascii=False, indent=2), markup=False, soft_wrap=True)

    @template.command("save", help=t("settings.cli.save.help"))
    def save_cmd(
        name: Annotated[str, typer.Argument()],
        group: Annotated[str, typer.Option("--group", "-g", help="PLATFORM:GROUP_ID")],
        db: DbOpt = None,
    ) -> None:
        from shequn.console import audit
        from shequn.groupsettings import TemplateError, save_template
        from shequn.groupsettings.templates import describe, template_by_name

        key = _key(group)
        store = _open(db)
        now = time.time()
        try:
            with store.engine.begin() as conn:
                tid = save_template(conn, name, key, by="cli", now=now)
                row = template_by_name(conn, name.strip())
                assert row is not None
                audit.record(
                    conn, actor=None, actor_name="cli", action="template.save", now=now,
                    target=f"template:{tid}", group=key, after=describe(row),
                )  # fmt: skip
        except TemplateError as e:
            err.print(str(e), markup=False, style="red")
            raise typer.Exit(2) from None
        finally:
            store.close()
        out.print(t("settings.cli.saved", name=name.strip(), id=tid), markup=False)

    @template.command("apply", help=t("settings.cli.apply.help"))
    def apply_cmd(
        name: Annotated[str, typer.Argument()], group: GroupsOpt, db: DbOpt = None
    ) -> None:
        from shequn.botconfig import ConfigError
        from shequn.console import audit
        from shequn.features.faq.bank import FaqBankError
        from shequn.groupsettings import TemplateError, apply_template, layers_of
        from shequn.groupsettings.templates import template_by_name

        keys = [_key(g) for g in group]
        store = _open(db)
        now = time.time()
        try:
            with store.engine.begin() as conn:
                row = template_by_name(conn, name)
                if row is None:
                    err.print(t("settings.cli.unknown_template", name=name), markup=False)
                    raise typer.Exit(2)
                before = {k: layers_of(conn, k).doc for k in keys}
                applied = apply_template(conn, row.id, keys, by="cli", now=now)
                for a in applied:
                    audit.record(
                        conn, actor=None, actor_name="cli", action="template.apply", now=now,
                        target=f"template:{row.id}", group=a.group, before=before[a.group],
                        after={"template": row.name, "settings": layers_of(conn, a.group).doc,
                               "bank": a.bank, "plans": a.plans},
                    )  # fmt: skip
        except (TemplateError, ConfigError, FaqBankError, ValueError) as e:
            err.print(str(e), markup=False, style="red")
            raise typer.Exit(2) from None
        finally:
            store.close()
        for a in applied:
            out.print(
                t(
                    "settings.cli.applied",
                    group=":".join(a.group),
                    bank=a.bank or "—",
                    plans=a.plans,
                ),
                markup=False,
                soft_wrap=True,
            )

    @template.command("list", help=t("settings.cli.list.help"))
    def list_cmd(db: DbOpt = None) -> None:
        from shequn.groupsettings import list_templates
        from shequn.groupsettings.templates import describe

        store = _open(db)
        try:
            with store.engine.connect() as conn:
                rows = list_templates(conn)
        finally:
            store.close()
        if not rows:
            out.print(t("settings.cli.empty"), markup=False)
        for row in rows:
            d = describe(row)
            out.print(
                json.dumps({"id": row.id, **d}, ensure_ascii=False), markup=False, soft_wrap=True
            )

    app.add_typer(settings, name="settings")
