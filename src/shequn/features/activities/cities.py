"""Members' stated cities (地域驱动): from name cards ``城市-昵称-行业`` or self-intros.

:func:`city_of` reads one name or text; :func:`suggest_city_groups` counts the cities of
a group's members and suggests a sub-group (同城群) for each with enough of them.
"""

from __future__ import annotations

import re
from collections import defaultdict

from sqlalchemy import Connection, select

from shequn.store import schema

__all__ = ["CITIES", "city_of", "suggest_city_groups"]

#: Cities recognised in free text (a name card's first part is taken as given).
_WORDS = (
    "北京 上海 天津 重庆 广州 深圳 杭州 南京 苏州 成都 武汉 西安 "
    "长沙 郑州 青岛 济南 厦门 福州 合肥 南昌 昆明 贵阳 南宁 海口 "
    "三亚 沈阳 大连 长春 哈尔滨 石家庄 太原 呼和浩特 兰州 西宁 "
    "银川 乌鲁木齐 拉萨 宁波 温州 无锡 常州 东莞 佛山 珠海 中山 "
    "惠州 泉州 烟台 潍坊 洛阳 徐州 扬州 嘉兴 绍兴 金华 台州 香港 "
    "澳门 台北 "
)
CITIES: tuple[str, ...] = tuple(_WORDS.split())
_ALIASES = {"帝都": "北京", "魔都": "上海", "羊城": "广州", "鹏城": "深圳", "蓉城": "成都"}
_CARD = re.compile(r"^\s*([^\-—_|｜·/\s]{2,8})\s*[\-—_|｜·/]\s*\S+\s*[\-—_|｜·/]\s*\S+")
_ALL = re.compile("|".join(sorted([*CITIES, *_ALIASES], key=len, reverse=True)))


def _clean(city: str) -> str:
    city = city.strip()
    if city.endswith("市") and len(city) > 2:
        city = city[:-1]
    return _ALIASES.get(city, city)


def city_of(text: str) -> str | None:
    """The city a name card (``上海-小王-设计``) or a self-introduction states, if any."""
    if m := _CARD.match(text):
        raw = m.group(1)
        head = _clean(raw)
        if head in CITIES or raw.endswith(("市", "县")):
            return head
    if m := _ALL.search(text):
        return _clean(m.group(0))
    return None


def suggest_city_groups(
    conn: Connection, platform: str, group: str, min_members: int
) -> list[tuple[str, list[str]]]:
    """Cities with at least ``min_members`` members of ``group``, largest first.

    A member's name card wins over their self-introduction (the card is what they
    maintain); members are those who posted or joined in the group.
    """
    g, m, mem, j = schema.groups, schema.messages, schema.members, schema.membership_events
    gid = conn.execute(
        select(g.c.id).where(g.c.platform == platform, g.c.platform_id == group)
    ).scalar()
    names: dict[str, str] = {}
    if gid is not None:
        for src in (m, j):
            q = (
                select(mem.c.platform_id, mem.c.name)
                .select_from(src.join(mem, mem.c.id == src.c.member_id))
                .where(src.c.group_id == gid)
                .distinct()
            )
            names.update({r.platform_id: r.name for r in conn.execute(q)})
    ib = schema.icebreakers
    intros = {
        r.member_id: r.intro or ""
        for r in conn.execute(
            select(ib.c.member_id, ib.c.intro).where(
                ib.c.platform == platform, ib.c.group_id == group
            )
        )
    }
    by_city: dict[str, list[str]] = defaultdict(list)
    for member in sorted(set(names) | set(intros)):
        name = names.get(member, member)
        city = city_of(name) or city_of(intros.get(member, ""))
        if city:
            by_city[city].append(name)
    out = [(c, ns) for c, ns in by_city.items() if len(ns) >= min_members]
    return sorted(out, key=lambda x: (-len(x[1]), x[0]))
