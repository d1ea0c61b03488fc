"""The sentences analytics write into reports (reasons, notes), in Chinese and English.

Kept beside the analytics rather than in the CLI catalogues because each sentence is
tied to one rule here; ``tests/analytics`` checks both languages have every key.
"""

from __future__ import annotations

from string import Formatter

import polars as pl

__all__ = ["TEXTS", "tr", "tr_expr"]

TEXTS: dict[str, dict[str, str]] = {
    # member layers
    "reach": {
        "zh": "近 {days} 个活跃日被 {n} 位成员回复或@（{total} 人中第 {rank}，前 {pct}%）",
        "en": "replied to or mentioned by {n} members in the last {days} active days "
        "(#{rank} of {total}, top {pct}%)",
    },
    "days": {"zh": "{n} 天有发言", "en": "spoke on {n} day(s)"},
    "replies": {"zh": "收到 {n} 条回复", "en": "received {n} replies"},
    "reactions": {"zh": "收到 {n} 个表情回应", "en": "received {n} reactions"},
    "invites": {
        "zh": "邀请的 {n} 位成员留了下来（共邀请 {total} 位）",
        "en": "invited {n} members who stayed ({total} invited)",
    },
    "forwards": {"zh": "转发 {n} 条外部内容到群里", "en": "forwarded {n} messages into the group"},
    "messages_top": {
        "zh": "近 {days} 个活跃日发言 {n} 条（{total} 人中第 {rank}，前 {pct}%）",
        "en": "{n} messages in the last {days} active days (#{rank} of {total}, top {pct}%)",
    },
    "habit": {
        "zh": "近 {days} 个活跃日中有 {n} 天发言",
        "en": "spoke on {n} of the last {days} active days",
    },
    "messages": {
        "zh": "近 {days} 个活跃日发言 {n} 条",
        "en": "{n} messages in the last {days} active days",
    },
    "silent": {
        "zh": "近 {days} 个活跃日没有发言",
        "en": "no messages in the last {days} active days",
    },
    "few": {
        "zh": "近 {days} 个活跃日仅发言 {n} 条（少于 {min} 条）",
        "en": "only {n} messages in the last {days} active days (fewer than {min})",
    },
    "bot": {"zh": "机器人账号，不参与分层", "en": "bot account, not ranked"},
    "unseen": {
        "zh": "仅被提及，未在任何群内加入或发言",
        "en": "only mentioned; never joined or spoke in a group",
    },
    "in_group": {"zh": "依据群「{name}」", "en": "based on group “{name}”"},
    # KOL
    "kol_pagerank": {
        "zh": "影响力 PageRank 第 {rank} 名（共 {n} 人）",
        "en": "PageRank #{rank} of {n}",
    },
    "kol_reach": {"zh": "被 {n} 位成员回复或@", "en": "replied to or mentioned by {n} members"},
    "kol_activity": {"zh": "{days} 天共发言 {n} 条", "en": "{n} messages on {days} days"},
    # buyers
    "buyer_signals": {"zh": "购买信号：{signals}", "en": "purchase signals: {signals}"},
    # retention
    "basis": {
        "zh": "入群时间：{events} 个成员-群关系取最早的入群事件，{first} 个无入群记录的取首条发言时间；"
        "留存 = 到第 N 天未退群/被移出，发言 = 入群后 N 天内（不含入群那一刻）再次发言；"
        "不含管理员与机器人；数据不足 N 天的队列记为空。",
        "en": "Join time: the earliest join event for {events} member-group pairs, the first "
        "message for {first} pairs without one. Present = not left or removed by day N; "
        "speaking = wrote a message within N days after joining (the joining moment "
        "itself excluded). Staff and bots are left out; cohorts younger than N days are null.",
    },
    # health
    "stage_new": {"zh": "建群不足 {days} 天", "en": "created less than {days} days ago"},
    "stage_dead": {
        "zh": "最近 30 天仅 {n} 条成员消息（少于 {min} 条）",
        "en": "only {n} member messages in the last 30 days (fewer than {min})",
    },
    "stage_flooded": {
        "zh": "最近 30 天广告类消息占 {share}%（≥ {min}%）",
        "en": "ads are {share}% of the last 30 days' messages (≥ {min}%)",
    },
    "stage_declining": {
        "zh": "最近 4 周{what}为前 4 周的 {ratio}%",
        "en": "{what} in the last 4 weeks are {ratio}% of the 4 weeks before",
    },
    "stage_growing_msgs": {
        "zh": "最近 4 周消息为前 4 周的 {ratio}%",
        "en": "messages in the last 4 weeks are {ratio}% of the 4 weeks before",
    },
    "stage_growing_new": {
        "zh": "最近 30 天新增 {n} 位成员（占 {share}%）",
        "en": "{n} newcomers in the last 30 days ({share}% of members)",
    },
    "stage_active": {
        "zh": "最近 30 天 {n} 位成员发言 {m} 条，趋势平稳",
        "en": "{n} members wrote {m} messages in the last 30 days; steady",
    },
    "drop_fast": {
        "zh": "最近一周消息 {n} 条，仅为此前 4 周周均的 {ratio}%",
        "en": "{n} messages last week, only {ratio}% of the previous 4 weeks' mean",
    },
    "what_messages": {"zh": "消息数", "en": "messages"},
    "what_active": {"zh": "活跃成员数", "en": "active members"},
}


def tr(key: str, lang: str, **params: object) -> str:
    """The sentence ``key`` in ``lang`` ("zh" or "en"), formatted with ``params``."""
    entry = TEXTS[key]
    text = entry.get(lang) or entry["en"]
    return text.format(**params) if params else text


def tr_expr(key: str, lang: str, **params: object) -> pl.Expr:
    """:func:`tr` for a whole column at once: ``params`` may be Polars expressions.

    The result is null where any expression is null, so it can sit in a
    ``pl.when(...)`` and be dropped from a list of reasons.
    """
    entry = TEXTS[key]
    text = entry.get(lang) or entry["en"]
    parts: list[pl.Expr] = []
    for literal, field, _spec, _conv in Formatter().parse(text):
        if literal:
            parts.append(pl.lit(literal))
        if field is not None:
            value = params[field]
            parts.append(
                value.cast(pl.String) if isinstance(value, pl.Expr) else pl.lit(str(value))
            )
    return pl.concat_str(parts) if parts else pl.lit("")
