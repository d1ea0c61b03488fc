"""The Excel workbook: every member, KOLs, likely buyers, group health, retention, lurkers.

Written with xlsxwriter in ``constant_memory`` mode (rows are streamed to disk, so a
member list of any length costs little memory). Text is only ever written with
``write_string``: a member called ``=cmd|' /C calc'!A0`` stays text, never a formula.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from shequn import i18n
from shequn.report.data import to_jsonable
from shequn.report.text import clean, lookup, parse_ts, vocab_label

__all__ = ["write_xlsx"]

NAME_CHARS = 255
TEXT_CHARS = 2000  # per evidence message; Excel holds at most 32,767 per cell
REASONS_CHARS = 1000


class _Sheet:
    """One worksheet written row by row (constant_memory demands row order)."""

    def __init__(self, book: _Book, title: str, columns: Sequence[tuple[str, str, float]]) -> None:
        self.ws: Worksheet = book.wb.add_worksheet(title[:31])
        self.book = book
        self.kinds = [kind for _, kind, _ in columns]
        for c, (header, _kind, width) in enumerate(columns):
            self.ws.set_column(c, c, width, book.fmt.get(_kind))
            self.ws.write_string(0, c, header, book.fmt["header"])
        self.ws.freeze_panes(1, 0)
        self.row = 0

    def add(self, values: Sequence[Any]) -> None:
        self.row += 1
        for c, (kind, value) in enumerate(zip(self.kinds, values, strict=True)):
            self.book.cell(self.ws, self.row, c, kind, value)

    def finish(self) -> None:
        self.ws.autofilter(0, 0, max(self.row, 1), len(self.kinds) - 1)


class _Book:
    def __init__(self, path: Path) -> None:
        self.wb = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "remove_timezone": True,
            },
        )
        add = self.wb.add_format
        self.fmt: dict[str, Format] = {
            "header": add({"bold": True, "bg_color": "#DCE6F4", "bottom": 1, "text_wrap": True}),
            "dt": add({"num_format": "yyyy-mm-dd hh:mm"}),
            "pct": add({"num_format": "0.0%"}),
            "float": add({"num_format": "0.000"}),
            "wrap": add({"text_wrap": True, "valign": "top"}),
        }

    def cell(self, ws: Worksheet, r: int, c: int, kind: str, value: Any) -> None:
        if value is None or value == "":
            return
        if kind == "dt":
            dt = parse_ts(value)
            if dt is not None:
                ws.write_datetime(r, c, dt, self.fmt["dt"])
            return
        if isinstance(value, bool):
            ws.write_boolean(r, c, value)
        elif isinstance(value, int | float):
            if math.isfinite(value):
                ws.write_number(r, c, value, self.fmt.get(kind))
        else:
            ws.write_string(r, c, str(value), self.fmt.get(kind))


def _reasons(values: object) -> str:
    if not isinstance(values, list):
        return ""
    return clean("\n".join(clean(v, 300) for v in values), REASONS_CHARS, oneline=False)


def _members(sheet: _Sheet, data: Mapping[str, Any], layer_name: Callable[[str], str]) -> None:
    names = {str(g.get("id")): clean(g.get("name"), 80) for g in data.get("groups") or []}
    for m in data.get("members") or []:
        others = [n for n in m.get("names") or [] if n != m.get("name")]
        sheet.add(
            [
                clean(m.get("name"), NAME_CHARS),
                clean(m.get("platform"), 32),
                clean(m.get("platform_id"), NAME_CHARS),
                clean(", ".join(clean(n, 80) for n in others), 1000),
                bool(m.get("is_operator")),
                bool(m.get("is_bot")),
                ", ".join(lookup(names, g, f"#{g}") for g in m.get("groups") or []),
                layer_name(str(m.get("layer"))),
                _reasons(m.get("layer_reasons")),
                m.get("messages"),
                m.get("active_days"),
                m.get("first_ts"),
                m.get("last_ts"),
                m.get("joined_ts"),
                m.get("replies_received"),
                m.get("distinct_repliers"),
                m.get("mentions_received"),
                m.get("reactions_received"),
                m.get("invites"),
                m.get("invites_stayed"),
                m.get("pagerank"),
            ]
        )


def _evidence(items: Iterable[Mapping[str, Any]], names: Mapping[str, str]) -> str:
    parts = []
    for e in items:
        ts = parse_ts(e.get("ts"))
        when = ts.strftime("%Y-%m-%d %H:%M") if ts else ""
        group = lookup(names, e.get("group_id"), "")
        parts.append(f"[{when} · {group}] {clean(e.get('text'), TEXT_CHARS, oneline=False)}")
    return "\n\n".join(parts)


def write_xlsx(data: Mapping[str, Any], path: Path, lang: str = "en") -> Path:
    """Write the workbook for ``data`` (the analytics dict) to ``path`` in ``lang``."""
    lang = lang if lang in i18n.LANGS else "en"
    data = to_jsonable(data)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    def h(key: str) -> str:
        return i18n.t(f"report.xlsx.{key}", lang=lang)

    defs = (data.get("layers") or {}).get("definitions") or []
    layer_names = {str(d.get("key")): str(d.get(lang) or d.get("en") or d.get("key")) for d in defs}
    group_names = {str(g.get("id")): clean(g.get("name"), 80) for g in data.get("groups") or []}

    book = _Book(path)
    try:
        sheet = _Sheet(
            book,
            h("sheet.members"),
            [
                (h("col.name"), "text", 24),
                (h("col.platform"), "text", 10),
                (h("col.platform_id"), "text", 16),
                (h("col.other_names"), "text", 20),
                (h("col.operator"), "bool", 8),
                (h("col.bot"), "bool", 6),
                (h("col.groups"), "text", 24),
                (h("col.layer"), "text", 14),
                (h("col.reasons"), "wrap", 40),
                (h("col.messages"), "int", 10),
                (h("col.active_days"), "int", 10),
                (h("col.first_speak"), "dt", 17),
                (h("col.last_speak"), "dt", 17),
                (h("col.joined"), "dt", 17),
                (h("col.replies"), "int", 10),
                (h("col.reach"), "int", 10),
                (h("col.mentions"), "int", 10),
                (h("col.reactions"), "int", 10),
                (h("col.invites"), "int", 8),
                (h("col.invites_stayed"), "int", 10),
                (h("col.pagerank"), "float", 10),
            ],
        )
        _members(sheet, data, lambda k: layer_names.get(k, k))
        sheet.finish()

        sheet = _Sheet(
            book,
            h("sheet.kols"),
            [
                ("#", "int", 5),
                (h("col.name"), "text", 24),
                (h("col.score"), "float", 9),
                (h("col.reach"), "int", 9),
                (h("col.pagerank"), "float", 10),
                (h("col.messages"), "int", 10),
                (h("col.active_days"), "int", 10),
                (h("col.reasons"), "wrap", 50),
            ],
        )
        for i, k in enumerate(data.get("kols") or [], 1):
            sheet.add(
                [
                    i,
                    clean(k.get("name"), NAME_CHARS),
                    k.get("score"),
                    k.get("reach"),
                    k.get("pagerank"),
                    k.get("messages"),
                    k.get("active_days"),
                    _reasons(k.get("reasons")),
                ]
            )
        sheet.finish()

        sheet = _Sheet(
            book,
            h("sheet.buyers"),
            [
                ("#", "int", 5),
                (h("col.name"), "text", 24),
                (h("col.score"), "float", 9),
                (h("col.signals"), "wrap", 24),
                (h("col.evidence"), "wrap", 80),
            ],
        )
        for i, b in enumerate(data.get("buyers") or [], 1):
            signals = b.get("signals") or {}
            sheet.add(
                [
                    i,
                    clean(b.get("name"), NAME_CHARS),
                    b.get("score"),
                    "\n".join(
                        f"{vocab_label('signal', k, lang)} × {n}" for k, n in signals.items()
                    ),
                    _evidence((b.get("evidence") or [])[:5], group_names),
                ]
            )
        sheet.finish()

        layer_keys = [str(d.get("key")) for d in defs]
        by_group_layers = (data.get("layers") or {}).get("by_group") or {}
        sheet = _Sheet(
            book,
            h("sheet.groups"),
            [
                (h("col.group"), "text", 28),
                (h("col.platform"), "text", 10),
                (h("col.platform_id"), "text", 16),
                (h("col.stage"), "text", 10),
                (h("col.at_risk"), "bool", 8),
                (h("col.health_score"), "float", 9),
                (h("col.reasons"), "wrap", 40),
                (h("col.members"), "int", 9),
                (h("col.messages"), "int", 10),
                (h("col.active_30d"), "int", 10),
                (h("col.newcomers_30d"), "int", 10),
                (h("col.ad_share"), "pct", 9),
                (h("col.ugc_share"), "pct", 9),
                (h("col.first_message"), "dt", 17),
                (h("col.last_message"), "dt", 17),
                *[(layer_names.get(k, k), "int", 10) for k in layer_keys],
            ],
        )
        groups_by_id = {str(g.get("id")): g for g in data.get("groups") or []}
        health = list(data.get("health") or [])
        seen = {str(x.get("group_id")) for x in health}
        health += [
            {"group_id": g.get("id")}
            for g in data.get("groups") or []
            if str(g.get("id")) not in seen
        ]
        for x in health:
            g = groups_by_id.get(str(x.get("group_id"))) or {}
            layers = lookup(by_group_layers, x.get("group_id")) or {}
            stage = x.get("stage") or g.get("stage")
            sheet.add(
                [
                    clean(g.get("name") or x.get("name"), NAME_CHARS),
                    clean(g.get("platform"), 32),
                    clean(g.get("platform_id"), NAME_CHARS),
                    vocab_label("stage", stage, lang),
                    bool(x.get("at_risk")) if "at_risk" in x else None,
                    x.get("score"),
                    _reasons(x.get("reasons")),
                    g.get("members"),
                    g.get("messages"),
                    g.get("active_members_30d"),
                    g.get("newcomers_30d"),
                    g.get("ad_share"),
                    g.get("ugc_share"),
                    g.get("first_ts"),
                    g.get("last_ts"),
                    *[layers.get(k, 0) for k in layer_keys],
                ]
            )
        sheet.finish()

        sheet = _Sheet(
            book,
            h("sheet.retention"),
            [
                (h("col.week"), "text", 12),
                (h("col.joined_count"), "int", 10),
                *[(h(f"col.present_{d}"), "pct", 11) for d in ("d1", "d7", "d30")],
                *[(h(f"col.speaking_{d}"), "pct", 11) for d in ("d1", "d7", "d30")],
            ],
        )
        retention = data.get("retention") or {}
        rows = [*(retention.get("cohorts") or [])]
        if retention.get("overall"):
            rows.append({"week": h("overall"), "joined": None, **retention["overall"]})
        for c in rows:
            sheet.add(
                [
                    clean(c.get("week"), 20),
                    c.get("joined"),
                    *[(c.get("present") or {}).get(d) for d in ("d1", "d7", "d30")],
                    *[(c.get("speaking") or {}).get(d) for d in ("d1", "d7", "d30")],
                ]
            )
        sheet.finish()

        sheet = _Sheet(
            book,
            h("sheet.lurkers"),
            [
                (h("col.name"), "text", 24),
                (h("col.group"), "text", 28),
                (h("col.last_speak"), "dt", 17),
            ],
        )
        for row in data.get("lurkers") or []:
            sheet.add(
                [
                    clean(row.get("name"), NAME_CHARS),
                    lookup(group_names, row.get("group_id"), f"#{row.get('group_id')}"),
                    row.get("last_ts"),
                ]
            )
        sheet.finish()
    finally:
        book.wb.close()
    return path
