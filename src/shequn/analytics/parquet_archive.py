"""The archive as a folder of Parquet files, written a part at a time.

This is what an engine reads when the messages no longer fit the driver: the
report's per-message work runs on DuckDB or Spark over these files
(``analyse(..., parquet=folder)``), and the driver only ever holds member- and
group-sized tables. ``shequn archive export-parquet FOLDER`` writes it (nightly, to
shared storage for a cluster); it reads the archive in parts of ``size`` messages,
so the exporting process never holds the whole archive either.

Layout (``manifest.json`` names the rest)::

    manifest.json                 format, time zone, as-of, period, row counts
    groups.parquet  members.parquet  names.parquet  memberships.parquet
    messages/part-00000.parquet   the query layer's message columns, plus text
    mentions/part-00000.parquet
    reactions/part-00000.parquet

The folder appears whole or not at all: the parts are written into a sibling
``<folder>.partial-<pid>`` that is renamed into place at the end (an export killed
halfway leaves only that, which the next export removes).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from shequn import __version__
from shequn.analytics import fetch
from shequn.analytics.frame import Frames, derive, member_flags
from shequn.store import Store

__all__ = [
    "FORMAT",
    "PARTED",
    "Manifest",
    "export_archive",
    "frames",
    "read_manifest",
    "table_paths",
]

#: Version of the layout; a reader refuses a folder of another.
FORMAT = 1
#: The tables written in parts (a folder of files each).
PARTED = ("messages", "mentions", "reactions")
_SMALL = {
    "groups": fetch.GROUPS,
    "members": fetch.MEMBERS,
    "names": fetch.NAMES,
    "memberships": fetch.MEMBERSHIPS,
}
_PARTED = {"messages": fetch.MESSAGES, "mentions": fetch.MENTIONS, "reactions": fetch.REACTIONS}


@dataclass(frozen=True, slots=True)
class Manifest:
    """What ``manifest.json`` says about an exported archive."""

    tz: str
    newest: float | None  #: the newest event (message, membership change or rename)
    oldest: float | None
    rows: dict[str, int]
    parts: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": __version__,
            "tz": self.tz,
            "newest": self.newest,
            "oldest": self.oldest,
            "rows": self.rows,
            "parts": self.parts,
        }


def _extend(bounds: list[float | None], df: pl.DataFrame) -> None:
    if not df.height:
        return
    lo, hi = df["ts"].min(), df["ts"].max()
    assert isinstance(lo, float) and isinstance(hi, float)
    bounds[0] = lo if bounds[0] is None else min(bounds[0], lo)
    bounds[1] = hi if bounds[1] is None else max(bounds[1], hi)


def export_archive(
    store: Store,
    folder: Path,
    *,
    tz: str = "Asia/Shanghai",
    size: int = 200_000,
    replace: bool = False,
) -> Manifest:
    """Write the archive of ``store`` to ``folder`` (see the module docstring).

    ``size`` is the number of messages per part (the exporter's memory is a few
    parts); ``replace`` overwrites an existing export, else it is an error.
    """
    folder = Path(folder)
    if folder.exists() and not replace:
        raise FileExistsError(f"{folder} exists (pass replace=True / --replace to overwrite)")
    for stale in folder.parent.glob(f"{folder.name}.partial-*"):
        shutil.rmtree(stale, ignore_errors=True)  # an export killed halfway
    tmp = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
    tmp.mkdir(parents=True)
    try:
        manifest = _write(store, tmp, tz, size)
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _write(store: Store, tmp: Path, tz: str, size: int) -> Manifest:
    rows: dict[str, int] = {}
    parts: dict[str, int] = {}
    bounds: list[float | None] = [None, None]
    with store.engine.connect() as conn:
        how = fetch.transport_for(conn, store.dialect)
        small = {name: fetch.fetch(conn, q, how) for name, q in _SMALL.items()}
        small["members"] = member_flags(small["members"])
        for name, df in small.items():
            df.write_parquet(tmp / f"{name}.parquet")
            rows[name] = df.height
        _extend(bounds, small["memberships"])
        for name, q in _PARTED.items():
            (tmp / name).mkdir()
            rows[name] = parts[name] = 0
            chunks = fetch.fetch_chunks(conn, q, how, size=size)
            for part in chunks:
                if name == "messages":
                    part = derive(part, small["members"], tz)
                    _extend(bounds, part)
                part.write_parquet(tmp / name / f"part-{parts[name]:05d}.parquet")
                rows[name] += part.height
                parts[name] += 1
            if not parts[name]:  # one empty part: the engines read a glob of them
                empty = pl.DataFrame(schema=q.schema)
                if name == "messages":
                    empty = derive(empty, small["members"], tz)
                empty.write_parquet(tmp / name / "part-00000.parquet")
                parts[name] = 1
        renamed = conn.exec_driver_sql("SELECT MAX(ts) FROM renames").scalar()
        conn.rollback()
    newest = bounds[1] if renamed is None else max(bounds[1] or renamed, float(renamed))
    manifest = Manifest(tz=tz, newest=newest, oldest=bounds[0], rows=rows, parts=parts)
    (tmp / "manifest.json").write_text(json.dumps(manifest.as_dict(), indent=1), "utf-8")
    return manifest


def read_manifest(folder: Path) -> Manifest:
    """The manifest of an export; a clear error for a folder that is not one."""
    path = Path(folder) / "manifest.json"
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{folder} is not an exported archive (no manifest.json); "
            "write one with `shequn archive export-parquet`"
        ) from None
    if data.get("format") != FORMAT:
        raise ValueError(f"{path}: format {data.get('format')!r}, this shequn reads {FORMAT}")
    return Manifest(
        tz=data["tz"],
        newest=data["newest"],
        oldest=data["oldest"],
        rows=data["rows"],
        parts=data["parts"],
    )


def table_paths(folder: Path) -> dict[str, str]:
    """Each table's files as one path an engine reads: a glob of the parts for the
    parted tables (DuckDB and Spark both read a glob), the file for the others."""
    folder = Path(folder)
    out = {name: str(folder / f"{name}.parquet") for name in _SMALL}
    out.update({name: str(folder / name / "*.parquet") for name in PARTED})
    return out


def frames(folder: Path, *, now: float | None = None, tz: str | None = None) -> Frames:
    """The :class:`Frames` of an export for a report on an engine: the member- and
    group-sized tables read, the message-sized ones (messages, texts, mentions,
    reactions) left empty, with their columns — the engine reads those files
    itself (:func:`shequn.analytics.query.parquet_tables`).

    ``now`` cuts as :func:`shequn.analytics.frame.load` does (the period's ends are
    then found by a streaming scan of the message times); ``tz``, when given, must be
    the export's: local days and hours were fixed when it was written.
    """
    manifest = read_manifest(folder)
    if tz is not None and tz != manifest.tz:
        raise ValueError(
            f"{folder} was exported in the time zone {manifest.tz}, not {tz}: "
            f"export it again with --tz {tz}, or report in {manifest.tz}"
        )
    paths = table_paths(folder)
    small = {name: pl.read_parquet(paths[name]) for name in _SMALL}
    empty = {name: pl.read_parquet(paths[name], n_rows=0) for name in PARTED}
    memberships = small["memberships"]
    start, end = manifest.oldest, manifest.newest
    if now is None:
        now = manifest.newest if manifest.newest is not None else 0.0
    elif manifest.newest is None or now < manifest.newest:
        memberships = memberships.filter(pl.col("ts") <= now)
        span = (
            pl.concat(
                [
                    pl.scan_parquet(paths["messages"]).select("ts"),
                    memberships.lazy().select("ts"),
                ]
            )
            .filter(pl.col("ts") <= now)
            .select(pl.col("ts").min().alias("lo"), pl.col("ts").max().alias("hi"))
            .collect()
        )
        start, end = span["lo"][0], span["hi"][0]
    messages = empty["messages"]
    return Frames(
        groups=small["groups"],
        members=small["members"],
        names=small["names"],
        messages=messages.drop("text"),
        mentions=empty["mentions"],
        reactions=empty["reactions"],
        memberships=memberships,
        text=messages["text"],
        now=float(now),
        start=start,
        end=end,
        tz=manifest.tz,
    )
