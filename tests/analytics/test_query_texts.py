"""The parts that read message texts (ad flags, buyers' intent rows, the keyword
sample) give the same rows on Polars and DuckDB on real exports, and the same regex
matches on Polars, DuckDB and Spark on hand-made texts chosen to trip the three
regex engines (Rust, RE2, Java). On Spark the real exports' rows are covered by
``test_report_engines.py`` (the whole report, buyers, keywords and ad shares
included, equal on DuckDB and Spark): one Spark run of them is enough."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from handmade import Chat, at
from real_exports import SPARK_WARNINGS

from shequn.analytics import ads, buyers, keywords, query
from shequn.analytics import query_texts as qt
from shequn.analytics.frame import Frames, load
from shequn.analytics.settings import AnalyticsSettings
from shequn.store import Store

pytestmark = SPARK_WARNINGS
#: The whole sample (2005-2024) in the buyers' window; a small keyword sample so
#: that the per-group cap bites.
SETTINGS = AnalyticsSettings(buyer_window_days=10_000, keyword_sample_total=1000)

#: Texts that the three regex engines could read differently, with what each pattern
#: must say about them: (text, contact, question, signals).
TRICKY: list[tuple[str, bool, bool, set[str]]] = [
    ("买price多少", False, True, {"price"}),  # CJK next to Latin: still a word boundary
    ("priceless", False, False, set()),  # no boundary inside a word
    ("这个PRICE不错", False, False, {"price"}),  # case, CJK on both sides
    ("Ｐｒｉｃｅ?", False, True, set()),  # full-width letters are not "price"
    ("buy_now", False, False, set()),  # _ is a word character
    ("pre-order 2件", False, False, {"buy"}),
    ("How much for the shipping?", False, True, {"price", "delivery"}),
    ("whathow", False, False, set()),
    ("加VX：abc123", True, False, set()),
    ("vx :  wx888", True, False, set()),
    ("vx\u3000：id", True, False, set()),  # an ideographic space
    ("vx\u2003:id", False, False, set()),  # an em space is no space here (see SPACE)
    ("call 13812345678 now", True, False, set()),
    ("13812345678", True, False, set()),
    ("id 213812345678", False, False, set()),  # a mobile number inside a longer run
    ("１３８１２３４５６７８", True, False, set()),  # full-width digits are digits
    ("١٣٨١٢٣٤٥٦٧٨", False, False, set()),  # Arabic-Indic digits are not
    ("+4915123456789", True, False, set()),
    ("Join T.ME/shop 🎉🎉", True, False, set()),
    ("WeChat ID: abc", True, False, set()),
    ("wa.me/123 😀 下单", True, False, {"buy"}),
    ("😀团购吗？", False, True, {"buy"}),
    ("Demo\nday", False, False, {"trial"}),
    ("ſhipping", False, False, set()),  # ſ folds to s but is no ASCII word character
    ("WHATſAPP me", True, True, set()),  # Unicode case folding (ſ is s); "what" ends at ſ
    ("", False, False, set()),
]


def _texts_frame() -> pl.DataFrame:
    return pl.DataFrame({"seq": range(len(TRICKY)), "text": [t[0] for t in TRICKY]})


def _patterns() -> dict[str, str]:
    return {"contact": ads.CONTACT, "question": buyers.QUESTION, **buyers.lexicon()}


def _polars_matches(texts: pl.DataFrame) -> list[dict[str, Any]]:
    cols = [
        pl.col("text").str.contains(qt.pattern(p, "polars")).alias(n)
        for n, p in _patterns().items()
    ]
    return texts.select("seq", *cols).sort("seq").to_dicts()


def _engine_matches(con: Any, table: Any, engine: qt.RegexEngine) -> list[dict[str, Any]]:
    cols = {n: table.text.re_search(qt.pattern(p, engine)) for n, p in _patterns().items()}
    return con.to_pyarrow(table.select("seq", **cols).order_by("seq")).to_pylist()


def test_tricky_texts_match_as_intended_on_polars() -> None:
    rows = _polars_matches(_texts_frame())
    for (text, contact, question, signals), row in zip(TRICKY, rows, strict=True):
        got = {sig for sig in buyers.lexicon() if row[sig]}
        assert (row["contact"], row["question"], got) == (contact, question, signals), text


def test_tricky_texts_match_alike_on_duckdb() -> None:
    con = query.connect("duckdb")
    import ibis

    table = ibis.memtable(_texts_frame().to_arrow())
    assert _engine_matches(con, table, "duckdb") == _polars_matches(_texts_frame())


@pytest.mark.xdist_group("spark")
def test_tricky_texts_match_alike_on_spark(spark: Any, tmp_path: Path) -> None:
    con = query.connect("spark", spark=spark)
    _texts_frame().write_parquet(tmp_path / "texts.parquet")
    table = con.read_parquet(str(tmp_path / "texts.parquet"), table_name="tricky_texts")
    assert _engine_matches(con, table, "spark") == _polars_matches(_texts_frame())


def test_pattern_refuses_an_unknown_engine() -> None:
    with pytest.raises(ValueError, match="unknown engine"):
        qt.pattern(r"\bx", "bigquery")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def frames(real_frames: Frames) -> Frames:
    return real_frames


def _reference(f: Frames) -> dict[str, Any]:
    since = buyers.since(f, SETTINGS)
    msgs = (
        f.with_text()
        .filter(pl.col("ugc") & pl.col("member_id").is_not_null() & (pl.col("ts") > since))
        .select("seq", "member_id", "group_id", "ts", "text")
        .collect()
    )
    intent = buyers.intent_signals(msgs, SETTINGS)
    return {
        "ad": ads.ad_flags(f, SETTINGS).to_list(),
        "intent": intent.with_columns(pl.col("seq").cast(pl.Int64)).to_dicts(),
        "sample": keywords.keyword_sample(f, SETTINGS).to_dicts(),
    }


def _on(con: Any, t: dict[str, Any], f: Frames, engine: qt.RegexEngine) -> dict[str, Any]:
    m = t["messages"]
    flagged = qt.ad_messages(m, SETTINGS, engine)
    intent = qt.intent_rows(m, SETTINGS, buyers.since(f, SETTINGS), engine)
    sample = qt.keyword_sample(m, con, SETTINGS)
    return {
        "ad": con.to_pyarrow(flagged.order_by("seq").ad).to_pylist(),
        "intent": con.to_pyarrow(intent).to_pylist(),
        "sample": con.to_pyarrow(sample).to_pylist(),
    }


@pytest.fixture(scope="module")
def reference(frames: Frames) -> dict[str, Any]:
    ref = _reference(frames)
    # the sample exercises every part: no side is trivially empty
    assert 0 < sum(ref["ad"]) < len(ref["ad"]) and len(ref["intent"]) > 15
    assert {sig for r in ref["intent"] for sig in buyers.lexicon() if r[sig]} >= {"price", "buy"}
    assert any(r["question"] for r in ref["intent"])
    per_group = Counter(r["group_id"] for r in ref["sample"])
    cap = SETTINGS.keyword_sample_total // len(per_group)  # the cap bites in some groups
    assert len(per_group) >= 5 and max(per_group.values()) == cap > min(per_group.values())
    return ref


def test_real_exports_duckdb_is_polars(frames: Frames, reference: dict[str, Any]) -> None:
    t = query.in_memory_tables(query.query_frames(frames, texts=True))
    assert _on(query.connect("duckdb"), t, frames, "duckdb") == reference


def test_likely_buyers_rank_the_engine_rows_as_their_own(
    frames: Frames, reference: dict[str, Any]
) -> None:
    scored = pl.DataFrame(reference["intent"])
    assert buyers.likely_buyers(frames, SETTINGS, top=10, scored=scored) == buyers.likely_buyers(
        frames, SETTINGS, top=10
    )
    assert buyers.likely_buyers(frames, SETTINGS, top=10)


def test_a_message_hit_by_two_rules_is_flagged_once(store: Store, chat: Chat) -> None:
    for who in ("u1", "u2", "u3"):  # a contact handle, repeated by three members
        chat.say("g", who, at(0, 1), "加V 13812345678 领福利")
    chat.say("g", "u4", at(0, 2), "just talk")
    chat.write(store)
    f = load(store)
    t = query.in_memory_tables(query.query_frames(f, texts=True))
    got = query.connect("duckdb").to_pyarrow(
        qt.ad_messages(t["messages"], SETTINGS, "duckdb").order_by("seq").ad
    )
    assert got.to_pylist() == ads.ad_flags(f, SETTINGS).to_list() == [True] * 3 + [False]


def _pushed_into_scan(con: Any, expr: Any) -> bool:
    import ibis

    con.to_pyarrow(expr)  # registers the in-memory tables it reads
    plan = "".join(str(r[1]) for r in con.raw_sql(f"EXPLAIN {ibis.to_sql(expr)}").fetchall())
    return "Filters:" in plan


def test_texts_filters_on_an_arrow_scan_stay_out_of_pyarrow(tmp_path: Path) -> None:
    """On an in-memory table DuckDB evaluates the texts' filters itself (pyarrow would
    copy the texts it filters, on one thread); a Parquet table keeps its pushdown."""
    import ibis

    con = query.connect("duckdb")
    frame = pl.DataFrame(
        {"seq": [1, 2], "group_id": [1, 1], "member_id": [1, 2], "ts": [1.0, 2.0],
         "ugc": [True, True], "kind": ["text", "link"], "text": ["想买 price?", "ok"]}
    )  # fmt: skip
    m = ibis.memtable(frame.to_arrow())
    assert qt._arrow_scan(m, "duckdb") and not qt._arrow_scan(m, "spark")
    assert _pushed_into_scan(con, m.filter(m.ts > 1.5))  # what the helpers avoid
    assert not _pushed_into_scan(con, qt.intent_rows(m, SETTINGS, 1.5, "duckdb"))
    assert not _pushed_into_scan(con, qt.keyword_sample(m, con, SETTINGS))
    frame.write_parquet(tmp_path / "m.parquet")
    on_disk = con.read_parquet(str(tmp_path / "m.parquet"), table_name="m_parquet")
    assert not qt._arrow_scan(on_disk, "duckdb")
    assert _pushed_into_scan(con, qt.intent_rows(on_disk, SETTINGS, 1.5, "duckdb"))
    both = [con.to_pyarrow(qt.intent_rows(t, SETTINGS, 1.5, "duckdb")) for t in (m, on_disk)]
    assert both[0].to_pylist() == both[1].to_pylist() and both[0].num_rows == 0
    samples = [con.to_pyarrow(qt.keyword_sample(t, con, SETTINGS)) for t in (m, on_disk)]
    assert (
        samples[0].to_pylist()
        == samples[1].to_pylist()
        == [
            {"group_id": 1, "text": "想买 price?"},
            {"group_id": 1, "text": "ok"},
        ]
    )


def test_after_and_is_in_keep_the_rows_of_a_comparison() -> None:
    """``ts - since > 0`` keeps exactly the rows of ``ts > since`` (equal, adjacent and
    far doubles, infinities, NaN, NULL); ``list_contains`` those of ``IN``."""
    import math

    import ibis

    since = 1_680_307_194.0
    ts = [since, math.nextafter(since, math.inf), math.nextafter(since, -math.inf), 5e-324,
          -since, 1e300, -1e300, math.inf, -math.inf, math.nan, None]  # fmt: skip
    kinds = ["text", "link", "Text", "photo", "", None, "text", "link", None, "x", "texts"]
    t = ibis.memtable(pl.DataFrame({"ts": ts, "kind": kinds}, strict=False).to_arrow())
    con = query.connect("duckdb")
    got = con.to_pyarrow(
        t.select(
            a=qt._after(t.ts, since, True).fill_null(False),
            b=qt._after(t.ts, since, False).fill_null(False),
            c=qt._is_in(t.kind, ["text", "link"], True).fill_null(False),
            d=qt._is_in(t.kind, ["text", "link"], False).fill_null(False),
        )
    ).to_pylist()
    assert (
        [r["a"] for r in got]
        == [r["b"] for r in got]
        == [False, True, False, False, False, True, False, True, False, True, False]
    )  # fmt: skip  (DuckDB orders NaN above every number, in both forms)
    assert [r["c"] for r in got] == [r["d"] for r in got]
    assert sum(r["c"] for r in got) == 4


def test_keyword_sample_of_no_texts_is_empty_on_duckdb() -> None:
    import ibis

    frame = pl.DataFrame(
        {"seq": [1], "group_id": [1], "ts": [1.0], "ugc": [True], "kind": ["photo"], "text": ["x"]}
    )
    m = ibis.memtable(frame.to_arrow())
    con = query.connect("duckdb")
    assert con.to_pyarrow(qt.keyword_sample(m, con, SETTINGS)).num_rows == 0
