"""The report dict as JSON: normalising what analytics returns, and writing it out.

Renderers work on the JSON form of the report (what ``--json`` writes), so that an
in-process dict with int group-id keys, numpy numbers or datetimes renders exactly like
a report read back from disk.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson

__all__ = ["dump_json", "to_jsonable", "write_json"]

_OPTS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_UTC_Z


def _default(obj: Any) -> Any:
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    if isinstance(obj, date | datetime):
        return obj.isoformat()
    item = getattr(obj, "item", None)  # numpy / polars scalars orjson does not know
    if callable(item):
        return item()
    tolist = getattr(obj, "tolist", None)
    if callable(tolist):
        return tolist()
    return str(obj)


def dump_json(data: Any, *, indent: bool = True) -> bytes:
    """UTF-8 JSON bytes, non-ASCII kept as is (readable Chinese), optionally indented."""
    opts = _OPTS | (orjson.OPT_INDENT_2 if indent else 0)
    return orjson.dumps(data, default=_default, option=opts)


def to_jsonable(data: Any) -> Any:
    """``data`` as it reads back from its JSON: string keys, plain numbers, ISO times."""
    return orjson.loads(dump_json(data, indent=False))


def write_json(data: Any, path: Path) -> Path:
    """Write the report data to ``path`` (parent folders created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(dump_json(data) + b"\n")
    return path
