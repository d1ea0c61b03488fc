"""The ways rows travel from the archive (JSON on SQLite, COPY on PostgreSQL, plain
rows anywhere) must give the same frames, tricky texts and exact times included."""

from __future__ import annotations

import pytest
from handmade import Chat, at

from shequn.analytics import analyse, fetch
from shequn.analytics.frame import Frames, load
from shequn.events import MessageKind
from shequn.store import Store

TRICKY = [
    "",
    "quotes \" and 'single', commas, semi;colons",
    "line one\nline two\r\nthree\ttabbed",
    'back\\slash \\n not a newline, "",',
    "emoji 🎉👍 and 中文，全角标点。",
    "\u001f unit separator and \u007f delete",
    "NULL",
    "  padded  ",
]


def _build(c: Chat) -> None:
    c.group("g", 'Group "quoted", with comma')
    first = c.say("g", "amy", at(0, 10) + 0.123456, TRICKY[0])
    for i, text in enumerate(TRICKY[1:], 1):
        c.say("g", f"u{i}", at(0, 11, i) + i / 7, text, reply=first if i % 2 else None)
    c.say("g", "amy", at(1, 9), "see", kind=MessageKind.LINK, mentions=["u1", "u2"])
    c.react("g", first, "u3")
    c.join("g", "u9", at(0, 8) + 1 / 3, inviter="amy")
    c.leave("g", "u9", at(2, 8))


def _frames(store: Store, how: str, monkeypatch: pytest.MonkeyPatch) -> Frames:
    monkeypatch.setattr(fetch, "transport_for", lambda conn, dialect: how)
    return load(store)


def test_transports_give_the_same_frames(
    store: Store, chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    _build(chat)
    chat.write(store)
    fast = load(store)
    slow = _frames(store, "rows", monkeypatch)
    assert sorted(fast.text.to_list()) == sorted(slow.text.to_list())
    assert set(TRICKY) <= set(fast.text.to_list())
    for name in ("groups", "members", "names", "messages", "mentions", "reactions", "memberships"):
        a, b = getattr(fast, name), getattr(slow, name)
        assert a.columns == b.columns and a.height == b.height, name
        times = [c for c in a.columns if c.endswith("ts")]
        a_sorted = a.sort(a.columns, nulls_last=True)
        b_sorted = b.sort(b.columns, nulls_last=True)
        assert a_sorted.drop(times).equals(b_sorted.drop(times)), name
        for col in times:  # microseconds survive every transport
            diff = (a_sorted[col] - b_sorted[col]).abs().max()
            assert diff is None or diff < 1e-6, (name, col)
    assert fast.messages["reply_member_id"].drop_nulls().len() == 4


def test_transports_give_the_same_report(
    store: Store, chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    _build(chat)
    chat.write(store)
    fast = analyse(store)
    monkeypatch.setattr(fetch, "transport_for", lambda conn, dialect: "rows")
    slow = analyse(store)
    fast["meta"].pop("generated_at")
    slow["meta"].pop("generated_at")
    assert fast == slow
