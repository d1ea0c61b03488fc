"""Reviews (复盘): before/after comparisons of activities, posts, topics and campaigns.

An item is listed, and reviewed, only when the user may view every one of its groups
(``Action.VIEW_GROUP``); comparable groups outside the user's reach count in the
figures but are shown without their names.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from shequn import i18n
from shequn.console.access import Action, User, can
from shequn.console.context import console, lang_of, render, require
from shequn.features.reviews import METRICS, Item, Review, all_items, find_item, review

router = APIRouter()

DAYS = (3, 7, 14, 28)


def _sees(user: User, item: Item) -> bool:
    return all(can(user, Action.VIEW_GROUP, g) for g in item.groups)


@router.get("/reviews")
def reviews_page(request: Request) -> Response:
    session = require(request)
    with console(request).store.engine.connect() as conn:
        items = [i for i in all_items(conn) if _sees(session.user, i)][:300]
    return render(request, "reviews.html", items=items)


def _review(request: Request, kind: str, item_id: int, days: int) -> Review:
    session = require(request)
    if days not in DAYS:
        raise HTTPException(400, "days must be one of 3, 7, 14, 28")
    c = console(request)
    with c.store.engine.connect() as conn:
        item = find_item(conn, kind, item_id)
        # an unknown item and one out of reach look the same: no probing
        if item is None or not _sees(session.user, item):
            raise HTTPException(404, "no such item")
        rv = review(conn, item, days=days, now=c.clock())
    for g in rv.controls.groups:
        if not can(session.user, Action.VIEW_GROUP, (g["platform"], g["platform_id"])):
            g["name"] = ""
            g["platform_id"] = ""
            g["id"] = 0
    return rv


def _chart_data(rv: Review, lang: str) -> str:
    def t(key: str) -> str:
        return i18n.t(key, lang=lang)

    return json.dumps(
        {
            "days": rv.days,
            "labels": {
                "treated": t("reviews.treated"), "controls": t("reviews.controls"),
                "before": t("reviews.before"), "after": t("reviews.after"),
                "messages": t("reviews.chart.daily"), "metrics": t("reviews.chart.metrics"),
            },
            "treated": rv.treated.daily,
            "controls": rv.controls.daily,
            "metrics": [
                {"name": t(f"reviews.metric.{k}"), "before": rv.treated.before.get(k),
                 "after": rv.treated.after.get(k)}
                for k in ("active", "messages", "newcomers")
            ],
        },
        ensure_ascii=False,
    )  # fmt: skip


@router.get("/reviews/{kind}/{item_id}")
def review_page(
    request: Request, kind: str, item_id: int, days: int = 7, format: str = ""
) -> Response:
    rv = _review(request, kind, item_id, days)
    if format == "json":
        return JSONResponse(
            rv.as_dict(),
            headers={"Content-Disposition": f'attachment; filename="review-{kind}-{item_id}.json"'},
        )
    lang = lang_of(request)
    if format == "html":
        html = render(
            request, "reviews_export.html", rv=rv, metrics=METRICS, fmt=_fmt,
        ).body  # fmt: skip
        return Response(
            bytes(html), media_type="text/html; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="review-{kind}-{item_id}.html"'},
        )  # fmt: skip
    return render(
        request, "reviews_item.html", rv=rv, metrics=METRICS, fmt=_fmt, days_options=DAYS,
        chart=_chart_data(rv, lang),
    )  # fmt: skip


def _fmt(metric: str, value: Any, signed: bool = False) -> str:
    """A figure for the page: retention in percent (points when signed), counts as is."""
    if value is None:
        return "—"
    v = float(value)
    if metric == "retention":
        return f"{v * 100:+.0f} pp" if signed else f"{v * 100:.0f}%"
    if signed:
        return f"{v:+.1f}"
    return f"{v:.0f}" if v == int(v) else f"{v:.1f}"
