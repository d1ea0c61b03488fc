"""Read the first worksheet of an ``.xlsx`` file as rows of strings (stdlib only).

Operators keep FAQ banks in Excel. openpyxl is only a test dependency and polars needs
an extra engine for Excel, so the bank loader reads the Office Open XML itself: the
workbook's first sheet, shared and inline strings, numbers (``1.0`` → ``"1"``) and
booleans; formulas give their cached value. Dates come out as Excel serial numbers.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

__all__ = ["XlsxError", "read_rows"]

_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "p": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_COL = re.compile(r"([A-Z]+)(\d+)")


class XlsxError(ValueError):
    """Not a readable .xlsx workbook."""


def _col_index(ref: str) -> int:
    m = _COL.match(ref)
    if m is None:
        raise XlsxError(f"bad cell reference {ref!r}")
    n = 0
    for ch in m.group(1):
        n = n * 26 + ord(ch) - 64
    return n - 1


def _text(node: ET.Element) -> str:
    # Rich text keeps each run in its own <t>; phonetic hints (<rPh>) are not content.
    return "".join(t.text or "" for t in node.iter(f"{{{_NS['m']}}}t") if t is not None)


def _first_sheet(z: zipfile.ZipFile) -> str:
    book = ET.fromstring(z.read("xl/workbook.xml"))
    sheet = book.find("m:sheets/m:sheet", _NS)
    if sheet is None:
        raise XlsxError("the workbook has no sheet")
    rid = sheet.get(f"{{{_NS['r']}}}id")
    rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    for rel in rels.findall("p:Relationship", _NS):
        if rel.get("Id") == rid:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    raise XlsxError("the first sheet's part is missing")


def _number(raw: str) -> str:
    try:
        value = float(raw)
    except ValueError:
        return raw
    return str(int(value)) if value.is_integer() else raw


def read_rows(path: str | Path) -> list[list[str]]:
    """Every row of the first sheet, cells as strings ("" for empty), gaps kept."""
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            shared: list[str] = []
            if "xl/sharedStrings.xml" in names:
                root = ET.fromstring(z.read("xl/sharedStrings.xml"))
                shared = [_text(si) for si in root.findall("m:si", _NS)]
            sheet = ET.fromstring(z.read(_first_sheet(z)))
    except (zipfile.BadZipFile, KeyError, ET.ParseError) as e:
        raise XlsxError(f"not a readable .xlsx workbook ({e})") from None
    rows: list[list[str]] = []
    for row in sheet.iterfind("m:sheetData/m:row", _NS):
        cells: dict[int, str] = {}
        for i, c in enumerate(row.findall("m:c", _NS)):
            col = _col_index(c.get("r", "")) if c.get("r") else i
            kind = c.get("t", "n")
            v = c.find("m:v", _NS)
            if kind == "inlineStr":
                is_ = c.find("m:is", _NS)
                cells[col] = _text(is_) if is_ is not None else ""
            elif v is None or v.text is None:
                cells[col] = ""
            elif kind == "s":
                cells[col] = shared[int(v.text)]
            elif kind == "b":
                cells[col] = "TRUE" if v.text == "1" else "FALSE"
            elif kind in ("str", "e"):
                cells[col] = v.text
            else:
                cells[col] = _number(v.text)
        width = max(cells) + 1 if cells else 0
        line = [cells.get(j, "") for j in range(width)]
        r = row.get("r")
        # Row numbers may skip empty rows; keep the positions so errors cite the row.
        while r is not None and len(rows) < int(r) - 1:
            rows.append([])
        rows.append(line)
    return rows
