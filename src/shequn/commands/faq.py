"""``shequn faq``: match member questions against an FAQ bank.

``shequn faq match --bank FILE`` reads questions on stdin and writes exactly one JSON
object per input line (an empty line too), flushed per line so it works in a pipe::

    {"query": "怎么签到", "match_id": "checkin", "score": 0.71}

``match_id`` is ``null`` when no entry reaches the threshold: queue it for a human.

``shequn faq stats --db URL`` prints the hit statistics per entry of the live bot, and
``shequn faq suggest --db URL [--group G] [--min-count 3]`` the clusters of questions
the bot could not answer that were asked at least ``--min-count`` times: candidate
new entries, each with its count and a representative question.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

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

    @faq.command("stats", help="Hits per FAQ entry in the live bot's groups.")
    def stats_cmd(
        db: Annotated[str | None, typer.Option("--db", envvar="SHEQUN_DB")] = None,
        group: Annotated[str | None, typer.Option("--group", help="Only this group id.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON line per entry.")] = False,
    ) -> None:
        from shequn.cli import _open
        from shequn.features.faq import entry_stats

        store = _open(db)
        try:
            with store.engine.connect() as conn:
                rows = entry_stats(conn, group_id=group)
        finally:
            store.close()
        if as_json:
            for r in rows:
                record = {
                    "entry_id": r.entry_id, "hits": r.hits, "answered": r.answered,
                    "repeats": r.repeats, "unhelpful": r.unhelpful, "last_hit": r.last_hit,
                    "groups": r.groups,
                }  # fmt: skip
                sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            return
        console = Console()
        if not rows:
            console.print("no FAQ hits yet")
            return
        table = Table("entry", "hits", "answered", "repeats", "没用 / unhelpful", "last hit",
                      "groups")  # fmt: skip
        for r in rows:
            table.add_row(r.entry_id, str(r.hits), str(r.answered), str(r.repeats),
                          str(r.unhelpful), _when(r.last_hit), str(r.groups))  # fmt: skip
        console.print(table)

    @faq.command("suggest", help="Clusters of unanswered questions: candidate FAQ entries.")
    def suggest_cmd(
        db: Annotated[str | None, typer.Option("--db", envvar="SHEQUN_DB")] = None,
        group: Annotated[str | None, typer.Option("--group", help="Only this group id.")] = None,
        min_count: Annotated[
            int, typer.Option("--min-count", min=1, help="Questions a cluster needs.")
        ] = 3,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON line per cluster.")] = False,
    ) -> None:
        from shequn.cli import _open
        from shequn.features.faq.suggest import suggest

        store = _open(db)
        try:
            with store.engine.connect() as conn:
                found = suggest(conn, group_id=group, min_count=min_count)
        finally:
            store.close()
        if as_json:
            for sg in found:
                record = {
                    "count": sg.count, "askers": sg.askers, "representative": sg.representative,
                    "questions": list(sg.questions), "groups": list(sg.groups),
                    "answered_by_humans": sg.answered_by_humans,
                }  # fmt: skip
                sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            return
        console = Console()
        if not found:
            console.print(f"no cluster of {min_count} or more unanswered questions")
            return
        for i, sg in enumerate(found, 1):
            console.print(
                f"{i}. ×{sg.count} ({sg.askers} askers, {len(sg.groups)} groups, "
                f"{sg.answered_by_humans} answered by people): {sg.representative}",
                markup=False,
            )
            for q in sg.questions[1:4]:
                console.print(f"     · {q}", markup=False)

    app.add_typer(faq, name="faq")


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")
