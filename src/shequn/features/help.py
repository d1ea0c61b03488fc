"""``帮助`` / ``菜单`` / ``/help``: what a member can ask the bot in this group.

Built from the group's settings, so it lists only what is switched on there, with the
group's own keywords (a group that renamed 签到 to 打卡 sees 打卡).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shequn.events import MessagePosted

if TYPE_CHECKING:
    from shequn.pipeline import Context

__all__ = ["KEYWORDS", "handle", "lines"]

KEYWORDS = ("帮助", "菜单", "/help", "/commands")

_TEXT = {
    "zh": {
        "title": "📖 本群机器人可以帮你：",
        "checkin": "{kw} 每日签到；{makeup} 补签；{me} 查看积分；{top} 积分榜",
        "redeem": "{kw} 用积分兑换奖品",
        "level": "{kw} 查看你的成员等级和升级条件",
        "events": "报名 / 取消报名 参加群里的活动；回复接龙消息即可接龙",
        "faq": "直接提问：常见问题会自动回答，答不上的会转给管理员",
        "appeal": "申诉 理由 对你的违规记录提出申诉，管理员处理后会回复你",
        "none": "本群目前没有开放给成员的指令。",
    },
    "en": {
        "title": "📖 What the bot can do for you here:",
        "checkin": "{kw} daily check-in; {makeup} make up a missed day; {me} your points; "
        "{top} the leaderboard",
        "redeem": "{kw} spend points on a reward",
        "level": "{kw} your member layer and what the next one takes",
        "events": "/signup and /cancel for the group's events; reply to a chain to join it",
        "faq": "Just ask: common questions are answered at once, the rest go to an admin",
        "appeal": "/appeal <reason> contest a strike; an admin decides and answers you",
        "none": "No member commands are switched on in this group.",
    },
}


def _first(words: tuple[str, ...], lang: str) -> str:
    """The keyword to show: a Chinese one in Chinese, a ``/command`` in English."""
    if lang == "en":
        return next((w for w in words if w.startswith("/")), words[0] if words else "")
    return next((w for w in words if not w.isascii()), words[0] if words else "")


def lines(settings: Any) -> list[str]:
    """The help text's lines for a group's settings."""
    lang = "en" if settings.language == "en" else "zh"
    say = _TEXT[lang]
    out = [say["title"]]
    c = settings.checkin
    if c.enabled:
        out.append(
            say["checkin"].format(
                kw=_first(c.keywords, lang), makeup=_first(c.makeup_keywords, lang),
                me=_first(c.me_keywords, lang), top=_first(c.top_keywords, lang),
            )
        )  # fmt: skip
        if c.rewards:
            out.append(say["redeem"].format(kw=_first(c.redeem_keywords, lang)))
    if settings.layers.enabled:
        out.append(say["level"].format(kw=_first(settings.layers.level_keywords, lang)))
    if settings.activities.enabled:
        out.append(say["events"])
    if settings.faq.enabled:
        out.append(say["faq"])
    if settings.appeals:
        out.append(say["appeal"])
    if len(out) == 1:
        return [say["none"]]
    return [out[0], *(f"• {line}" for line in out[1:])]


async def handle(ctx: Context) -> bool:
    ev = ctx.event
    if not isinstance(ev, MessagePosted) or ev.sender is None or ev.sender.is_bot or ev.edited:
        return False
    text = " ".join(ev.text.split()).casefold()
    if not text or text.split("@", 1)[0] not in KEYWORDS:
        return False
    ctx.plan(
        "send",
        params={"text": "\n".join(lines(ctx.settings))},
        member_id=ev.sender.platform_id,
        reason="help",
    )
    return True
