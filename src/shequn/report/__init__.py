"""``shequn report``: the analytics dict rendered as HTML, JSON, Excel and a terminal summary.

The data comes from :func:`shequn.analytics.analyse` (its shape is documented in
``docs/report-json.md``); this package only presents it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from sqlalchemy import select

from shequn.i18n import t
from shequn.report.data import write_json
from shequn.report.html import render_html, write_html
from shequn.report.summary import print_summary
from shequn.report.xlsx import write_xlsx

if TYPE_CHECKING:
    from shequn.store import Store

__all__ = [
    "archive_is_empty",
    "print_summary",
    "render_html",
    "run_report",
    "write_html",
    "write_json",
    "write_xlsx",
]


def archive_is_empty(store: Store) -> bool:
    """True when the archive holds no message at all."""
    from shequn.store import schema

    with store.engine.connect() as conn:
        return conn.execute(select(schema.messages.c.id).limit(1)).first() is None


def run_report(
    store: Store | None,
    html: Path,
    json_path: Path | None = None,
    xlsx_path: Path | None = None,
    top: int = 20,
    lang: str = "en",
    engine: str | None = None,
    console: Console | None = None,
    parquet: Path | None = None,
) -> int:
    """Analyse ``store`` (or the exported archive ``parquet``, see
    :mod:`shequn.analytics.parquet_archive`) and write the report files; the exit
    code for the CLI.

    1 when the archive is empty, 2 when a file cannot be written, else 0.
    """
    console = console or Console()
    if store is not None and archive_is_empty(store):
        console.print(f"[yellow]{escape(t('report.empty', lang=lang))}[/yellow]")
        return 1
    from shequn.analytics import analyse

    with console.status(t("report.computing", lang=lang)):
        data = analyse(store, top=top, lang=lang, engine=engine, parquet=parquet)  # type: ignore[arg-type]  # each writer normalises what it needs
    if not (data.get("messages") or {}).get("total"):
        console.print(f"[yellow]{escape(t('report.empty', lang=lang))}[/yellow]")
        return 1

    jobs: list[tuple[Path, Callable[[], object]]] = [
        (Path(html), lambda: write_html(data, html, lang))
    ]
    if json_path is not None:
        jobs.append((Path(json_path), lambda: write_json(data, json_path)))
    if xlsx_path is not None:
        jobs.append((Path(xlsx_path), lambda: write_xlsx(data, xlsx_path, lang)))
    written = []
    with console.status(t("report.writing", lang=lang)):
        for path, job in jobs:
            try:
                job()
            except OSError as e:
                console.print(
                    f"[red]{escape(t('report.write_failed', lang=lang, path=path, error=e))}[/red]"
                )
                return 2
            written.append(path)

    print_summary(data, console, lang)
    for path in written:
        console.print(escape(t("report.wrote", lang=lang, path=path)))
    return 0
