"""``shequn faq``: match member questions against an FAQ bank.

``shequn faq match --bank FILE`` reads questions on stdin and writes exactly one JSON
object per input line (an empty line too), flushed per line so it works in a pipe::

    {"query": "怎么签到", "match_id": "checkin", "score": 0.71}

``match_id`` is ``null`` when no entry reaches the threshold: queue it for a human.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``faq`` command group to the CLI."""
    faq = typer.Typer(help="FAQ auto-reply: match questions against an FAQ bank.")

    @faq.command("match", help="Read questions on stdin; print one JSON line per question.")
    def match_cmd(
        bank: Annotated[
            Path, typer.Option("--bank", help="FAQ bank (.csv or .json: id, question, answer).")
        ],
        threshold: Annotated[
            float | None,
            typer.Option("--threshold", help="Score below which no answer is given."),
        ] = None,
        mode: Annotated[str, typer.Option("--mode", help="hybrid, bm25 or embedding.")] = "hybrid",
    ) -> None:
        from shequn.features.faq import DEFAULT_THRESHOLD, FaqBankError, FaqMatcher, load_bank

        err = Console(stderr=True)
        if mode not in ("hybrid", "bm25", "embedding"):
            err.print(f"[red]unknown mode {mode!r} (hybrid, bm25, embedding)[/red]")
            raise typer.Exit(2)
        try:
            faq_bank = load_bank(bank)
        except (OSError, FaqBankError) as e:
            err.print(f"[red]cannot load the FAQ bank: {e}[/red]", markup=False)
            raise typer.Exit(2) from None
        try:
            matcher = FaqMatcher(
                faq_bank,
                threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
                mode=mode,  # type: ignore[arg-type]
            )
        except RuntimeError as e:
            err.print(f"[red]{e}[/red]")
            raise typer.Exit(2) from None
        out = sys.stdout
        for line in iter(sys.stdin.readline, ""):
            query = line.rstrip("\r\n")
            m = matcher.match(query)
            record = {"query": query, "match_id": m.entry_id, "score": m.score}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()

    app.add_typer(faq, name="faq")
