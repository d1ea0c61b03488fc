"""One search API over both engines: filters, highlighted snippets, paging.

Rows come back newest first (time, then message id): a deterministic order that both
engines produce alike, where relevance scores (FTS5's bm25, PostgreSQL's ts_rank)
would differ. Snippets are built here, from the message's current text, and escaped
piece by piece: a hostile message stays text, only our ``<mark>`` is markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import Connection, Select, func, select, text

from shequn.features.search.tokens import fold_map, query_tokens
from shequn.store import schema

__all__ = ["Filters", "Hit", "Page", "search", "snippet"]

_m = schema.messages
_d = schema.search_docs
_g = schema.groups
_mb = schema.members

PER_PAGE = 20
MAX_PER_PAGE = 200


@dataclass(frozen=True, slots=True)
class Filters:
    """What to search within. ``group_ids`` None means every group; [] means none."""

    group_ids: Sequence[int] | None = None
    member_ids: Sequence[int] | None = None
    since: float | None = None  # inclusive, UTC epoch seconds
    until: float | None = None  # exclusive
    kinds: Sequence[str] | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    message_id: int
    group_id: int
    group_name: str
    platform: str
    platform_group_id: str
    member_id: int | None
    member_name: str
    ts: float
    kind: str
    text: str
    snippet: Markup

    def as_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "group_id": self.group_id,
            "group": self.group_name,
            "platform": self.platform,
            "member_id": self.member_id,
            "member": self.member_name,
            "ts": self.ts,
            "kind": self.kind,
            "text": self.text,
            "snippet": str(self.snippet),
        }


@dataclass(frozen=True, slots=True)
class Page:
    query: str
    tokens: list[str]
    hits: list[Hit]
    total: int
    page: int
    per_page: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _match(conn: Connection, tokens: list[str]) -> Any:
    if conn.dialect.name == "sqlite":
        q = " ".join('"' + t.replace('"', '""') + '"' for t in tokens)
        return text(
            "search_docs.message_id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :fts_q)"
        ).bindparams(fts_q=q)
    tsq = " & ".join("'" + t.replace("\\", "\\\\").replace("'", "''") + "'" for t in tokens)
    return text(
        "array_to_tsvector(string_to_array(search_docs.tokens, ' ')) @@ CAST(:tsq AS tsquery)"
    ).bindparams(tsq=tsq)


def _base(conn: Connection, tokens: list[str], f: Filters) -> Select[Any]:
    q = (
        select(_d.c.message_id)
        .select_from(_d.join(_m, _m.c.id == _d.c.message_id))
        # the indexed text is still the message's text (not edited or erased since)
        .where(_d.c.text_len == func.length(_m.c.text), _d.c.text_len > 0)
    )
    if tokens:
        q = q.where(_match(conn, tokens))
    if f.group_ids is not None:
        q = q.where(_d.c.group_id.in_(list(f.group_ids)))
    if f.member_ids is not None:
        q = q.where(_d.c.member_id.in_(list(f.member_ids)))
    if f.since is not None:
        q = q.where(_d.c.ts >= f.since)
    if f.until is not None:
        q = q.where(_d.c.ts < f.until)
    if f.kinds:
        q = q.where(_d.c.kind.in_(list(f.kinds)))
    return q


def search(
    conn: Connection,
    query: str,
    filters: Filters | None = None,
    *,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page:
    """Messages matching every token of ``query`` within ``filters``, newest first.

    An empty query (or one with no letters or digits) lists the filtered messages.
    """
    f = filters or Filters()
    tokens = query_tokens(query)
    page = max(1, page)
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    if f.group_ids is not None and not f.group_ids:
        return Page(query, tokens, [], 0, page, per_page)
    base = _base(conn, tokens, f)
    total = int(conn.execute(select(func.count()).select_from(base.subquery())).scalar_one())
    ids = base.order_by(_d.c.ts.desc(), _d.c.message_id.desc())
    ids = ids.limit(per_page).offset((page - 1) * per_page)
    found = [int(i) for i in conn.execute(ids).scalars()]
    hits: list[Hit] = []
    if found:
        rows = conn.execute(
            select(
                _m.c.id,
                _m.c.group_id,
                _m.c.member_id,
                _m.c.ts,
                _m.c.kind,
                _m.c.text,
                _g.c.name.label("group_name"),
                _g.c.platform,
                _g.c.platform_id.label("platform_group_id"),
                _mb.c.name.label("member_name"),
            )
            .select_from(
                _m.join(_g, _g.c.id == _m.c.group_id).outerjoin(_mb, _mb.c.id == _m.c.member_id)
            )
            .where(_m.c.id.in_(found))
        ).all()
        by_id = {r.id: r for r in rows}
        for mid in found:
            r = by_id[mid]
            hits.append(
                Hit(
                    message_id=r.id,
                    group_id=r.group_id,
                    group_name=r.group_name or "",
                    platform=r.platform,
                    platform_group_id=r.platform_group_id,
                    member_id=r.member_id,
                    member_name=r.member_name or "",
                    ts=float(r.ts),
                    kind=r.kind,
                    text=r.text,
                    snippet=snippet(r.text, tokens),
                )
            )
    return Page(query, tokens, hits, total, page, per_page)


def _spans(text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    folded, index = fold_map(text)
    found: list[tuple[int, int]] = []
    for term in sorted({t for t in terms if t}, key=len, reverse=True):
        start = folded.find(term)
        while start >= 0:
            end = start + len(term)
            found.append((index[start], index[end - 1] + 1))
            start = folded.find(term, end)
    found.sort()
    merged: list[tuple[int, int]] = []
    for s, e in found:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def snippet(text: str, terms: Sequence[str], width: int = 60) -> Markup:
    """An escaped excerpt of ``text`` around the first match, matches in ``<mark>``."""
    spans = _spans(text, terms)
    first = spans[0][0] if spans else 0
    start = max(0, first - width // 2)
    end = min(len(text), start + 2 * width)
    start = max(0, min(start, end - 2 * width))
    out = Markup("…") if start > 0 else Markup("")
    pos = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out += escape(text[pos:s]) + Markup("<mark>") + escape(text[s:e]) + Markup("</mark>")
        pos = e
    out += escape(text[pos:end])
    if end < len(text):
        out += Markup("…")
    return out
