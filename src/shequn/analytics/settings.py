"""Every threshold the analytics use, with the reason for its value.

The numbers are grounded in two public models of community participation:

* **Discourse trust levels**: TL2 ("member") needs 15 days visited, a few replies and
  one like received; TL3 ("regular") is judged over a rolling **100-day** window as
  ratios (visited 50% of days, replied to 10 topics, 20 likes received, ...). We
  borrow the rolling window and the idea of a *habit* (days, not volume).
* **The Orbit model**: a member's orbit (level 1 ambassadors ... level 4 observers)
  grows with *love* (their own activity) and *reach* (the audience they bring: the
  people who answer and mention them). Opinion leaders are high love × high reach.

Group sizes vary from 30 to 2,000, so most rules are a rank within the group
("fewer than 5% of the group's speakers rank above them") plus an absolute floor
that keeps a tiny group from crowning someone with two replies.

Each field's docstring is its rationale; :func:`field_docs` returns them so that the
report and the tests can show and check them.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import Any

__all__ = ["AnalyticsSettings", "field_docs"]


@dataclass(frozen=True, slots=True)
class AnalyticsSettings:
    """Thresholds for :func:`shequn.analytics.analyse`; echoed into ``meta.settings``."""

    tz: str = "Asia/Shanghai"
    """Time zone for days, hours and weeks (heatmap, active days, cohorts): the
    operators this product is built for live in China; pass the group's own zone
    for groups elsewhere."""

    # -- member layers (playbook §4) ----------------------------------------------
    layer_window_days: int = 100
    """Layers describe who a member is *now*: behaviour in the group's last 100
    *active days* (days on which the group had any message) counts. Discourse
    grants and revokes TL3 ("regular") over a rolling 100-day window on a forum
    read every day; chat exports have gaps of months between bursts, so we count
    days the group talked. On a living group this is the last 100 calendar days;
    on an export it still covers the recent conversation, not an empty stretch."""

    leader_top_share: float = 0.05
    """Opinion leaders are the top 5% of a group's speakers by reach: the few
    "ambassadors" of the Orbit model (orbit 1) that the rest of the group answers."""

    leader_min_reach: int = 5
    """...and at least 5 distinct members replied to or mentioned them, so that one
    exchange between two friends in a small group does not make a leader."""

    leader_min_days: int = 3
    """...and they spoke on at least 3 days: one viral thread is not leadership
    (Discourse also weighs days visited over volume)."""

    co_leader_top_share: float = 0.20
    """Co-opinion leaders: within the top 20% by reach (the 80/20 core of the group,
    Orbit level 2 "fans" who already draw answers)."""

    co_leader_min_reach: int = 3
    """...with at least 3 distinct members replying to or mentioning them."""

    co_leader_min_days: int = 2
    """...on at least 2 days, for the same reason as ``leader_min_days``."""

    spreader_min_invites: int = 2
    """Spreaders brought at least 2 members who stayed: one invitation is often a
    friend or colleague; two or more is a habit of bringing people (playbook §6)."""

    spreader_min_forwards: int = 3
    """...or forwarded at least 3 messages into the group: content carried between
    communities counts as spreading (playbook §6.2)."""

    invite_stay_days: int = 30
    """An invitee "stayed" unless they left or were removed within 30 days of
    joining; invitees too recent to tell count as stayed while still present."""

    active_top_share: float = 0.20
    """Active members: in the top 20% of the group's speakers by messages (the core
    that produces most of the content, playbook §4.3)..."""

    active_min_messages: int = 10
    """...with at least 10 messages in the window, so a quiet group's top fifth with
    two messages each is not called active..."""

    active_min_days: int = 3
    """...on at least 3 days, so a single burst of chat does not count."""

    active_habit_days: int = 10
    """Or, regardless of rank, spoke on 10 days within the window: a habit. Discourse
    TL2 asks for 15 days *visited*; speaking is rarer than reading, so 10."""

    participant_min_messages: int = 3
    """Participants wrote at least 3 messages in the window. One or two messages (a
    greeting, the self-introduction asked on entry) still leaves a bystander."""

    # -- KOL (playbook §4.4) --------------------------------------------------------
    pagerank_alpha: float = 0.85
    """Damping factor of PageRank on the reply/mention graph: the standard value,
    i.e. attention flows on about six hops before it restarts."""

    kol_weight_pagerank: float = 0.5
    """KOL score weight of the PageRank percentile: being answered by people who are
    themselves answered is the strongest sign of influence."""

    kol_weight_reach: float = 0.3
    """KOL score weight of the reach percentile (distinct members who reply to or
    mention them): the Orbit model's reach."""

    kol_weight_activity: float = 0.2
    """KOL score weight of activity (mean percentile of messages and active days):
    the Orbit model's love."""

    kol_min_reach: int = 2
    """A KOL was answered or mentioned by at least 2 distinct members."""

    kol_include_operators: bool = False
    """Staff are known already; KOL discovery looks for influence among members."""

    # -- likely buyers (playbook §5) ------------------------------------------------
    buyer_window_days: int = 90
    """Purchase intent is perishable: only the last 90 days of questions count."""

    buyer_question_weight: float = 2.0
    """A question ("多少钱？", "how much?") is asking to buy; a statement often only
    mentions the topic. Questions count double."""

    buyer_signal_weights: tuple[tuple[str, float], ...] = (
        ("price", 3.0),
        ("buy", 3.0),
        ("discount", 2.0),
        ("delivery", 2.0),
        ("trial", 2.0),
        ("link", 1.0),
    )
    """Weight per lexicon signal: price and buying speak directly of a purchase;
    discounts, delivery and trials are the next step of someone deciding; asking
    for a link is weakest (links are shared for many reasons)."""

    buyer_min_score: float = 3.0
    """A likely buyer needs at least one price or buy signal, or two weaker ones."""

    buyer_evidence: int = 5
    """Evidence messages shown per buyer, strongest first."""

    # -- ads, health and lifecycle (playbook §0, §7) --------------------------------
    ad_kinds: tuple[str, ...] = ("link", "card", "miniprogram")
    """Message kinds that carry ads in chat groups (external links, contact cards,
    mini-programs): the playbook's 广告、外链、拼团."""

    ad_repeat_members: int = 3
    """The same text posted by 3 or more members is a copy-paste campaign."""

    ad_repeat_groups: int = 2
    """The same text posted in 2 or more groups is cross-posted promotion."""

    ad_repeat_min_chars: int = 15
    """Only texts of 15+ characters (spaces removed) count as repeats: "哈哈哈",
    "+1", "早上好，大家好", "hello everyone" and short chain replies are repeated
    innocently; copy-paste promotions are longer."""

    health_weeks: int = 12
    """Weekly trend length: a quarter shows the course from chatting to decline."""

    new_group_days: int = 14
    """A group younger than two weeks is new: too early to judge its course."""

    dead_max_messages: int = 5
    """Fewer than 5 member messages in 30 days is a dead group (热寂): a greeting or
    an ad now and then does not make a living conversation."""

    flooded_ad_share: float = 0.30
    """Ads are 30% of the last 30 days' messages: members now see more ads than
    talk, the stage before death (广告泛滥)."""

    decline_ratio: float = 0.5
    """Declining: the last 4 weeks carried at most half the messages (or active
    members) of the 4 weeks before."""

    growth_ratio: float = 1.5
    """Growing: the last 4 weeks carried at least 1.5 times the messages of the 4
    weeks before..."""

    growth_newcomer_share: float = 0.10
    """...or newcomers of the last 30 days are at least 10% of the known members."""

    drop_fast_ratio: float = 0.4
    """At risk when the last week has at most 40% of the mean of the four weeks
    before: a sudden drop, before the 4-week comparison would show it."""

    trend_min_messages: int = 20
    """Trend rules only judge groups with at least 20 messages in the compared
    period: small numbers swing by chance."""

    # -- lurkers and keywords -------------------------------------------------------
    lurker_days: int = 30
    """Lurkers never spoke or have not spoken in 30 days (the report's 30-day view)."""

    keyword_sample_per_group: int = 2000
    """Keywords read at most the 2,000 most recent member messages per group:
    recent talk is what the operator plans topics with, and jieba is slow."""

    keyword_sample_total: int = 10000
    """...and at most 10,000 messages in all, spread evenly across groups (at least
    100 each), to keep a large archive's report fast: jieba cuts about 400,000
    characters a second, and a few hundred messages already show a group's topics."""

    keyword_top: int = 30
    """Words listed per group."""

    keyword_min_count: int = 2
    """A word must occur in at least 2 sampled messages to be listed."""

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain JSON data (tuples become lists)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            out[f.name] = _plain(getattr(self, f.name))
        return out

    def signal_weights(self) -> dict[str, float]:
        return dict(self.buyer_signal_weights)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


@cache
def field_docs() -> dict[str, str]:
    """Each settings field's docstring (its rationale), read from this module's source
    (empty when the source is not shipped)."""
    try:
        tree = ast.parse(inspect.getsource(AnalyticsSettings))
    except (OSError, TypeError):
        return {}
    cls = tree.body[0]
    assert isinstance(cls, ast.ClassDef)
    docs: dict[str, str] = {}
    body = cls.body
    for node, nxt in pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(nxt, ast.Expr)
            and isinstance(nxt.value, ast.Constant)
            and isinstance(nxt.value.value, str)
        ):
            docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs
