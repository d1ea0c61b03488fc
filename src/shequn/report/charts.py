"""ECharts options for the report page, as plain JSON-able dicts (no JS functions).

Each option is keyed by the id of the ``<div>`` it is drawn into. Only numbers, dates
and cleaned, shortened names go in: the block is data, never code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shequn.report.text import clean

__all__ = ["MAX_TREND_GROUPS", "PALETTE", "lorenz_points", "options"]

PALETTE = ["#2f6fde", "#1aa179", "#f0a020", "#d9485f", "#7b5cd6", "#2bb3c0", "#8a8f98", "#c45ab3"]
MAX_TREND_GROUPS = 8
_BASE: dict[str, Any] = {
    "animation": False,
    "color": PALETTE,
    "textStyle": {"fontFamily": "inherit"},
}
_GRID = {"left": 8, "right": 16, "top": 36, "bottom": 8, "containLabel": True}


def _pct(v: object) -> float | None:
    return round(v * 100, 1) if isinstance(v, int | float) and not isinstance(v, bool) else None


def lorenz_points(members: list[Mapping[str, Any]], max_points: int = 101) -> list[list[float]]:
    """``[% of speakers, % of member messages]`` with the busiest speakers first.

    Operators and bots are left out, as in the report's own 80/20 figure.
    """
    counts = sorted(
        (
            int(m.get("messages") or 0)
            for m in members
            if not m.get("is_operator") and not m.get("is_bot") and (m.get("messages") or 0) > 0
        ),
        reverse=True,
    )
    total, n = sum(counts), len(counts)
    if not total:
        return []
    cum, running = [0], 0
    for c in counts:
        running += c
        cum.append(running)
    step = max(1, n // (max_points - 1))
    idx = sorted({*range(0, n + 1, step), n})
    return [[round(i / n * 100, 2), round(cum[i] / total * 100, 2)] for i in idx]


def _daily(data: Mapping[str, Any], label: Callable[..., str]) -> dict[str, Any] | None:
    daily = (data.get("messages") or {}).get("daily") or []
    if not daily:
        return None
    return {
        **_BASE,
        "tooltip": {"trigger": "axis"},
        "grid": {**_GRID, "top": 12, "bottom": 36},
        "xAxis": {"type": "category", "data": [str(d[0]) for d in daily]},
        "yAxis": {"type": "value", "minInterval": 1},
        "dataZoom": [{"type": "inside"}, {"type": "slider", "height": 18, "bottom": 6}],
        "series": [
            {
                "name": label("chart.messages"),
                "type": "line",
                "showSymbol": False,
                "areaStyle": {"opacity": 0.15},
                "data": [d[1] for d in daily],
            }
        ],
    }


def _layers(data: Mapping[str, Any], lang: str) -> dict[str, Any] | None:
    layers = data.get("layers") or {}
    defs = layers.get("definitions") or []
    if not defs:
        return None
    counts = layers.get("counts") or {}
    names = [clean(d.get(lang) or d.get("key"), 20) for d in defs]
    return {
        **_BASE,
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {**_GRID, "top": 8},
        "xAxis": {"type": "value", "minInterval": 1},
        "yAxis": {"type": "category", "inverse": True, "data": names},
        "series": [
            {
                "type": "bar",
                "data": [counts.get(d.get("key"), 0) for d in defs],
                "label": {"show": True, "position": "right"},
                "colorBy": "data",
            }
        ],
    }


def _trend(
    data: Mapping[str, Any],
    label: Callable[..., str],
    weeks: Callable[[int, Callable[..., str]], list[str]],
) -> dict[str, Any] | None:
    health = {str(h.get("group_id")): h for h in data.get("health") or []}
    series: list[dict[str, Any]] = []
    n = 0
    for g in (data.get("groups") or [])[:MAX_TREND_GROUPS]:
        trend = (health.get(str(g.get("id"))) or {}).get("trend") or {}
        values = trend.get("messages") or []
        if not values:
            continue
        n = max(n, len(values))
        series.append(
            {
                "name": clean(g.get("name"), 24) or f"#{g.get('id')}",
                "type": "line",
                "smooth": True,
                "showSymbol": False,
                "data": list(values),
            }
        )
    if not series:
        return None
    for s in series:  # right-align shorter series so the last point is "this week"
        s["data"] = [None] * (n - len(s["data"])) + s["data"]
    return {
        **_BASE,
        "tooltip": {"trigger": "axis", "confine": True},
        "legend": {"type": "scroll", "top": 0},
        "grid": _GRID,
        "xAxis": {"type": "category", "data": weeks(n, label)},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": series,
    }


def _retention(data: Mapping[str, Any], label: Callable[..., str]) -> dict[str, Any] | None:
    cohorts = (data.get("retention") or {}).get("cohorts") or []
    if not cohorts:
        return None
    series = []
    for kind, dashed in (("present", False), ("speaking", True)):
        for day, color in (("d1", PALETTE[0]), ("d7", PALETTE[1]), ("d30", PALETTE[2])):
            series.append(
                {
                    "name": label(f"chart.{kind}_{day}"),
                    "type": "line",
                    "connectNulls": False,
                    "data": [_pct((c.get(kind) or {}).get(day)) for c in cohorts],
                    "itemStyle": {"color": color},
                    "lineStyle": {"type": "dashed" if dashed else "solid", "color": color},
                }
            )
    return {
        **_BASE,
        "tooltip": {"trigger": "axis", "confine": True},
        "legend": {"type": "scroll", "top": 0},
        "grid": _GRID,
        "xAxis": {"type": "category", "data": [str(c.get("week")) for c in cohorts]},
        "yAxis": {"type": "value", "min": 0, "max": 100, "axisLabel": {"formatter": "{value}%"}},
        "series": series,
    }


def _heatmap(data: Mapping[str, Any], label: Callable[..., str]) -> dict[str, Any] | None:
    grid = (data.get("heatmap") or {}).get("weekday_hour") or []
    if not grid:
        return None
    cells = [[h, d, v] for d, row in enumerate(grid) for h, v in enumerate(row or [])]
    top = max((c[2] for c in cells if isinstance(c[2], int | float)), default=0) or 1
    return {
        **_BASE,
        "tooltip": {"position": "top", "confine": True},
        "grid": {"left": 8, "right": 8, "top": 8, "bottom": 56, "containLabel": True},
        "xAxis": {
            "type": "category",
            "data": [str(h) for h in range(24)],
            "splitArea": {"show": True},
        },
        "yAxis": {
            "type": "category",
            "data": label("weekdays").split(","),
            "inverse": True,
            "splitArea": {"show": True},
        },
        "visualMap": {
            "min": 0,
            "max": top,
            "calculable": True,
            "orient": "horizontal",
            "left": "center",
            "bottom": 0,
            "itemHeight": 120,
            "inRange": {"color": ["#f4f7fb", "#9cc3f5", "#2f6fde", "#173a7a"]},
        },
        "series": [{"name": label("chart.messages"), "type": "heatmap", "data": cells}],
    }


def _lorenz(data: Mapping[str, Any], label: Callable[..., str]) -> dict[str, Any] | None:
    points = lorenz_points(data.get("members") or [])
    if not points:
        return None
    return {
        **_BASE,
        "tooltip": {"trigger": "axis", "confine": True},
        "grid": {**_GRID, "bottom": 28},
        "xAxis": {
            "type": "value",
            "min": 0,
            "max": 100,
            "name": label("chart.share_speakers"),
            "nameLocation": "middle",
            "nameGap": 24,
            "axisLabel": {"formatter": "{value}%"},
        },
        "yAxis": {"type": "value", "min": 0, "max": 100, "axisLabel": {"formatter": "{value}%"}},
        "series": [
            {
                "name": label("chart.share_messages"),
                "type": "line",
                "showSymbol": False,
                "areaStyle": {"opacity": 0.12},
                "data": points,
                "markLine": {
                    "silent": True,
                    "symbol": "none",
                    "lineStyle": {"type": "dashed", "color": PALETTE[3]},
                    "data": [{"xAxis": 20}],
                },
            },
            {
                "name": label("chart.equal_share"),
                "type": "line",
                "showSymbol": False,
                "lineStyle": {"type": "dotted", "color": PALETTE[6]},
                "data": [[0, 0], [100, 100]],
            },
        ],
    }


def _ugc(data: Mapping[str, Any], label: Callable[..., str]) -> dict[str, Any] | None:
    ugc = data.get("ugc") or {}
    member, operator = ugc.get("member_messages") or 0, ugc.get("operator_messages") or 0
    if not member and not operator:
        return None
    return {
        **_BASE,
        "tooltip": {"trigger": "item", "confine": True},
        "legend": {"bottom": 0},
        "series": [
            {
                "type": "pie",
                "radius": ["40%", "68%"],
                "center": ["50%", "45%"],
                "label": {"formatter": "{d}%"},
                "data": [
                    {"name": label("ugc.member"), "value": member},
                    {"name": label("ugc.operator"), "value": operator},
                ],
            }
        ],
    }


def options(
    data: Mapping[str, Any],
    lang: str,
    label: Callable[..., str],
    weeks: Callable[[int, Callable[..., str]], list[str]],
) -> dict[str, Any]:
    """Chart element id -> ECharts option, leaving out charts that have no data."""
    built = {
        "chart-daily": _daily(data, label),
        "chart-layers": _layers(data, lang),
        "chart-trend": _trend(data, label, weeks),
        "chart-retention": _retention(data, label),
        "chart-heatmap": _heatmap(data, label),
        "chart-lorenz": _lorenz(data, label),
        "chart-ugc": _ugc(data, label),
    }
    return {k: v for k, v in built.items() if v is not None}
