"""``shequn demo``: import the bundled sample exports and write a report (the quick start)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape

from shequn.i18n import t

__all__ = ["find_sample", "run_demo", "sample_files"]

_NOT_EXPORTS = ("LICENSE", "README", "NOTICE", ".")


def find_sample() -> Path | None:
    """``examples/sample`` under the current folder, else in the source tree, else None."""
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        folder = base / "examples" / "sample"
        if folder.is_dir():
            return folder
    return None


def sample_files(folder: Path) -> list[Path]:
    """The export files in ``folder`` (licence and read-me files left out), sorted."""
    return sorted(
        p for p in folder.iterdir() if p.is_file() and not p.name.upper().startswith(_NOT_EXPORTS)
    )


def run_demo(
    db: str | None = None,
    html: Path = Path("report.html"),
    lang: str = "en",
    console: Console | None = None,
) -> int:
    """Import every sample file (reporting each), then write ``html`` and its ``.json``."""
    from shequn.actions.imports import import_file
    from shequn.importers.base import ImportFormatError
    from shequn.report import run_report
    from shequn.store import open_store

    console = console or Console()
    folder = find_sample()
    if folder is None:
        console.print(f"[red]{escape(t('report.demo.no_sample', lang=lang))}[/red]")
        return 2
    store = open_store(db)
    try:
        imported = 0
        files = sample_files(folder)
        for i, path in enumerate(files, 1):
            label = t("report.demo.importing", lang=lang, i=i, n=len(files), name=path.name)
            try:
                with console.status(label):
                    result = import_file(store, path)
            except ImportFormatError as e:
                msg = t("report.demo.skipped", lang=lang, name=path.name, error=e)
                console.print(f"[yellow]{escape(msg)}[/yellow]")
                continue
            imported += 1
            s = result.stats
            msg = t(
                "report.demo.imported",
                lang=lang,
                name=path.name,
                fmt=result.format,
                events=s.events,
                new=s.new_rows,
            )
            console.print(escape(msg))
        if not imported:
            console.print(f"[red]{escape(t('report.demo.none_imported', lang=lang))}[/red]")
            return 1
        html = Path(html)
        code = run_report(
            store, html=html, json_path=html.with_suffix(".json"), lang=lang, console=console
        )
    finally:
        store.close()
    if code == 0:
        where = t("report.demo.open", lang=lang, path=html.resolve().as_uri())
        console.print(f"[bold green]{escape(where)}[/bold green]")
    return code
