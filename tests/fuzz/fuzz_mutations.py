"""Mutations of real seed files and payloads for the fuzz tests (hypothesis strategies)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

HOSTILE = [
    "",
    "\u202e\u202dadmin",  # RTL override
    "\u200b" * 50,
    "<script>alert(1)</script>",
    "\x00nul",
    "\ud7ff\ufffd\uffff",
    "𝕬𝖉𝖘 加微信",
    "9" * 400,
    "好" * 70_000,  # longer than the archive's text cut
]
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.sampled_from(HOSTILE)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=8,
)


def paths_of(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += paths_of(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:40]):  # enough reach, bounded cost
            out += paths_of(v, (*prefix, i))
    return out


def mutate_json(doc: Any, data: st.DataObject) -> Any:
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        paths = [p for p in paths_of(doc) if p]
        if not paths:
            return data.draw(JSON_VALUES)
        path = data.draw(st.sampled_from(paths), label="path")
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        action = data.draw(st.sampled_from(["replace", "drop", "stringify", "nest"]))
        if action == "drop":
            del parent[last]
        elif action == "stringify":
            parent[last] = json.dumps(parent[last])[:50]
        elif action == "nest":
            parent[last] = [parent[last]]
        else:
            parent[last] = data.draw(JSON_VALUES, label="value")
    return doc


def mutate_lines(text: str, data: st.DataObject) -> str:
    lines = text.splitlines()
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        if not lines:
            break
        i = data.draw(st.integers(0, len(lines) - 1), label="line")
        action = data.draw(st.sampled_from(["drop", "dup", "swap", "garble", "hostile", "cut"]))
        if action == "drop":
            del lines[i]
        elif action == "dup":
            lines.insert(i, lines[i])
        elif action == "swap":
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif action == "garble":
            lines[i] = data.draw(st.text(max_size=60), label="garbage")
        elif action == "hostile":
            lines[i] = lines[i][: len(lines[i]) // 2] + data.draw(st.sampled_from(HOSTILE))
        else:
            lines[i] = lines[i][: data.draw(st.integers(0, max(0, len(lines[i]) - 1)))]
    return "\n".join(lines)


def mutate_bytes(raw: bytes, data: st.DataObject) -> bytes:
    action = data.draw(st.sampled_from(["truncate", "flip", "insert", "utf16", "bom", "empty"]))
    if action == "truncate":
        return raw[: data.draw(st.integers(0, max(0, len(raw) - 1)), label="cut")]
    if action == "flip":
        buf = bytearray(raw)
        for _ in range(data.draw(st.integers(1, 8))):
            i = data.draw(st.integers(0, len(buf) - 1))
            buf[i] = data.draw(st.integers(0, 255))
        return bytes(buf)
    if action == "insert":
        i = data.draw(st.integers(0, len(raw)))
        return raw[:i] + data.draw(st.binary(min_size=1, max_size=40)) + raw[i:]
    if action == "utf16":
        return raw.decode("utf-8", "replace").encode("utf-16")
    if action == "bom":
        return b"\xef\xbb\xbf" + raw
    return b""
