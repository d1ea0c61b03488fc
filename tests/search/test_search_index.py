"""Archive search on real exports, on SQLite and PostgreSQL alike (the ``store`` fixture)."""

from __future__ import annotations

from pathlib import Path

import pytest
from console_helpers import AI, RUN, TG, group_id
from sqlalchemy import func, insert, select, update

from shequn.actions.imports import import_file
from shequn.features.search import Filters, catch_up, pending, repair, search
from shequn.features.search.index import LOOKBACK
from shequn.store import Store, schema
from shequn.store.schema.search import FTS_PREFIX


def _texts(store: Store, q: str, f: Filters | None = None, **kw: int) -> list[str]:
    with store.engine.connect() as conn:
        return [h.text for h in search(conn, q, f, **kw).hits]


@pytest.fixture
def indexed(seeded: Store, data_dir: Path) -> Store:
    import_file(seeded, data_dir / "formats" / "qq_native_export_sample.txt")
    assert catch_up(seeded, batch=20) == 85  # several committed batches
    return seeded


def test_chinese_words_inside_longer_runs_and_folding(indexed: Store) -> None:
    park = "明早六点世纪公园，10公里轻松跑，有人一起吗？"
    assert _texts(indexed, "公园") == [park]  # a word inside 世纪公园
    assert _texts(indexed, "世紀公園") == [park]  # traditional folds to simplified
    assert _texts(indexed, "公里 跑") == [park]  # every word must be there
    assert _texts(indexed, "公园 红包") == []
    rag = _texts(indexed, "RAG")
    assert len(rag) == 3 and "大家好，我在做 RAG 相关的产品" in rag and "RAG评测集.xlsx" in rag
    assert _texts(indexed, "ＲＡＧ") == rag  # full-width folds to half-width
    assert _texts(indexed, "红包") == ["谢谢东哥的红包🧧"]
    assert _texts(indexed, "test") == [".r test"]  # the QQ export
    en = _texts(indexed, "System breaks")
    assert en == ["ada perubahan dikit, the system breaks"]  # English, case folded
    assert _texts(indexed, "OOP golang") == ["golang bisa OOP", "Sulit oop pake golang"]
    # filters and paging on the same archive
    tg, ai, run = (group_id(indexed, k) for k in (TG, AI, RUN))
    with indexed.engine.connect() as conn:
        every = search(conn, "oop", per_page=3)
        assert every.total == 9 and every.pages == 3 and len(every.hits) == 3
        later = search(conn, "oop", page=3, per_page=3)
        assert [h.message_id for h in every.hits + later.hits] == sorted(
            {h.message_id for h in every.hits + later.hits}, reverse=True
        )
        assert search(conn, "oop", Filters(group_ids=[ai, run])).total == 0
        assert search(conn, "oop", Filters(group_ids=[tg])).total == 9
        assert search(conn, "oop", Filters(group_ids=[])).total == 0
        links = search(conn, "", Filters(group_ids=[ai], kinds=["link"]))
        assert [h.text[:9] for h in links.hits] == ["周六线下 meet", "LangChain"]
        first = search(conn, "oop").hits[-1]
        assert search(conn, "oop", Filters(until=first.ts)).total == 0
        assert search(conn, "oop", Filters(since=first.ts + 1)).total == 8
        by = search(conn, "", Filters(member_ids=[first.member_id]))  # type: ignore[list-item]
        assert by.total > 0 and all(h.member_id == first.member_id for h in by.hits)


def test_incremental_restart_safe_and_stale_text(indexed: Store) -> None:
    run = group_id(indexed, RUN)
    assert catch_up(indexed) == 0 and pending(indexed.engine.connect()) == 0
    m = schema.messages
    with indexed.engine.begin() as conn:  # the live bot's path: a plain insert
        new_id = conn.execute(
            insert(m).values(
                group_id=run,
                platform_id="new-1",
                ts=1_800_000_000.0,
                kind="text",
                text="周末去滴水湖骑行，<b>报名</b>从速",
            )
        ).inserted_primary_key[0]
    assert _texts(indexed, "滴水湖") == []  # not indexed yet
    reopened = Store(engine=indexed.engine, url=indexed.url)  # a restart reads the same state
    assert catch_up(reopened) == 1 and catch_up(reopened) == 0
    assert _texts(indexed, "骑行") == ["周末去滴水湖骑行，<b>报名</b>从速"]
    with indexed.engine.begin() as conn:  # a privacy erase blanks the text
        conn.execute(update(m).where(m.c.id == new_id).values(text=""))
    assert _texts(indexed, "骑行") == []  # gone at once, before any repair
    with indexed.engine.begin() as conn:  # an edit
        conn.execute(update(m).where(m.c.id == new_id).values(text="改成去崇明岛骑行了"))
    assert repair(indexed) == {"removed": 0, "reindexed": 1, "added": 1}
    assert _texts(indexed, "崇明岛") == ["改成去崇明岛骑行了"]
    assert _texts(indexed, "滴水湖") == []
    with indexed.engine.begin() as conn:
        n = conn.execute(select(func.count()).select_from(schema.search_docs)).scalar_one()
        total = conn.execute(select(func.count()).select_from(m)).scalar_one()
    assert n == total  # one row per message, none twice
    assert LOOKBACK >= 10_000
    # snippets: hostile text stays text
    evil = '<img src=x onerror="alert(1)"> 世纪公园见 <script>alert("x")</script>'
    with indexed.engine.begin() as conn:
        conn.execute(
            insert(schema.messages).values(
                group_id=run, platform_id="evil", ts=1_800_000_000.0, kind="text", text=evil
            )
        )
    catch_up(indexed)
    with indexed.engine.connect() as conn:
        hit = search(conn, "世紀公園").hits[0]
    html = str(hit.snippet)
    assert hit.text == evil
    assert "<img" not in html and "<script" not in html
    assert "&lt;script&gt;" in html and "<mark>世纪公园</mark>" in html


def test_schema_matches_migrations_apart_from_the_engine_index(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    def include(name: str | None, type_: str, parent: object) -> bool:
        return not (name or "").startswith(FTS_PREFIX)

    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_name": include})
        assert compare_metadata(ctx, schema.metadata) == []
