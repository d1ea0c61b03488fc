"""The /search and /search/digest pages: reach by VIEW_ARCHIVE, escaped snippets, exports."""

from __future__ import annotations

from collections.abc import Callable

from console_helpers import AI, RUN, TG, add_user, group_id
from fastapi.testclient import TestClient
from sqlalchemy import insert

from shequn.store import Store, schema


def test_search_pages_by_permission(seeded: Store, app_client: Callable[..., TestClient]) -> None:
    add_user(seeded, "boss", "owner")
    add_user(seeded, "mia", "manager", "A")  # the Telegram group only
    add_user(seeded, "pat", "partner", "A", "B")  # may view groups, not read messages
    with seeded.engine.begin() as conn:
        conn.execute(
            insert(schema.messages).values(
                group_id=group_id(seeded, RUN),
                platform_id="x1",
                ts=1_700_200_000.0,
                kind="text",
                text="<script>alert(1)</script>世纪公园集合",
            )
        )
    boss = app_client("boss")
    r = boss.get("/search", params={"q": "世紀公園"})
    assert r.status_code == 200
    assert r.text.count("<mark>世纪公园</mark>") == 2
    assert "<script>alert(1)" not in r.text and "&lt;script&gt;alert(1)" in r.text
    api = boss.get("/api/search", params={"q": "公园", "group": group_id(seeded, RUN)}).json()
    assert api["total"] == 2 and api["pending"] == 0
    assert boss.get("/api/search", params={"q": "oop"}).json()["total"] == 9

    mia = app_client("mia")
    assert mia.get("/api/search", params={"q": "公园"}).json()["total"] == 0  # not her groups
    assert mia.get("/api/search", params={"q": "oop"}).json()["total"] == 9
    assert mia.get("/search", params={"q": "x", "group": group_id(seeded, AI)}).status_code == 404
    page = mia.get("/search").text
    assert "上海跑步俱乐部" not in page  # groups out of reach are not offered

    assert app_client("pat").get("/search", params={"q": "oop"}).status_code == 403
    assert app_client().get("/search", follow_redirects=False).status_code == 303

    tg = group_id(seeded, TG)
    d = mia.get("/search/digest", params={"group": tg, "week": "2022-W37"})
    assert d.status_code == 200 and d.text.count('class="digest-post"') >= 10
    md = mia.get("/search/digest", params={"group": tg, "week": "2022-W37", "format": "md"})
    assert md.headers["content-disposition"].endswith('.md"') and md.text.startswith("# Public")
    assert mia.get("/search/digest", params={"group": tg, "week": "bad"}).status_code == 400
    assert mia.get("/search/digest", params={"group": group_id(seeded, AI)}).status_code == 404
