"""What the bot says in the group when a strike is carried out (违规公示).

A warning is the notice itself. A mute, kick or ban is announced too (unless the
group's ``announce_penalties`` is off): the platform shows at most "X was muted", and
the group should see why, so the rules are seen to be applied (劣币驱逐良币 works the
other way round as well). A raid (many throwaway accounts posting ads at once) would
drown the group in the bot's own notices: :class:`NoticeBudget` lets at most
``notices_per_minute`` through per group; the strikes themselves are all carried out.
Where members may appeal, each notice says how: in the group,
or in private where the bot can read private messages (a muted member cannot write in
the group, a removed one is not in it any more).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from shequn.actions.appeals import say as appeal_say
from shequn.features.strikes import Step

__all__ = ["NoticeBudget", "duration", "strike_notice"]

_LABEL = {
    "zh": {"ad": "广告", "spam": "垃圾信息", "abuse": "辱骂", "sensitive": "敏感内容"},
    "en": {"ad": "ads", "spam": "spam", "abuse": "abuse", "sensitive": "sensitive content"},
}
_TEXT = {
    "zh": {
        "warn": "@{name} 请勿发布{label}，这是第 {n} 次违规，再犯将被禁言或移出。",
        "mute": "@{name} 因发布{label}（第 {n} 次违规）被禁言 {duration}。",
        "kick": "{name} 因发布{label}（第 {n} 次违规）已被移出本群。",
        "ban": "{name} 因发布{label}（第 {n} 次违规）已被移出本群并拉黑。",
        "join": "{text}{hint}",
    },
    "en": {
        "warn": "@{name} no {label} here please: violation {n}; next time you will be "
        "muted or removed.",
        "mute": "@{name} is muted for {duration}: {label}, violation {n}.",
        "kick": "{name} has been removed from the group: {label}, violation {n}.",
        "ban": "{name} has been removed from the group and banned: {label}, violation {n}.",
        "join": "{text} {hint}",
    },
}
_UNITS = {
    "zh": ((86400, "{} 天", "{} 天"), (3600, "{} 小时", "{} 小时"), (60, "{} 分钟", "{} 分钟")),
    "en": ((86400, "{} day", "{} days"), (3600, "{} hour", "{} hours"), (60, "{} minute", "{} minutes")),
}  # fmt: skip


def duration(seconds: int, lang: str) -> str:
    """``seconds`` in the largest whole unit: 3600 → "1 小时" / "1 hour"; 90 → "90 秒"."""
    lang = "en" if lang == "en" else "zh"
    for size, one, many in _UNITS[lang]:
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return (one if n == 1 else many).format(n)
    return f"{seconds} 秒" if lang == "zh" else f"{seconds} seconds"


def strike_notice(
    step: Step,
    *,
    lang: str,
    name: str,
    rule: str,
    n: int,
    appeals: bool,
    direct_messages: bool,
    announce: bool = True,
) -> str | None:
    """The group message for the ``n``-th strike carried out as ``step``; None: say nothing.

    A warning is always said (it is the step); the other steps only when ``announce``.
    ``direct_messages``: the platform lets members write to the bot in private.
    """
    if step.kind != "warn" and not announce:
        return None
    lang = "en" if lang == "en" else "zh"
    label = _LABEL[lang].get(rule, rule)
    text = _TEXT[lang][step.kind].format(
        name=name, label=label, n=n, duration=duration(step.seconds, lang)
    )
    if not appeals:
        return text
    if step.kind == "warn":
        hint = appeal_say(lang, "hint_direct" if direct_messages else "hint")
    elif direct_messages:  # muted or removed: not in the group, but in private
        hint = appeal_say(lang, "hint_private")
    elif step.kind == "mute":  # in the group once the mute is over
        hint = appeal_say(lang, "hint")
    else:
        return text  # removed, and no private channel: a person has to be asked
    return _TEXT[lang]["join"].format(text=text, hint=hint)


@dataclass
class NoticeBudget:
    """Strike notices per group in the last minute (in memory, per bot process)."""

    _said: dict[tuple[str, str], deque[float]] = field(default_factory=dict)

    def take(self, platform: str, group_id: str, now: float, per_minute: int) -> bool:
        """Whether one more notice may be said in the group now (0: no limit)."""
        if per_minute <= 0:
            return True
        said = self._said.setdefault((platform, group_id), deque())
        while said and said[0] <= now - 60.0:
            said.popleft()
        if len(said) >= per_minute:
            return False
        said.append(now)
        return True
