"""``shequn moderate``: check one message, or a stream of them, and explain the verdict.

``shequn moderate TEXT`` prints the verdict with its reasons (Rich table, zh/en).
``shequn moderate --jsonl`` reads stdin and writes exactly one JSON object per input
line; an empty line still gets its line. Lines are checked in batches of what is
already waiting on stdin (``Moderator.check_many``: the classifier scores a batch in
one call), and the answers are flushed before the command waits for more input, so it
works inside an interactive pipe too. Bytes that are not UTF-8 become U+FFFD::

    {"text": "...", "verdict": "ok|ad|spam|abuse|sensitive", "score": 0.93,
     "uncertain": false, "reasons": ["lexicon.ad:加微信", "contact.wechat:abc123"]}

Reasons are strings ``"<detector>:<detail>"``; details quote the normalised text.
"""

from __future__ import annotations

import json
import os
import select
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from shequn.i18n import t

__all__ = ["line_batches", "register", "verdict_json"]


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


#: Bytes read at once, and the most taken into one batch before its verdicts are written.
_CHUNK = 1 << 16
_BATCH = 1 << 20


def _waiting(fd: int) -> bool:
    """True when reading ``fd`` would not block."""
    try:
        return bool(select.select([fd], [], [], 0)[0])
    except (OSError, ValueError):  # not selectable (e.g. a Windows pipe): one line at a time
        return False


def line_batches(fd: int) -> Iterator[list[str]]:
    """The lines of ``fd`` (without ``\\r``/``\\n``), in batches of what is already there.

    Blocks only when every line read so far has been handed out, so a caller that
    answers each batch before asking for the next never keeps a line waiting. A line
    with no newline at the end of the input is a line too.
    """
    buf = bytearray()
    eof = False
    while not eof:
        complete = 0  # length of the prefix of buf made of whole lines
        while True:
            chunk = os.read(fd, _CHUNK)
            if not chunk:
                eof = True
                break
            end = chunk.rfind(b"\n")
            if end >= 0:
                complete = len(buf) + end + 1
            buf += chunk
            if complete and (len(buf) >= _BATCH or not _waiting(fd)):
                break
        if eof and len(buf) > complete:
            buf += b"\n"
            complete = len(buf)
        if complete:
            lines = bytes(buf[: complete - 1]).split(b"\n")
            del buf[:complete]
            yield [line.rstrip(b"\r").decode("utf-8", "replace") for line in lines]


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
            for lines in line_batches(sys.stdin.fileno()):
                verdicts = moderator.check_many(lines, kind=kind, mentions=mentions)
                out.write("".join(verdict_json(v) + "\n" for v in verdicts))
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
