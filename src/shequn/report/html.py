"""The self-contained HTML report: one file, inline CSS, JS and Apache ECharts.

Everything from the archive is hostile input. Text reaches the page only through
Jinja2 autoescaping (after :func:`shequn.report.text.clean`); chart data reaches
JavaScript only through one ``<script type="application/json">`` block written by
:func:`json_script`, which escapes every character that could end the block.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from jinja2 import ChainableUndefined, Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from shequn import __version__, i18n
from shequn.report import charts
from shequn.report.data import to_jsonable
from shequn.report.text import clean, fmt_num, fmt_pct, fmt_ts, lookup, parse_ts, vocab_label

__all__ = ["ECHARTS_VERSION", "chart_data", "json_script", "render_html", "write_html"]

ECHARTS_VERSION = "5.6.0"
#: Long lists are cut for the page (the Excel workbook and JSON hold everything).
LAYER_ROWS = 50
LAYER_GROUP_ROWS = 50
GROUP_ROWS = 300
LURKER_ROWS = 200
KEYWORD_GROUPS = 60
KEYWORDS_PER_GROUP = 15
NAME_CHARS = 60
TEXT_CHARS = 280

_JSON_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def json_script(obj: Any) -> Markup:
    """``obj`` as JSON that is safe inside ``<script type="application/json">``.

    ``<``, ``>`` and ``&`` can only occur inside JSON strings, where ``\\u003c`` etc.
    mean the same, so ``</script>`` or ``<!--`` in a group name cannot end the block;
    U+2028/2029 are escaped for old JavaScript engines that treat them as newlines.
    """
    text = orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")
    return Markup(text.translate(_JSON_ESCAPES))


@cache
def _static(name: str) -> str:
    return resources.files("shequn.report").joinpath("static", name).read_text(encoding="utf-8")


def _inline_js(name: str) -> Markup:
    # A literal "</script" would end the inline block; "<\/script" means the same in JS.
    return Markup(_static(name).replace("</script", "<\\/script"))


@cache
def _env(strict: bool = False) -> Environment:
    # A key missing from the data renders as empty rather than breaking the report;
    # tests render with ``strict`` so that a typo in the template fails loudly.
    env = Environment(
        loader=PackageLoader("shequn.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined if strict else ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["name"] = lambda v: clean(v, NAME_CHARS) or "?"
    env.filters["text"] = lambda v, n=TEXT_CHARS: clean(v, n, oneline=False)
    env.filters["short"] = lambda v, n=200: clean(v, n)
    env.filters["ts"] = fmt_ts
    env.filters["day"] = lambda v: fmt_ts(v, date_only=True)
    env.filters["pct"] = fmt_pct
    env.filters["num"] = fmt_num
    return env


def _labeller(lang: str) -> Callable[..., str]:
    def label(key: str, /, **params: object) -> str:
        return i18n.t(f"html.{key}", lang=lang, **params)

    return label


def _sparkline(values: object, width: int = 120, height: int = 28) -> Markup:
    """A tiny inline SVG line of a weekly series (numbers only, so safe to mark up)."""
    items = values if isinstance(values, list) else []
    nums = [float(v) if isinstance(v, int | float) else 0.0 for v in items]
    if len(nums) < 2:
        return Markup("")
    top = max(nums) or 1.0
    step = (width - 4) / (len(nums) - 1)
    pts = " ".join(
        f"{2 + i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}"
        for i, v in enumerate(nums)
    )
    last_x, last_y = pts.rsplit(" ", 1)[-1].split(",")
    return Markup(
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' role="img" aria-hidden="true"><polyline fill="none" stroke="currentColor"'
        f' stroke-width="1.5" points="{pts}"/><circle cx="{last_x}" cy="{last_y}" r="2"'
        f' fill="currentColor"/></svg>'
    )


def _layer_view(data: Mapping[str, Any], lang: str) -> list[dict[str, Any]]:
    layers = data.get("layers") or {}
    counts = layers.get("counts") or {}
    actions = layers.get("actions") or {}
    by_layer: dict[str, list[Mapping[str, Any]]] = {}
    for m in data.get("members") or []:
        rows = by_layer.setdefault(str(m.get("layer")), [])
        if len(rows) < LAYER_ROWS:
            rows.append(m)
    view = []
    for d in layers.get("definitions") or []:
        key = str(d.get("key"))
        action = actions.get(key) or {}
        view.append(
            {
                "key": key,
                "name": d.get(lang) or d.get("en") or key,
                "other_name": d.get("zh" if lang == "en" else "en") or "",
                "rule": d.get(f"rule_{lang}") or d.get("rule_en") or "",
                "action": action.get(lang) or action.get("en") or "",
                "count": counts.get(key, 0),
                "members": by_layer.get(key, []),
            }
        )
    return view


def _weeks_labels(n: int, label: Callable[..., str]) -> list[str]:
    return [label("weeks_ago", n=n - 1 - i) if i < n - 1 else label("this_week") for i in range(n)]


def chart_data(data: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """What the page's JavaScript receives: one ECharts option per chart element id."""
    return {"charts": charts.options(data, lang, _labeller(lang), _weeks_labels)}


