"""The FAQ bank: entries (id, question, answer, variants, keywords) and their loaders.

CSV: header with ``id,question,answer`` and optional ``variants`` (extra phrasings
separated by ``|``), ``keywords`` (``|``-separated; ``re:`` marks a regex), ``image``
and ``link`` (URLs sent with the answer). Excel (``.xlsx``): the same columns on the
first sheet. JSON: a list of objects with the same fields (``variants``/``keywords`` as
lists), or ``{"entries": [...]}``. StackFAQ's ``{"root": {"qapair": [...]}}`` is read by
:func:`load_stackfaq` for the benchmark.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from shequn.features.faq.xlsx import XlsxError, read_rows

__all__ = ["FaqBank", "FaqBankError", "FaqEntry", "load_bank", "load_stackfaq"]


class FaqBankError(ValueError):
    """A bank file that cannot be read; the message names the file and line or item."""


class FaqEntry(msgspec.Struct, frozen=True):
    """One question with its answer, extra phrasings and exact-match keywords."""

    id: str
    question: str
    answer: str = ""
    variants: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    image: str = ""  # URL of a picture sent with the answer
    link: str = ""  # URL sent with the answer (a doc page, a form)

    @property
    def texts(self) -> tuple[str, ...]:
        """The question followed by its variants: every phrasing that is indexed."""
        return (self.question, *self.variants)


class FaqBank:
    """An ordered set of :class:`FaqEntry` with unique ids."""

    def __init__(self, entries: Iterable[FaqEntry]) -> None:
        self.entries: list[FaqEntry] = list(entries)
        self._by_id: dict[str, FaqEntry] = {}
        for e in self.entries:
            if e.id in self._by_id:
                raise FaqBankError(f"duplicate FAQ id {e.id!r}")
            self._by_id[e.id] = e

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[FaqEntry]:
        return iter(self.entries)

    def get(self, entry_id: str) -> FaqEntry:
        """The entry with this id (``KeyError`` if absent)."""
        return self._by_id[entry_id]

    @classmethod
    def from_file(cls, path: str | Path) -> FaqBank:
        """Load a ``.csv``, ``.json`` or ``.xlsx`` bank (see the module docstring)."""
        return load_bank(path)


def _split(value: Any, where: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return tuple(p.strip() for p in value.split("|") if p.strip())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(v.strip() for v in value if v.strip())
    raise FaqBankError(f"{where}: expected a list of strings, got {type(value).__name__}")


def _entry(row: dict[str, Any], where: str) -> FaqEntry:
    ident = row.get("id")
    question = row.get("question")
    if ident is None or str(ident).strip() == "":
        raise FaqBankError(f"{where}: missing 'id'")
    if not isinstance(question, str) or not question.strip():
        raise FaqBankError(f"{where}: missing 'question'")
    optional = {}
    for name in ("answer", "image", "link"):
        value = row.get(name) or ""
        if not isinstance(value, str):
            raise FaqBankError(f"{where}: {name!r} must be a string")
        optional[name] = value.strip()
    return FaqEntry(
        id=str(ident).strip(),
        question=question.strip(),
        variants=_split(row.get("variants"), where),
        keywords=_split(row.get("keywords"), where),
        **optional,
    )


def _header(path: Path, first: list[str]) -> list[str]:
    header = [h.strip().lower() for h in first]
    missing = {"id", "question", "answer"} - set(header)
    if missing:
        raise FaqBankError(f"{path}:1: header lacks {', '.join(sorted(missing))}")
    return header


def _load_csv(path: Path) -> FaqBank:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        try:
            header = _header(path, next(reader))
        except StopIteration:
            raise FaqBankError(f"{path}: empty file") from None
        entries = []
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise FaqBankError(
                    f"{where}: expected {len(header)} fields ({','.join(header)}), got {len(row)}"
                )
            entries.append(_entry(dict(zip(header, row, strict=True)), where))
    return _bank(entries, path)


def _load_xlsx(path: Path) -> FaqBank:
    try:
        rows = read_rows(path)
    except XlsxError as e:
        raise FaqBankError(f"{path}: {e}") from None
    if not rows or not any(c.strip() for c in rows[0]):
        raise FaqBankError(f"{path}: empty sheet")
    header = _header(path, rows[0])
    entries = []
    for n, row in enumerate(rows[1:], start=2):
        if all(not c.strip() for c in row):
            continue
        extra = [c for c in row[len(header) :] if c.strip()]
        if extra:
            raise FaqBankError(f"{path}:{n}: a value beyond the header's {len(header)} columns")
        cells = row + [""] * (len(header) - len(row))
        entries.append(_entry(dict(zip(header, cells, strict=False)), f"{path}:{n}"))
    return _bank(entries, path)


def _bank(entries: list[FaqEntry], path: Path) -> FaqBank:
    try:
        return FaqBank(entries)
    except FaqBankError as e:
        raise FaqBankError(f"{path}: {e}") from None


def _load_json(path: Path) -> FaqBank:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise FaqBankError(f"{path}:{e.lineno}: invalid JSON: {e.msg}") from None
    if isinstance(data, dict) and "root" in data:
        return load_stackfaq(path)[0]
    if isinstance(data, dict):
        data = data.get("entries")
    if not isinstance(data, list):
        raise FaqBankError(f"{path}: expected a list of entries")
    entries = []
    for i, item in enumerate(data):
        where = f"{path}: entry {i}"
        if not isinstance(item, dict):
            raise FaqBankError(f"{where}: expected an object")
        entries.append(_entry(item, where))
    return _bank(entries, path)


def load_bank(path: str | Path) -> FaqBank:
    """Load a bank from ``.csv``, ``.json`` or ``.xlsx`` (chosen by suffix)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".csv":
        return _load_csv(p)
    if suffix == ".json":
        return _load_json(p)
    if suffix == ".xlsx":
        return _load_xlsx(p)
    raise FaqBankError(f"{p}: unknown bank format (use .csv, .json or .xlsx)")


def load_stackfaq(path: str | Path) -> tuple[FaqBank, list[tuple[str, str]]]:
    """StackFAQ → (bank of the questions with answers, [(paraphrase query, expected id)])."""
    p = Path(path)
    data = json.loads(p.read_text(encoding="utf-8"))
    entries, queries = [], []
    for i, pair in enumerate(data["root"]["qapair"]):
        answer = " ".join(pair.get("answer") or [])
        ident = f"q{i:03d}"
        entries.append(FaqEntry(ident, pair["question"].strip(), answer))
        # A few paraphrase slots are null or a bare "*" placeholder: not queries.
        queries += [
            (q.strip(), ident)
            for q in pair.get("rephr") or []
            if isinstance(q, str) and re.search(r"\w", q)
        ]
    return FaqBank(entries), queries
