"""What the six member layers are called, the rule each one states, and its playbook action.

The rules are written out with the numbers of the settings in use, so a report
always explains itself (``layers.definitions`` in the report). The actions are the
playbook's (§4.2): reward spreaders publicly, invite actives to be ambassadors,
care for participants, guide bystanders.
"""

from __future__ import annotations

from shequn.analytics.settings import AnalyticsSettings

__all__ = ["ACTIONS", "LAYERS", "NAMES", "layer_definitions"]

#: Layer keys in rank order (best first).
LAYERS = ("opinion_leader", "co_opinion_leader", "spreader", "active", "participant", "bystander")
NAMES = {
    "opinion_leader": ("意见领袖", "opinion leader"),
    "co_opinion_leader": ("联合意见领袖", "co-opinion leader"),
    "spreader": ("传播者", "spreader"),
    "active": ("活跃者", "active"),
    "participant": ("参与者", "participant"),
    "bystander": ("旁观者", "bystander"),
}
ACTIONS = {
    "opinion_leader": (
        "邀请共建：授予荣誉头衔，请其主持话题、参与内容共创与新品体验",
        "Invite them to co-create: an honorary title, hosting topics, first looks at products",
    ),
    "co_opinion_leader": (
        "重点维护关系：请其参与话题策划与答疑，培养为意见领袖",
        "Build the relationship: involve them in topic planning and answering; grow them into leaders",
    ),
    "spreader": (
        "公开奖励传播者并给予特权（邀请奖励、推荐排行榜）",
        "Reward spreaders publicly with privileges (referral rewards, leaderboard)",
    ),
    "active": (
        "邀请活跃者成为社群大使，参与管理与迎新",
        "Invite actives to be ambassadors: help moderate and welcome newcomers",
    ),
    "participant": (
        "关怀参与者：及时回复、点名感谢，降低参与门槛",
        "Care for participants: reply promptly, thank them by name, make joining in easy",
    ),
    "bystander": (
        "引导旁观者：欢迎语、破冰话题、简单的打卡或投票",
        "Guide bystanders: a welcome, ice-breakers, easy check-ins or polls",
    ),
}


def layer_definitions(s: AnalyticsSettings) -> list[dict[str, str]]:
    """``{key, zh, en, rule_zh, rule_en}`` per layer, in rank order, with the numbers used."""
    d = s.layer_window_days
    zw = f"在本群近 {d} 个活跃日（有消息的日子）内"
    ew = f"in the group's last {d} active days (days with messages)"

    def pct(x: float) -> str:
        return f"{round(x * 100)}%"

    rules = {
        "opinion_leader": (
            f"{zw}，按影响范围（回复或@他的不同成员数）排在本群发言者前 {pct(s.leader_top_share)}，"
            f"至少 {s.leader_min_reach} 人，且至少 {s.leader_min_days} 天有发言",
            f"{ew}: top {pct(s.leader_top_share)} of the group's speakers by reach (distinct "
            f"members replying to or mentioning them), reach ≥ {s.leader_min_reach}, spoke on "
            f"≥ {s.leader_min_days} days",
        ),
        "co_opinion_leader": (
            f"{zw}，影响范围排在前 {pct(s.co_leader_top_share)}，至少 {s.co_leader_min_reach} 人，"
            f"且至少 {s.co_leader_min_days} 天有发言",
            f"{ew}: top {pct(s.co_leader_top_share)} by reach, reach ≥ {s.co_leader_min_reach}, "
            f"spoke on ≥ {s.co_leader_min_days} days",
        ),
        "spreader": (
            f"{zw}，邀请的成员中至少 {s.spreader_min_invites} 位留下（{s.invite_stay_days} 天内未退群），"
            f"或转发至少 {s.spreader_min_forwards} 条消息",
            f"{ew}: invited ≥ {s.spreader_min_invites} members who stayed "
            f"{s.invite_stay_days} days, or forwarded ≥ {s.spreader_min_forwards} messages",
        ),
        "active": (
            f"{zw}，发言量排在前 {pct(s.active_top_share)} 且至少 {s.active_min_messages} 条、"
            f"{s.active_min_days} 天；或至少 {s.active_habit_days} 天有发言",
            f"{ew}: top {pct(s.active_top_share)} by messages with ≥ {s.active_min_messages} "
            f"messages on ≥ {s.active_min_days} days, or spoke on ≥ {s.active_habit_days} days",
        ),
        "participant": (
            f"{zw}，至少发言 {s.participant_min_messages} 条",
            f"{ew}: ≥ {s.participant_min_messages} messages",
        ),
        "bystander": (
            f"已知成员（入群或出现过），{zw}发言少于 {s.participant_min_messages} 条；机器人",
            f"known member (joined or seen) with fewer than {s.participant_min_messages} "
            f"messages {ew}; bots",
        ),
    }
    return [
        {
            "key": k,
            "zh": NAMES[k][0],
            "en": NAMES[k][1],
            "rule_zh": rules[k][0],
            "rule_en": rules[k][1],
        }
        for k in LAYERS
    ]
