"""What the layers feature says, in Chinese and English; layer names are the analytics'."""

from __future__ import annotations

from typing import Any

__all__ = ["layer_name", "next_step", "say"]

_TEXT = {
    "zh": {
        "promoted": "🎉 恭喜 @{name} 成为本群的「{layer}」！",
        "level": "@{name} 你的等级：{layer}",
        "why": "依据：{reasons}",
        "kept": "规则目前给出「{computed}」；保级期到 {until} 为止。",
        "next": "升到「{layer}」还需要：{need}",
        "top": "你已在最高层，感谢你带动大家！",
        "stats": "📊 分层统计（近 {days} 个活跃日，共 {total} 人）",
        "row": "{layer}：{n} 人 — {action}",
        "sep": "；",
        # what is missing for the next layer
        "more_messages": "再发言 {n} 条",
        "more_days": "再有 {n} 天发言",
        "habit": "或再有 {n} 天发言（习惯）",
        "top_share": "发言量进入本群前 {pct}",
        "reach_top": "影响范围进入本群前 {pct}",
        "more_reach": "再有 {n} 位成员回复或@你",
        "spread": "邀请 {n} 位留下的新成员，或转发 {m} 条消息",
    },
    "en": {
        "promoted": "🎉 Congratulations @{name}: you are now a {layer} of this group!",
        "level": "@{name} your layer: {layer}",
        "why": "Because: {reasons}",
        "kept": "The rules now give {computed}; your layer is kept until {until}.",
        "next": "For {layer} you still need: {need}",
        "top": "You are in the top layer: thank you for moving the group!",
        "stats": "📊 Layers (last {days} active days, {total} members)",
        "row": "{layer}: {n} — {action}",
        "sep": "; ",
        "more_messages": "{n} more messages",
        "more_days": "speaking on {n} more days",
        "habit": "or speaking on {n} more days (a habit)",
        "top_share": "to be in the group's top {pct} by messages",
        "reach_top": "to be in the group's top {pct} by reach",
        "more_reach": "{n} more members replying to or mentioning you",
        "spread": "{n} invitees who stay, or {m} forwarded messages",
    },
}


def say(lang: str, key: str, **kw: object) -> str:
    return _TEXT["en" if lang == "en" else "zh"][key].format(**kw)


def layer_name(layer: str, lang: str) -> str:
    from shequn.analytics.layer_texts import NAMES

    return NAMES[layer][1 if lang == "en" else 0]


def next_step(row: Any, layer: str, lang: str) -> str | None:
    """What the member still lacks for the layer above ``layer`` (None at the top).

    Absolute floors are given as numbers; the rank part ("top 20%") depends on the
    others and is named, not counted.
    """
    from shequn.analytics.settings import AnalyticsSettings

    s = AnalyticsSettings()
    sep = say(lang, "sep")

    def pct(x: float) -> str:
        return f"{round(x * 100)}%"

    def more(key: str, need: int, have: int) -> list[str]:
        return [say(lang, key, n=need - have)] if have < need else []

    if layer == "opinion_leader":
        return None
    if layer == "bystander":
        target, need = (
            "participant",
            more("more_messages", s.participant_min_messages, row.messages),
        )
    elif layer == "participant":
        target = "active"
        need = [
            *more("more_messages", s.active_min_messages, row.messages),
            *more("more_days", s.active_min_days, row.active_days),
            say(lang, "top_share", pct=pct(s.active_top_share)),
        ]
        if row.active_days < s.active_habit_days:
            need.append(say(lang, "habit", n=s.active_habit_days - row.active_days))
    elif layer == "active":
        target = "spreader"
        need = [
            say(
                lang,
                "spread",
                n=max(0, s.spreader_min_invites - row.invites_stayed),
                m=max(0, s.spreader_min_forwards - row.forwards),
            )
        ]
    elif layer == "spreader":
        target = "co_opinion_leader"
        need = [
            *more("more_reach", s.co_leader_min_reach, row.reach),
            *more("more_days", s.co_leader_min_days, row.active_days),
            say(lang, "reach_top", pct=pct(s.co_leader_top_share)),
        ]
    else:
        target = "opinion_leader"
        need = [
            *more("more_reach", s.leader_min_reach, row.reach),
            *more("more_days", s.leader_min_days, row.active_days),
            say(lang, "reach_top", pct=pct(s.leader_top_share)),
        ]
    return say(lang, "next", layer=layer_name(target, lang), need=sep.join(need))
