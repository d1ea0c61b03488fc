"""FAQ banks kept in the database: edited in the console, shared by a group set or a group.

A group's ``faq.bank`` names either a file (as before) or a database bank as
``db:<name>``. :func:`matcher_for` answers both: for a database bank it reads the
bank's ``version`` (one indexed row, in the event's own transaction) and rebuilds the
matcher only when an edit moved it, so the bot sees an edit on the next question.
Imports reuse the file loaders of :mod:`.bank` (CSV, JSON, Excel); exports write CSV
or Excel with the same columns, so a bank goes out and comes back unchanged.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, delete, func, select, update

from shequn.features.faq import cache
from shequn.features.faq.bank import FaqBank, FaqBankError, FaqEntry, load_bank
from shequn.features.faq.matcher import FaqMatcher
from shequn.store import schema

__all__ = [
    "COLUMNS",
    "PREFIX",
    "BankRef",
    "bank_by_name",
    "bank_groups",
    "create_bank",
    "delete_bank",
    "delete_entry",
    "entries",
    "export_csv",
    "export_xlsx",
    "import_bytes",
    "list_banks",
    "matcher_for",
    "put_entry",
    "replace_entries",
]

log = logging.getLogger(__name__)

PREFIX = "db:"
COLUMNS = ("id", "question", "answer", "variants", "keywords", "image", "link")
GroupKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class BankRef:
    id: int
    name: str
    version: int


def create_bank(
    conn: Connection,
    name: str,
    *,
    now: float,
    group_set_id: int | None = None,
    group: GroupKey | None = None,
) -> int:
    """A new, empty bank shared by a group set or by one group (exactly one of them)."""
    name = name.strip()
    if not name or len(name) > 128:
        raise FaqBankError("a bank needs a name of at most 128 characters")
    if (group_set_id is None) == (group is None):
        raise FaqBankError("a bank belongs to a group set or to one group")
    if bank_by_name(conn, name) is not None:
        raise FaqBankError(f"a bank named {name!r} exists already")
    b = schema.faq_banks
    pid = conn.execute(
        b.insert().values(
            name=name, group_set_id=group_set_id,
            platform=group[0] if group else None, group_id=group[1] if group else None,
            version=1, created_at=now, updated_at=now,
        )
    ).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip
    return int(pid)


def bank_by_name(conn: Connection, name: str) -> Row[Any] | None:
    b = schema.faq_banks
    return conn.execute(select(b).where(b.c.name == name)).first()


def list_banks(conn: Connection) -> list[Row[Any]]:
    """Every bank with its entry count (``entries``), by name."""
    b, e = schema.faq_banks, schema.faq_bank_entries
    n = select(func.count()).select_from(e).where(e.c.bank_id == b.c.id).scalar_subquery()
    return list(conn.execute(select(b, n.label("entries")).order_by(b.c.name)).all())


def bank_groups(conn: Connection, bank: Row[Any]) -> list[GroupKey]:
    """The groups that share ``bank``: its group set's members now, or its one group."""
    if bank.group_set_id is None:
        return [(bank.platform, bank.group_id)]
    m = schema.console_group_set_members
    q = select(m.c.platform, m.c.group_id).where(m.c.group_set_id == bank.group_set_id)
    return sorted({(r.platform, r.group_id) for r in conn.execute(q)})


def entries(conn: Connection, bank_id: int) -> list[FaqEntry]:
    e = schema.faq_bank_entries
    rows = conn.execute(
        select(e).where(e.c.bank_id == bank_id).order_by(e.c.position, e.c.id)
    ).all()
    return [
        FaqEntry(
            id=r.entry_key,
            question=r.question,
            answer=r.answer,
            variants=tuple(json.loads(r.variants)),
            keywords=tuple(json.loads(r.keywords)),
            image=r.image,
            link=r.link,
        )
        for r in rows
    ]


def _touch(conn: Connection, bank_id: int, now: float) -> None:
    b = schema.faq_banks
    conn.execute(update(b).where(b.c.id == bank_id).values(version=b.c.version + 1, updated_at=now))


def _values(entry: FaqEntry) -> dict[str, Any]:
    return dict(
        question=entry.question, answer=entry.answer,
        variants=json.dumps(list(entry.variants), ensure_ascii=False),
        keywords=json.dumps(list(entry.keywords), ensure_ascii=False),
        image=entry.image, link=entry.link,
    )  # fmt: skip


def _check(entry: FaqEntry) -> None:
    if not entry.id.strip() or len(entry.id) > 255:
        raise FaqBankError("an entry needs an id of at most 255 characters")
    if not entry.question.strip():
        raise FaqBankError(f"{entry.id}: an entry needs a question")
    for url in (entry.image, entry.link):
        if url and not url.startswith(("http://", "https://")):
            raise FaqBankError(f"{entry.id}: not a web address: {url!r}")


