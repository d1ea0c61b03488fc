"""``shequn moderate``: check one message, or a stream of them, and explain the verdict.

``shequn moderate TEXT`` prints the verdict with its reasons (Rich table, zh/en).
``shequn moderate --jsonl`` reads stdin and writes exactly one JSON object per input
line, flushed per line so it works inside a pipe; an empty line still gets its line::

    {"text": "...", "verdict": "ok|ad|spam|abuse|sensitive", "score": 0.93,
     "uncertain": false, "reasons": ["lexicon.ad:加微信", "contact.wechat:abc123"]}

Reasons are strings ``"<detector>:<detail>"``; details quote the normalised text.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from shequn.i18n import t

__all__ = ["register", "verdict_json"]


def verdict_json(verdict: object) -> str:
    """One JSON line (no newline) for a :class:`~shequn.features.moderation.Verdict`."""
    from shequn.features.moderation import Verdict

    assert isinstance(verdict, Verdict)
    return json.dumps(
        {
            "text": verdict.text,
            "verdict": verdict.verdict,
            "score": verdict.score,
            "uncertain": verdict.uncertain,
            "reasons": [f"{r.detector}:{r.detail}" for r in verdict.reasons],
        },
        ensure_ascii=False,
    )


def register(app: typer.Typer) -> None:
    """Add the ``moderate`` command to the CLI."""

    @app.command("moderate", help=t("moderate.help"))
    def moderate_cmd(
        text: Annotated[str | None, typer.Argument(help=t("moderate.arg.text"))] = None,
        jsonl: Annotated[bool, typer.Option("--jsonl", help=t("moderate.opt.jsonl"))] = False,
        kind: Annotated[str, typer.Option("--kind", help=t("moderate.opt.kind"))] = "text",
        mentions: Annotated[int, typer.Option("--mentions", help=t("moderate.opt.mentions"))] = 0,
        no_classifier: Annotated[
            bool, typer.Option("--no-classifier", help=t("moderate.opt.no_classifier"))
        ] = False,
        image: Annotated[
            list[Path] | None, typer.Option("--image", help=t("moderate.opt.image"))
        ] = None,
        lang: Annotated[str | None, typer.Option("--lang", help=t("opt.lang"))] = None,
    ) -> None:
        from shequn.features.moderation import ModerationSettings, Moderator
        from shequn.features.moderation.qr import decode

        moderator = Moderator(ModerationSettings(use_classifier=not no_classifier))
        qr: tuple[str, ...] = ()
        for path in image or ():
            try:
                qr += tuple(decode(path.read_bytes()))
            except OSError as e:
                Console(stderr=True).print(f"[red]{path}: {e.strerror or e}[/red]")
                raise typer.Exit(2) from None
        if image and text is None:
            text, kind = "", "image"
        if jsonl:
            out = sys.stdout
            for line in iter(sys.stdin.readline, ""):
                message = line.rstrip("\r\n")
                verdict = moderator.check(message, kind=kind, mentions=mentions)
                out.write(verdict_json(verdict) + "\n")
                out.flush()
            return
        if text is None:
            Console(stderr=True).print(f"[red]{t('moderate.need_text')}[/red]")
            raise typer.Exit(2)
        verdict = moderator.check(text, kind=kind, mentions=mentions, qr=qr)
        console = Console()
        colour = "green" if verdict.verdict == "ok" else ("yellow" if verdict.uncertain else "red")
        label = t(f"moderate.verdict.{verdict.verdict}")
        result = t("moderate.result", verdict=label, score=f"{verdict.score:.2f}")
        console.print(f"[bold {colour}]{result}[/bold {colour}]")
        if verdict.uncertain:
            console.print(f"[yellow]{t('moderate.uncertain')}[/yellow]")
        if not verdict.reasons:
            console.print(t("moderate.no_reasons"))
            return
        table = Table(show_header=True, header_style="bold")
        table.add_column(t("moderate.col.detector"))
        table.add_column(t("moderate.col.detail"))
        table.add_column(t("moderate.col.weight"), justify="right")
        for r in verdict.reasons:
            table.add_row(r.detector, r.detail, f"{r.weight:.2f}")
        console.print(table)
