"""Tags by category, free tags and notes; a WeCom sync replaces only its own tags."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shequn.features import crm
from shequn.features.crm import tags
from shequn.store import Store, schema

A = ("wecom", "wmAAA")
B = ("wecom", "wmBBB")


def _rows(store: Store) -> list[tuple[str, str, str, str]]:
    t = schema.member_tags
    with store.engine.connect() as conn:
        q = select(t.c.member_id, t.c.category, t.c.tag, t.c.source).order_by(
            t.c.member_id, t.c.category, t.c.tag
        )
        return [tuple(r) for r in conn.execute(q)]  # type: ignore[misc]


def test_console_tags_survive_a_wecom_sync(store: Store) -> None:
    with store.engine.begin() as conn:
        assert crm.add_tag(conn, A, "city", "上海", by="mia", now=1.0)
        assert not crm.add_tag(conn, A, "city", " 上海 ", by="mia", now=1.0)  # same tag
        crm.add_tag(conn, A, "", "老客户", by="mia", now=1.0)
        # the sync writes its tags as WeCom has them (tag group name as the category)
        tags.replace_source_tags(conn, "wecom", A, [("客户等级", "VIP"), ("city", "上海")], now=2.0,
                                 source_ids={("客户等级", "VIP"): "et1"})  # fmt: skip
    assert _rows(store) == [
        ("wmAAA", "", "老客户", "console"),
        ("wmAAA", "city", "上海", "console"),  # kept as the operator's, not duplicated
        ("wmAAA", "客户等级", "VIP", "wecom"),
    ]
    with store.engine.begin() as conn:  # the next sync: VIP removed in WeCom, a new tag
        tags.replace_source_tags(conn, "wecom", A, [("客户等级", "潜客")], now=3.0)
        assert not crm.remove_tag(conn, A, "客户等级", "潜客")  # synced: not removable here
        assert crm.remove_tag(conn, A, "", "老客户")
    assert _rows(store) == [
        ("wmAAA", "city", "上海", "console"),
        ("wmAAA", "客户等级", "潜客", "wecom"),
    ]


def test_categories_bulk_tags_and_notes(sqlite_store: Store) -> None:
    # plain rules over one table: SQLite is enough (the sync test above runs on both)
    with sqlite_store.engine.begin() as conn:
        with pytest.raises(ValueError, match="category"):
            crm.add_tag(conn, A, "star_sign", "leo", by="mia", now=1.0)
        with pytest.raises(ValueError):
            crm.add_tag(conn, A, "work", "  ", by="mia", now=1.0)
        crm.add_tag(conn, A, "work", "设计师", by="mia", now=1.0)
        assert crm.bulk_tag(conn, [A, B], "work", "设计师", by="mia", now=2.0) == 1
        crm.add_note(conn, A, "first", by="mia", now=1.0)
        crm.add_note(conn, B, "elsewhere", by="mia", now=1.5)
        crm.add_note(conn, A, "second", by="rex", now=2.0)
        assert [n["text"] for n in tags.notes_of(conn, [A])] == ["second", "first"]
        assert [n["text"] for n in tags.notes_of(conn, [A, B])] == ["second", "elsewhere", "first"]
        assert {(t["member_id"], t["tag"]) for t in tags.tags_of(conn, [A, B])} == {
            ("wmAAA", "设计师"), ("wmBBB", "设计师"),
        }  # fmt: skip
        with pytest.raises(ValueError):
            crm.add_note(conn, A, " ", by="mia", now=1.0)
