"""``analyse()`` against the contract in ``docs/report-json.md``, parsed from the doc itself.

The table's first column gives the top-level keys; the backticked names in the third
column (outside parentheses) are the fields every record (for lists) or the object
has, and a ``{...}`` after a name lists that value's own keys. ``{kind: n}``-style
braces (a placeholder before the colon) are maps with free keys. So adding a field to
the doc without the code, or renaming one in the code, fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from handmade import Chat, at

import shequn.analytics as analytics
from shequn.analytics import REPORT_KEYS, AnalyticsSettings, analyse
from shequn.analytics.settings import field_docs
from shequn.analytics.texts import TEXTS
from shequn.store import Store

DOC = Path(__file__).resolve().parents[2] / "docs" / "report-json.md"
PLACEHOLDERS = {"kind", "group_id", "signal", "key"}

Spec = dict[str, Any]  # field -> None | ("keys", Spec) | ("map", Spec | None)


def _tokens(text: str) -> list[str]:
    text = re.sub(r"\[[^\[\]]*\]", " ", re.sub(r"\[[^\[\]]*\]", " ", text))  # [..] values
    text = re.sub(r'"[^"]*"', " ", text)  # "YYYY-Www" examples
    return re.findall(r"[A-Za-z_][A-Za-z0-9_]*|[{}:,]", text)


def _parse_braces(tokens: list[str], i: int) -> tuple[Any, int]:
    """Parse ``{...}`` starting at tokens[i] == "{"; return (spec, index after "}")."""
    assert tokens[i] == "{"
    i += 1
    if i + 1 < len(tokens) and tokens[i] in PLACEHOLDERS and tokens[i + 1] == ":":
        i += 2
        inner: Any = None
        if tokens[i] == "{":
            inner, i = _parse_braces(tokens, i)
        while tokens[i] != "}":
            i += 1
        return ("map", inner), i + 1
    keys: Spec = {}
    last: str | None = None
    depth_skip = False
    while tokens[i] != "}":
        tok = tokens[i]
        if tok == "{" and last is not None:
            keys[last], i = _parse_braces(tokens, i)
            continue
        if tok == ":":
            depth_skip = True  # fixed key with a value description: skip to the comma
        elif tok == ",":
            depth_skip = False
        elif not depth_skip and tok not in ("{",):
            keys[tok] = None
            last = tok
        i += 1
    return ("keys", keys), i + 1


def _row_spec(contents: str) -> tuple[Spec, Any]:
    """Fields of one table row, and the spec of the row value itself (keywords)."""
    while re.search(r"\([^()]*\)", contents):
        contents = re.sub(r"\([^()]*\)", " ", contents)
    spec: Spec = {}
    whole: Any = None
    last: str | None = None
    for chunk in re.findall(r"`([^`]*)`", contents):
        tokens = _tokens(chunk)
        if not tokens:
            continue
        if tokens[0] == "{":
            value, _ = _parse_braces(tokens, 0)
            if last is None:
                whole = value
            else:
                spec[last] = value
            continue
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if tok == "{" and last is not None:
                spec[last], i = _parse_braces(tokens, i)
                continue
            if tok not in (",", ":", "}"):
                spec[tok] = None
                last = tok
            i += 1
    return spec, whole


def contract() -> list[tuple[str, str, Spec, Any]]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\|\s*`(\w+)`\s*\|\s*(\w+)\s*\|(.*)\|\s*$", line)
        if m:
            spec, whole = _row_spec(m.group(3))
            rows.append((m.group(1), m.group(2), spec, whole))
    return rows


def _check(value: Any, spec: Any, path: str) -> None:
    if spec is None:
        return
    kind, inner = spec
    items = value if isinstance(value, list) else [value]
    for item in items:
        assert isinstance(item, dict), f"{path} is not an object"
        if kind == "map":
            for k, v in item.items():
                assert isinstance(k, str), f"{path} key {k!r} is not a string"
                _check(v, inner, f"{path}.{k}")
        else:
            for key, sub in inner.items():
                assert key in item, f"{path} lacks {key!r}"
                _check(item[key], sub, f"{path}.{key}")


def test_the_doc_parses_into_every_section() -> None:
    rows = contract()
    assert tuple(k for k, *_ in rows) == REPORT_KEYS
    by = {k: (t, spec, whole) for k, t, spec, whole in rows}
    assert {"id", "layer_reasons", "pagerank", "joined_ts"} <= set(by["members"][1])
    assert by["retention"][1]["cohorts"] == (
        "keys",
        {
            "week": None,
            "joined": None,
            "present": ("keys", {"d1": None, "d7": None, "d30": None}),
            "speaking": ("keys", {"d1": None, "d7": None, "d30": None}),
        },
    )
    assert by["concentration"][1]["by_group"][0] == "map"
    assert by["keywords"][2] == ("map", None)
    assert by["health"][1]["trend"] == (
        "keys",
        {"active_members": None, "messages": None, "newcomers": None},
    )


def _rich(c: Chat) -> None:
    """Every list of the report non-empty: replies (KOLs), intent (buyers), joins
    (cohorts), a silent member (lurkers), an evidence message."""
    c.group("g", "G")
    c.join("g", "op1", at(0, 8))
    c.join("g", "quiet", at(0, 9), inviter="amy")
    first = c.say("g", "amy", at(0, 10), "welcome everyone")
    for who in ("bob", "cid", "dan"):
        c.say("g", who, at(0, 11), reply=first)
    c.say("g", "bob", at(1, 10), "这个多少钱？怎么买")
    c.react("g", first, "bob")
    c.say("g", "op1", at(2, 9), "今日分享：咖啡豆的烘焙")


def test_analyse_follows_the_contract(store: Store, chat: Chat) -> None:
    _rich(chat)
    chat.write(store)
    report = analyse(store, top=5, lang="zh")
    assert tuple(report) == REPORT_KEYS
    assert json.loads(json.dumps(report)) == report  # plain JSON data, nothing lost
    for key, typ, spec, whole in contract():
        value = report[key]
        assert isinstance(value, list if typ == "list" else dict), key
        if typ == "list":
            assert value, f"{key} is empty in the rich archive"
        _check(value, ("keys", spec) if spec else whole, key)
    for part in ("present", "speaking"):  # "overall: the same three-day shares"
        assert set(report["retention"]["overall"][part]) == {"d1", "d7", "d30"}
    evidence = report["buyers"][0]["evidence"][0]
    assert set(evidence) >= {"ts", "group_id", "text", "signals"}
    assert report["meta"]["settings"] == AnalyticsSettings().as_dict()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", report["meta"]["as_of"])


def test_empty_archive(store: Store) -> None:
    report = analyse(store)
    assert tuple(report) == REPORT_KEYS
    json.dumps(report)
    assert report["members"] == [] and report["messages"]["total"] == 0
    assert report["heatmap"]["peak"] is None
    assert report["retention"]["overall"]["present"]["d1"] is None
    assert sum(report["layers"]["counts"].values()) == 0


def test_naive_now_is_refused(store: Store) -> None:
    from datetime import datetime

    with pytest.raises(ValueError, match="timezone-aware"):
        analyse(store, now=datetime(2024, 1, 1))  # noqa: DTZ001


def test_every_setting_has_a_rationale() -> None:
    docs = field_docs()
    fields = AnalyticsSettings().as_dict()
    assert set(docs) == set(fields)
    assert all(len(doc) > 20 for doc in docs.values())


def test_every_sentence_in_both_languages() -> None:
    for key, entry in TEXTS.items():
        assert set(entry) == {"zh", "en"}, key
        assert set(re.findall(r"{(\w+)}", entry["zh"])) == set(
            re.findall(r"{(\w+)}", entry["en"])
        ), key


def test_public_api() -> None:
    assert set(analytics.__all__) == {
        "ENGINE_ENV",
        "REPORT_ENGINES",
        "ReportEngine",
        "REPORT_KEYS",
        "AnalyticsSettings",
        "Frames",
        "analyse",
        "load",
    }