def put_entry(
    conn: Connection, bank_id: int, entry: FaqEntry, *, now: float, old_key: str | None = None
) -> None:
    """Add ``entry``, or replace the one with ``old_key`` (default: the same id)."""
    _check(entry)
    e = schema.faq_bank_entries
    old = old_key if old_key is not None else entry.id
    if old != entry.id:
        clash = conn.execute(
            select(e.c.id).where(e.c.bank_id == bank_id, e.c.entry_key == entry.id)
        ).first()
        if clash is not None:
            raise FaqBankError(f"duplicate FAQ id {entry.id!r}")
    done = conn.execute(
        update(e)
        .where(e.c.bank_id == bank_id, e.c.entry_key == old)
        .values(entry_key=entry.id, **_values(entry))
    ).rowcount
    if not done:
        last = conn.execute(select(func.max(e.c.position)).where(e.c.bank_id == bank_id)).scalar()
        conn.execute(
            e.insert().values(
                bank_id=bank_id, entry_key=entry.id, position=(last or 0) + 1, **_values(entry)
            )
        )
    _touch(conn, bank_id, now)


def delete_entry(conn: Connection, bank_id: int, key: str, *, now: float) -> bool:
    e = schema.faq_bank_entries
    done = conn.execute(delete(e).where(e.c.bank_id == bank_id, e.c.entry_key == key)).rowcount
    if done:
        _touch(conn, bank_id, now)
    return bool(done)


def replace_entries(
    conn: Connection, bank_id: int, new: Iterable[FaqEntry], *, now: float, merge: bool = False
) -> int:
    """Put ``new`` into the bank: instead of every entry, or (``merge``) over same ids."""
    bank = FaqBank(new)  # refuses duplicate ids
    for entry in bank:
        _check(entry)
    e = schema.faq_bank_entries
    if not merge:
        conn.execute(delete(e).where(e.c.bank_id == bank_id))
    for entry in bank:
        put_entry(conn, bank_id, entry, now=now)
    _touch(conn, bank_id, now)
    return len(bank)


def import_bytes(
    conn: Connection,
    bank_id: int,
    filename: str,
    data: bytes,
    *,
    now: float,
    merge: bool = False,
) -> int:
    """Import an uploaded ``.csv`` / ``.json`` / ``.xlsx`` file with the file loaders."""
    suffix = Path(filename).suffix.lower()
    if suffix not in (".csv", ".json", ".xlsx"):
        raise FaqBankError(f"{filename}: unknown bank format (use .csv, .json or .xlsx)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            bank = load_bank(path)
        except FaqBankError as e:  # name the uploaded file, not the temporary one
            raise FaqBankError(str(e).replace(str(path), Path(filename).name)) from None
    return replace_entries(conn, bank_id, bank, now=now, merge=merge)


def _rows(items: list[FaqEntry]) -> list[list[str]]:
    return [
        [x.id, x.question, x.answer, "|".join(x.variants), "|".join(x.keywords), x.image, x.link]
        for x in items
    ]


def export_csv(conn: Connection, bank_id: int) -> str:
    """The bank as CSV with the columns the importer reads."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(_rows(entries(conn, bank_id)))
    return out.getvalue()


def export_xlsx(conn: Connection, bank_id: int) -> bytes:
    """The bank as an Excel workbook (first sheet, same columns as the CSV)."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False})
    sheet = book.add_worksheet("FAQ")
    for r, row in enumerate([list(COLUMNS), *_rows(entries(conn, bank_id))]):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    book.close()
    return out.getvalue()


def delete_bank(conn: Connection, bank_id: int) -> None:
    e, b = schema.faq_bank_entries, schema.faq_banks
    conn.execute(delete(e).where(e.c.bank_id == bank_id))
    conn.execute(delete(b).where(b.c.id == bank_id))


# -- the bot's side ---------------------------------------------------------------------

_cache: dict[str, tuple[int, int, FaqMatcher | None]] = {}  # name -> (id, version, matcher)
_missing: set[str] = set()  # names already logged as absent
_lock = threading.Lock()


def matcher_for(conn: Connection, bank: str) -> FaqMatcher | None:
    """The matcher of a group's ``faq.bank``: a file path, or ``db:<name>``."""
    if not bank.startswith(PREFIX):
        return cache.matcher_for(bank)
    name = bank[len(PREFIX) :]
    b = schema.faq_banks
    row = conn.execute(select(b.c.id, b.c.version).where(b.c.name == name)).first()
    if row is None:
        with _lock:
            if _cache.pop(name, None) is not None or name not in _missing:
                log.error("FAQ bank %r is not in the database", name)
                _missing.add(name)
        return None
    with _lock:
        hit = _cache.get(name)
        if hit is not None and hit[:2] == (row.id, row.version):
            return hit[2]
    found = entries(conn, row.id)
    matcher = FaqMatcher(FaqBank(found), threshold=0.0) if found else None
    with _lock:
        _missing.discard(name)
        _cache[name] = (row.id, row.version, matcher)
    return matcher


def clear() -> None:
    """Forget every cached database bank (tests)."""
    with _lock:
        _cache.clear()
        _missing.clear()