def _context(data: Mapping[str, Any], lang: str) -> dict[str, Any]:
    label = _labeller(lang)
    group_names = {str(g.get("id")): g.get("name") for g in data.get("groups") or []}
    groups_by_id = {str(g.get("id")): g for g in data.get("groups") or []}
    health = list(data.get("health") or [])
    lurkers = list(data.get("lurkers") or [])
    lurkers_by_group: dict[str, int] = {}
    for row in lurkers:
        gid = str(row.get("group_id"))
        lurkers_by_group[gid] = lurkers_by_group.get(gid, 0) + 1
    keywords = data.get("keywords") or {}
    keyword_groups = [
        (g, (lookup(keywords, g.get("id")) or [])[:KEYWORDS_PER_GROUP])
        for g in (data.get("groups") or [])
        if lookup(keywords, g.get("id"))
    ][:KEYWORD_GROUPS]
    meta = data.get("meta") or {}
    period = meta.get("period") or {}
    start, end = parse_ts(period.get("start")), parse_ts(period.get("end"))
    days = (end - start) // timedelta(days=1) + 1 if start and end else None
    return {
        "lang": lang,
        "html_lang": "zh-CN" if lang == "zh" else "en",
        "_": label,
        "vocab": lambda kind, key: vocab_label(kind, key, lang),
        "d": data,
        "meta": meta,
        "period": period,
        "period_days": days,
        "version": meta.get("version") or __version__,
        "echarts_version": ECHARTS_VERSION,
        "group_name": lambda gid: lookup(group_names, gid, f"#{gid}"),
        "group": lambda gid: lookup(groups_by_id, gid, {}),
        "health": health[:GROUP_ROWS],
        "health_total": len(health),
        "at_risk": sum(1 for h in health if h.get("at_risk")),
        "layers": _layer_view(data, lang),
        "lurkers": lurkers[:LURKER_ROWS],
        "lurkers_total": len(lurkers),
        "lurkers_by_group": sorted(lurkers_by_group.items(), key=lambda kv: -kv[1])[:30],
        "keyword_groups": keyword_groups,
        "keyword_groups_total": sum(1 for v in keywords.values() if v),
        "concentration_groups": [
            (g, lookup((data.get("concentration") or {}).get("by_group"), g.get("id")))
            for g in (data.get("groups") or [])[:GROUP_ROWS]
            if lookup((data.get("concentration") or {}).get("by_group"), g.get("id"))
        ],
        "sparkline": _sparkline,
        "lookup": lookup,
        "LAYER_ROWS": LAYER_ROWS,
        "LAYER_GROUP_ROWS": LAYER_GROUP_ROWS,
        "GROUP_ROWS": GROUP_ROWS,
        "LURKER_ROWS": LURKER_ROWS,
        "css": Markup(_static("report.css")),
        "app_js": _inline_js("report.js"),
        "echarts_js": _inline_js("echarts.min.js"),
        "chart_json": json_script(chart_data(data, lang)),
    }


def render_html(data: Mapping[str, Any], lang: str = "en", *, strict: bool = False) -> str:
    """The whole report page for ``data`` (the :mod:`shequn.analytics` dict)."""
    lang = lang if lang in i18n.LANGS else "en"
    plain = to_jsonable(data)
    return _env(strict).get_template("report.html.j2").render(_context(plain, lang))


def write_html(data: Mapping[str, Any], path: Path, lang: str = "en") -> Path:
    """Render and write the report page to ``path`` (parent folders created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(data, lang), encoding="utf-8")
    return path
