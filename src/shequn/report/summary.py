"""The terminal summary of a report: what an operator should look at first.

Names go into Rich ``Text`` objects (never markup strings) after
:func:`~shequn.report.text.clean`, which also drops escape characters, so a member
called ``[bold]`` or ``\\x1b]0;pwned`` prints as what it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from shequn import i18n
from shequn.report.text import clean, fmt_num, fmt_pct, fmt_ts, vocab_label

__all__ = ["print_summary"]

GROUP_ROWS = 10
LIST_ROWS = 10


def _table(title: str, *columns: str, right: tuple[int, ...] = ()) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for i, col in enumerate(columns):
        table.add_column(col, justify="right" if i in right else "left", overflow="fold")
    return table


def print_summary(data: Mapping[str, Any], console: Console, lang: str = "en") -> None:
    """Print groups (at-risk first), layers, top KOLs and buyers, retention and 80/20."""

    def s(key: str, **params: object) -> str:
        return i18n.t(f"report.summary.{key}", lang=lang, **params)

    meta = data.get("meta") or {}
    period = meta.get("period") or {}
    msgs = data.get("messages") or {}
    console.rule(Text(s("title"), style="bold"))
    console.print(
        Text(
            s(
                "overview",
                groups=fmt_num(len(data.get("groups") or [])),
                members=fmt_num(len(data.get("members") or [])),
                messages=fmt_num(msgs.get("total")),
                start=fmt_ts(period.get("start"), date_only=True),
                end=fmt_ts(period.get("end"), date_only=True),
            )
        )
    )

    health = list(data.get("health") or [])
    if health:
        table = _table(
            s("groups", at_risk=sum(1 for h in health if h.get("at_risk")), total=len(health)),
            s("col.group"),
            s("col.stage"),
            s("col.score"),
            s("col.reasons"),
            right=(2,),
        )
        for h in health[:GROUP_ROWS]:
            risk = bool(h.get("at_risk"))
            table.add_row(
                Text(clean(h.get("name"), 40) or "?", style="bold red" if risk else ""),
                Text(
                    vocab_label("stage", h.get("stage"), lang) + (" ⚠" if risk else ""),
                    style="red" if risk else "",
                ),
                fmt_num(h.get("score"), 0),
                Text("; ".join(clean(r, 80) for r in (h.get("reasons") or [])[:2])),
            )
        console.print(table)
        if len(health) > GROUP_ROWS:
            console.print(Text(s("more", n=len(health) - GROUP_ROWS), style="dim"))

    layers = data.get("layers") or {}
    if layers.get("definitions"):
        table = _table(s("layers"), s("col.layer"), s("col.count"), s("col.action"), right=(1,))
        counts = layers.get("counts") or {}
        actions = layers.get("actions") or {}
        for d in layers["definitions"]:
            key = d.get("key")
            table.add_row(
                Text(str(d.get(lang) or d.get("en") or key)),
                fmt_num(counts.get(key, 0)),
                Text(str((actions.get(key) or {}).get(lang) or "")),
            )
        console.print(table)

    kols = list(data.get("kols") or [])
    if kols:
        table = _table(
            s("kols"),
            "#",
            s("col.member"),
            s("col.score"),
            s("col.reach"),
            s("col.messages"),
            s("col.reasons"),
            right=(0, 2, 3, 4),
        )
        for i, k in enumerate(kols[:LIST_ROWS], 1):
            table.add_row(
                str(i),
                Text(clean(k.get("name"), 40) or "?"),
                fmt_num(k.get("score")),
                fmt_num(k.get("reach")),
                fmt_num(k.get("messages")),
                Text(clean((k.get("reasons") or [""])[0], 80)),
            )
        console.print(table)

    buyers = list(data.get("buyers") or [])
    if buyers:
        table = _table(
            s("buyers"), "#", s("col.member"), s("col.score"), s("col.signals"), right=(0, 2)
        )
        for i, b in enumerate(buyers[:LIST_ROWS], 1):
            signals = b.get("signals") or {}
            table.add_row(
                str(i),
                Text(clean(b.get("name"), 40) or "?"),
                fmt_num(b.get("score")),
                Text(
                    ", ".join(f"{vocab_label('signal', k, lang)}×{n}" for k, n in signals.items())
                ),
            )
        console.print(table)

    overall = (data.get("retention") or {}).get("overall") or {}
    present, speaking = overall.get("present") or {}, overall.get("speaking") or {}
    console.print(
        Text(
            s(
                "retention",
                d1=fmt_pct(present.get("d1")),
                d7=fmt_pct(present.get("d7")),
                d30=fmt_pct(present.get("d30")),
                s1=fmt_pct(speaking.get("d1")),
                s7=fmt_pct(speaking.get("d7")),
                s30=fmt_pct(speaking.get("d30")),
            )
        )
    )
    conc = data.get("concentration") or {}
    console.print(
        Text(
            s(
                "concentration",
                share=fmt_pct(conc.get("top20_share")),
                n=fmt_num(conc.get("speakers_for_80pct")),
                speakers=fmt_num(conc.get("speakers")),
            )
        )
    )
