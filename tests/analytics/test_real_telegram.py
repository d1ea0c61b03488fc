"""Invariants of the report on real Telegram exports (``chatlogs/telegram_exports``).

The eleven files are threads of one public supergroup (pseudonymised). Reply counts
are recomputed here straight from the JSON, independently of the importer and the
analytics, and must match the report member by member.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from shequn.actions.imports import import_file
from shequn.analytics import analyse
from shequn.store import Store


def _exports(data_dir: Path) -> list[Path]:
    files = sorted((data_dir / "chatlogs" / "telegram_exports").glob("*.json"))
    assert files, "no Telegram exports in the shared data"
    return files


def _replies_from_json(files: list[Path]) -> tuple[Counter[str], dict[str, set[str]]]:
    """Replies received and distinct repliers per ``from_id``, self-replies left out."""
    author: dict[int, str] = {}
    messages: list[dict[str, Any]] = []
    for path in files:
        for m in json.loads(path.read_text(encoding="utf-8"))["messages"]:
            if m.get("type") == "message":
                author[m["id"]] = m["from_id"]
                messages.append(m)
    received: Counter[str] = Counter()
    repliers: dict[str, set[str]] = defaultdict(set)
    for m in messages:
        target = author.get(m.get("reply_to_message_id"))  # type: ignore[arg-type]
        if target is not None and target != m["from_id"]:
            received[target] += 1
            repliers[target].add(m["from_id"])
    return received, repliers


def _share(x: Any) -> bool:
    return x is None or (isinstance(x, float | int) and 0 <= x <= 1)


def test_report_on_real_exports(store: Store, data_dir: Path) -> None:
    files = _exports(data_dir)
    for path in files:
        import_file(store, path)
    r = analyse(store, lang="en")
    json.dumps(r)
    members = r["members"]

    # layers: one per member, counts add up, per group too, every member explained
    counts = r["layers"]["counts"]
    assert sum(counts.values()) == len(members) > 30
    assert counts["opinion_leader"] >= 1
    assert all(
        m["layer_reasons"] and all(isinstance(s, str) for s in m["layer_reasons"]) for m in members
    )
    for g in r["groups"]:
        assert sum(r["layers"]["by_group"][str(g["id"])].values()) == g["members"]  # no bots here

    # replies and reach, recomputed from the raw JSON
    received, repliers = _replies_from_json(files)
    for m in members:
        pid = m["platform_id"]
        assert m["replies_received"] == received.get(pid, 0), pid
        assert m["distinct_repliers"] == len(repliers.get(pid, ())), pid
    by_id = {m["id"]: m for m in members}
    kols = r["kols"]
    assert kols
    for k in kols:
        pid = by_id[k["member_id"]]["platform_id"]
        assert k["reach"] == len(repliers[pid]) >= 2  # no resolved @mentions in these files
        assert k["messages"] == by_id[k["member_id"]]["messages"]
    assert [k["score"] for k in kols] == sorted((k["score"] for k in kols), reverse=True)
    most_answered = max(repliers, key=lambda pid: len(repliers[pid]))
    assert most_answered in {by_id[k["member_id"]]["platform_id"] for k in kols[:3]}

    # message totals agree with each other and with the member list
    msg = r["messages"]
    assert msg["total"] == msg["member"] + msg["operator"] + msg["system"]
    assert sum(m["messages"] for m in members) == msg["member"] + msg["operator"]
    assert sum(n for _, n in msg["daily"]) == sum(map(sum, r["heatmap"]["weekday_hour"]))
    assert [m["messages"] for m in members] == sorted(
        (m["messages"] for m in members), reverse=True
    )

    # shares are fractions
    shares = [g["ad_share"] for g in r["groups"]] + [g["ugc_share"] for g in r["groups"]]
    shares += [r["ugc"]["ugc_share"], r["concentration"]["top20_share"], r["concentration"]["gini"]]
    for c in [*r["retention"]["cohorts"], r["retention"]["overall"]]:
        shares += [*c["present"].values(), *c["speaking"].values()]
    for h in r["health"]:
        shares += h["trend"]["ad_share"]
        assert 0 <= h["score"] <= 100 and h["reasons"]
    assert all(_share(x) for x in shares)
    assert 1 <= r["concentration"]["absence_factor"] <= r["concentration"]["speakers_for_80pct"]
    assert r["keywords"][str(r["groups"][0]["id"])]


def test_report_is_stable_across_reimport(store: Store, data_dir: Path) -> None:
    files = _exports(data_dir)[:3]
    for path in files:
        import_file(store, path)
    first = analyse(store, lang="zh")
    import_file(store, files[0])  # an overlapping import adds nothing
    again = analyse(store, lang="zh")
    for key in ("members", "layers", "kols", "retention", "health", "concentration"):
        assert first[key] == again[key], key
