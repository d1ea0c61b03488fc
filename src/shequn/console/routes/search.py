"""Full-text search over the message archive, and weekly digests (汇总打包).

Only groups where the user may read message texts (``Action.VIEW_ARCHIVE``) are
searched or offered; a group outside that reach looks the same as no group.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import func, select

from shequn.console.access import Action, can
from shequn.console.context import console, render, require
from shequn.features.search import Filters, catch_up, pending, search
from shequn.features.search.digest import digest, to_html, to_markdown, week_bounds
from shequn.store import schema

router = APIRouter()

#: Messages indexed before a console search (the tick job or the CLI do the rest).
CATCH_UP_ON_SEARCH = 5000
KINDS = ("text", "link", "file", "image", "video", "forward", "system")


def _reach(request: Request) -> dict[int, Any]:
    """The groups the user may read, by internal id; 403 when there are none."""
    session = require(request)
    g = schema.groups
    with console(request).store.engine.connect() as conn:
        rows = conn.execute(select(g).order_by(g.c.name, g.c.id)).all()
    found = {
        int(r.id): r
        for r in rows
        if can(session.user, Action.VIEW_ARCHIVE, (r.platform, r.platform_id))
    }
    if not found:
        raise HTTPException(403, "not allowed")
    return found


def _day(value: str) -> float | None:
    try:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC).timestamp()
    except ValueError:
        return None


def _run(request: Request, reach: dict[int, Any], params: dict[str, str]) -> tuple[Any, int]:
    c = console(request)
    catch_up(c.store, CATCH_UP_ON_SEARCH)
    group = params.get("group", "")
    gids = list(reach)
    if group:
        if not group.isdigit() or int(group) not in reach:
            raise HTTPException(404, "no such group")
        gids = [int(group)]
    until = _day(params.get("until", ""))
    filters_member: list[int] | None = None
    member = params.get("member", "").strip()
    with c.store.engine.connect() as conn:
        if member:
            mb = schema.members
            filters_member = list(
                conn.execute(
                    select(mb.c.id)
                    .where(func.lower(mb.c.name).contains(member.lower(), autoescape=True))
                    .limit(500)
                ).scalars()
            )
        kind = params.get("kind", "")
        f = Filters(
            group_ids=gids,
            member_ids=filters_member,
            since=_day(params.get("since", "")),
            until=until + 86_400 if until is not None else None,
            kinds=[kind] if kind else None,
        )
        page_no = int(params["page"]) if params.get("page", "").isdigit() else 1
        page = search(conn, params.get("q", ""), f, page=page_no)
        left = pending(conn)
    return page, left


@router.get("/search")
def search_page(request: Request) -> Response:
    reach = _reach(request)
    params = dict(request.query_params)
    asked = any(params.get(k) for k in ("q", "member", "since", "until", "kind", "group"))
    page, left = _run(request, reach, params) if asked else (None, 0)
    return render(
        request, "search.html", groups=list(reach.values()), kinds=KINDS, params=params,
        result=page, pending=left,
    )  # fmt: skip


@router.get("/api/search")
def search_api(request: Request) -> Response:
    """JSON: ``q``, ``group``, ``member``, ``since``, ``until`` (YYYY-MM-DD), ``kind``, ``page``."""
    reach = _reach(request)
    page, left = _run(request, reach, dict(request.query_params))
    return JSONResponse(
        {
            "query": page.query,
            "tokens": page.tokens,
            "total": page.total,
            "page": page.page,
            "pages": page.pages,
            "pending": left,
            "hits": [h.as_dict() for h in page.hits],
        }
    )


def _last_week(now: float) -> str:
    d = datetime.fromtimestamp(now, UTC).date() - timedelta(days=7)
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


@router.get("/search/digest")
def digest_page(request: Request, group: str = "", week: str = "", format: str = "") -> Response:
    reach = _reach(request)
    c = console(request)
    week = week or _last_week(c.clock())
    try:
        week_bounds(week)
    except ValueError:
        raise HTTPException(400, "week must look like 2026-W45") from None
    result = None
    if group:
        if not group.isdigit() or int(group) not in reach:
            raise HTTPException(404, "no such group")
        with c.store.engine.connect() as conn:
            result = digest(conn, int(group), week)
        name = f"digest-{group}-{week}"
        if format == "md":
            return PlainTextResponse(
                to_markdown(result), media_type="text/markdown; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}.md"'},
            )  # fmt: skip
        if format == "html":
            return Response(
                to_html(result), media_type="text/html; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}.html"'},
            )  # fmt: skip
    return render(
        request, "search_digest.html", groups=list(reach.values()), group=group, week=week,
        digest=result,
    )  # fmt: skip
