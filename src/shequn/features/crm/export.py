"""A segment's members as CSV (UTF-8 with BOM, so Excel reads Chinese) or Excel (.xlsx)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import UTC, datetime

from openpyxl import Workbook

from shequn.features.crm.people import Person
from shequn.i18n import t

__all__ = ["COLUMNS", "header", "rows", "to_csv", "to_xlsx"]

COLUMNS = (
    "platform", "member_id", "name", "accounts", "groups", "layers", "points", "messages",
    "last_spoke", "joined", "strikes", "tags", "city", "buyer_score", "orders", "order_total",
    "coupons",
)  # fmt: skip
_FORMULA = ("=", "+", "-", "@")  # a cell starting like this is run by spreadsheets


def header(lang: str) -> list[str]:
    return [t(f"crm.col.{c}", lang=lang) for c in COLUMNS]


def _time(ts: float | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


def _safe(value: object) -> object:
    """Member names are hostile input: never let one become a formula (CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def rows(people: Iterable[Person]) -> list[list[object]]:
    out: list[list[object]] = []
    for p in people:
        platform, member = p.key
        out.append([_safe(v) for v in (
            platform, member, p.name,
            " ".join(f"{a}:{b}" for a, b in p.accounts[1:]),
            " ".join(f"{a}:{b}" for a, b in sorted(p.groups)),
            " ".join(sorted(set(p.layers.values()))),
            p.points, p.messages, _time(p.last_spoke), _time(p.joined), p.strikes,
            " ".join(f"{c}:{tag}" if c else tag for c, tag in sorted(p.tags)),
            " ".join(p.cities), p.buyer_score, p.orders, p.order_cents / 100, p.coupons,
        )])  # fmt: skip
    return out


def to_csv(head: list[str], data: list[list[object]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(head)
    writer.writerows(data)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(head: list[str], data: list[list[object]], *, title: str = "members") -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=re.sub(r"[\[\]:*?/\\]", " ", title)[:31].strip() or "members")
    ws.append(head)
    for row in data:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
