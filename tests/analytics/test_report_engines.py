"""The whole report is the same whichever engine reduces the messages: Polars, DuckDB
(the Ibis query layer, in-process) and Spark (the same expressions, local mode), on
real exports (Telegram threads, Ubuntu IRC days, a QQ group, a Discord server)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import orjson
import pytest
from real_exports import SPARK_WARNINGS
from typer.testing import CliRunner

from shequn.analytics import ENGINE_ENV, ads, analyse, health, query
from shequn.analytics import query_more as qm
from shequn.analytics.frame import load
from shequn.analytics.settings import AnalyticsSettings
from shequn.cli import build_app
from shequn.store import Store

pytestmark = SPARK_WARNINGS


@pytest.fixture(scope="module")
def archive(real_archive: Store) -> Any:
    return real_archive, Path(real_archive.engine.url.database or "")


@pytest.fixture(scope="module")
def polars_report(archive: tuple[Store, Path]) -> dict[str, Any]:
    return analyse(archive[0], engine="polars")


@pytest.fixture(scope="module")
def duckdb_report(archive: tuple[Store, Path]) -> dict[str, Any]:
    return analyse(archive[0], engine="duckdb")


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two reports differ; floats within 1e-9 (relative) count as equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{path}: keys {sorted(set(a) ^ set(b))}"]
        return [d for k in a for d in differences(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} != {len(b)} items"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in differences(x, y, f"{path}[{i}]")
        ]
    if isinstance(a, float) and isinstance(b, float):
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) else [f"{path}: {a} != {b}"]
    return [] if a == b and type(a) is type(b) else [f"{path}: {a!r} != {b!r}"]


def _without_clock(report: dict[str, Any]) -> dict[str, Any]:
    return {**report, "meta": {k: v for k, v in report["meta"].items() if k != "generated_at"}}


def test_the_comparison_sees_a_changed_figure(polars_report: dict[str, Any]) -> None:
    changed = orjson.loads(orjson.dumps(polars_report))
    changed["members"][0]["reach"] += 1
    changed["kols"][0]["pagerank"] *= 1 + 1e-6
    assert len(differences(polars_report, changed)) == 2


def test_duckdb_report_is_the_polars_report(
    polars_report: dict[str, Any], duckdb_report: dict[str, Any]
) -> None:
    assert differences(_without_clock(polars_report), _without_clock(duckdb_report)) == []
    # the sample exercises every reduced table, so no part is trivially empty on both
    assert len(duckdb_report["members"]) > 300 and len(duckdb_report["kols"]) >= 5
    assert any(m["invites"] for m in duckdb_report["members"])
    assert any(m["reactions_received"] for m in duckdb_report["members"])
    assert any(m["layer"] and m["layer"] != "lurker" for m in duckdb_report["members"])
    assert duckdb_report["retention"]["overall"]["eligible"]["d30"] > 50
    assert duckdb_report["lurkers"] and len(duckdb_report["health"]) >= 5
    assert any(sum(h["trend"]["messages"]) for h in duckdb_report["health"])
    assert any(h["messages_30d"] and h["active_members_30d"] for h in duckdb_report["health"])
    assert any(0 < g["ad_share"] < 1 for g in duckdb_report["groups"])


@pytest.mark.xdist_group("spark")  # one worker, one Spark session for both
def test_spark_report_is_the_duckdb_report(
    archive: tuple[Store, Path], duckdb_report: dict[str, Any], spark: Any
) -> None:
    on_spark = analyse(archive[0], engine="spark", spark=spark)
    assert differences(_without_clock(duckdb_report), _without_clock(on_spark)) == []


def test_report_command_takes_the_engine(
    archive: tuple[Store, Path],
    polars_report: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import shequn.analytics

    monkeypatch.setenv(ENGINE_ENV, "polars")  # the option wins over the environment
    engines: list[object] = []
    real = shequn.analytics.analyse

    def spy(*args: Any, **kwargs: Any) -> Any:
        engines.append(kwargs.get("engine"))
        return real(*args, **kwargs)

    monkeypatch.setattr(shequn.analytics, "analyse", spy)
    runner = CliRunner()
    out = tmp_path / "report.json"
    db = str(archive[1])
    bad = runner.invoke(build_app(), ["report", "--engine", "bigquery", "--db", db])
    assert bad.exit_code != 0 and "duckdb" in bad.output
    result = runner.invoke(
        build_app(),
        [
            "report",
            "--engine",
            "duckdb",
            "--db",
            db,
            "-o",
            str(tmp_path / "r.html"),
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert engines == ["duckdb"]
    written = orjson.loads(out.read_bytes())
    assert written["messages"] == orjson.loads(orjson.dumps(polars_report["messages"]))
    assert len(written["members"]) == len(polars_report["members"])


def test_unknown_report_engine_is_refused(archive: tuple[Store, Path]) -> None:
    with pytest.raises(ValueError, match="known: polars, duckdb, spark"):
        analyse(archive[0], engine="bigquery")  # type: ignore[arg-type]


def test_group_activity_is_group_figures_row_for_row(archive: tuple[Store, Path]) -> None:
    whole = load(archive[0])
    # a moment with messages both in the 4 weeks before it and in the 4 weeks before those
    ts = whole.messages["ts"].sort().to_list()
    four = 28 * 86400
    end = next(t for t in ts if any(t - 2 * four < x <= t - four for x in ts))
    seen: list[dict[str, Any]] = []
    for f in (whole, load(archive[0], now=end)):
        ad = ads.ad_flags(f, AnalyticsSettings())
        t = query.in_memory_tables(query.query_frames(f, ad=ad))
        got = query.connect("duckdb").to_pyarrow(qm.group_activity(t, f.now)).to_pylist()
        expected = health.group_figures(f, ad).sort("group_id").select(got[0].keys()).to_dicts()
        assert got == expected
        seen += expected
    for column in health.FIGURES:  # every figure is non-zero somewhere
        assert any(r[column] for r in seen), column
