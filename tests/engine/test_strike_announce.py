"""The group notice of each strike step: wording, durations, and where to appeal."""

from __future__ import annotations

import pytest

from shequn.features.strikes import Step
from shequn.features.strikes.announce import duration, strike_notice


@pytest.mark.parametrize(
    ("seconds", "zh", "en"),
    [
        (3600, "1 小时", "1 hour"),
        (7200, "2 小时", "2 hours"),
        (86400, "1 天", "1 day"),
        (600, "10 分钟", "10 minutes"),
        (90, "90 秒", "90 seconds"),  # not a whole minute: said exactly
        (5400, "90 分钟", "90 minutes"),
    ],
)
def test_a_duration_is_said_in_its_largest_whole_unit(seconds: int, zh: str, en: str) -> None:
    assert (duration(seconds, "zh"), duration(seconds, "en")) == (zh, en)


def _say(step: Step, **kw: object) -> str | None:
    args: dict[str, object] = dict(lang="zh", name="小王", rule="ad", n=2, appeals=True,
                                   direct_messages=False) | kw  # fmt: skip
    return strike_notice(step, **args)  # type: ignore[arg-type]


def test_where_a_member_is_told_to_appeal_depends_on_what_they_can_still_do() -> None:
    mute, kick = Step("mute", 600), Step("kick")
    # muted, no private channel: appeal in the group once the mute is over
    assert (
        _say(mute)
        == "@小王 因发布广告（第 2 次违规）被禁言 10 分钟。如有误判，可发送「申诉 理由」。"
    )
    # muted or removed where the bot reads private messages: appeal there
    assert _say(mute, direct_messages=True).endswith("可私聊我发送「申诉 理由」。")  # type: ignore[union-attr]
    assert _say(kick, direct_messages=True) == (
        "小王 因发布广告（第 2 次违规）已被移出本群。如有误判，可私聊我发送「申诉 理由」。"
    )
    # removed, and no private channel: no hint the member could not follow
    assert _say(kick) == "小王 因发布广告（第 2 次违规）已被移出本群。"
    # appeals off: no hint at all; penalties not announced: nothing, but a warning stays
    assert _say(mute, appeals=False) == "@小王 因发布广告（第 2 次违规）被禁言 10 分钟。"
    assert _say(mute, announce=False) is None
    assert _say(Step("warn"), announce=False, rule="abuse") == (
        "@小王 请勿发布辱骂，这是第 2 次违规，再犯将被禁言或移出。如有误判，可发送「申诉 理由」。"
    )
