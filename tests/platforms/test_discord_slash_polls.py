"""The poll slash commands on Discord: /poll, /vote, /tally, /endpoll → the real polls.

Each frame is the documented INTERACTION_CREATE of tests/fixtures/discord
(``interaction_checkin``) with the command's name and options as Discord sends them
(Application Command Data: options with name, type and value). They are replayed
through the real adapter into the real pipeline, and what Discord gets is asserted
as REST calls on a loopback server (the same harness as test_discord_pipeline.py).
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from test_discord_pipeline import FRAMES, GENERAL, Clock, RecordingApi, api, run_transcript

from shequn.botconfig import GroupSettings
from shequn.features.activities.settings import ActivitySettings, PollSettings
from shequn.platforms.discord import SLASH_COMMANDS
from shequn.platforms.discord.slash import slash_text
from shequn.store import Store

__all__ = ["api"]  # the loopback Discord fixture, reused

T0 = 1_790_000_000.0
EPOCH_MS = 1_420_070_400_000


def command(n: int, name: str, **options: Any) -> dict[str, Any]:
    """The fixture's interaction ``n`` seconds after T0, for ``/name`` with ``options``."""
    frame = copy.deepcopy(FRAMES["interaction_checkin"])
    d = frame["d"]
    d["id"] = str((int((T0 + n) * 1000) - EPOCH_MS) << 22)
    d["token"] = f"token-{n}"
    types = {bool: 5, int: 4, str: 3}
    d["data"] = {"id": "101690000000000031", "name": name, "type": 1, "guild_id": d["guild_id"]}
    if options:
        d["data"]["options"] = [{"name": k, "type": types[type(v)], "value": v}
                                for k, v in options.items()]  # fmt: skip
    return frame


def test_every_registered_command_reads_as_its_keyword() -> None:
    said = {
        "checkin": "/checkin", "makeup": "/makeup", "top": "/top", "tally": "/tally",
        "endpoll": "/endpoll", "ask": "怎么报名", "vote": "/vote 1 3",
        "poll": "/poll --multi --minutes 30 周末去哪 | 爬山 | 看电影",
    }  # fmt: skip
    opts: dict[str, dict[str, Any]] = {
        "ask": {"question": " 怎么报名 "}, "vote": {"choice": "1  3"},
        "poll": {"title": "周末去哪", "options": "爬山 | 看电影 |", "multi": True,
                 "anonymous": False, "minutes": 30},
    }  # fmt: skip
    assert {c["name"] for c in SLASH_COMMANDS} == set(said)
    for name, text in said.items():
        assert slash_text(command(1, name, **opts.get(name, {}))["d"]) == text, name
    # a bar in the title would make it a choice; an empty poll or vote is no command
    bar = command(1, "poll", title="A|B", options="x|y")["d"]
    assert slash_text(bar) == "/poll A/B | x | y"
    assert slash_text(command(1, "poll", title="t", options=" | ")["d"]) is None
    assert slash_text(command(1, "vote", choice="  ")["d"]) is None
    assert slash_text(command(1, "unknown")["d"]) is None


async def test_a_poll_started_voted_and_tallied_by_slash_commands(
    store: Store, api: tuple[RecordingApi, str]
) -> None:
    fake, base = api
    polls = PollSettings(anyone_may_start=True)
    settings = dataclasses.replace(GroupSettings(), activities=ActivitySettings(polls=polls))
    frames = [
        command(1, "poll", title="周末去哪", options="爬山 | 看电影"),
        command(2, "vote", choice="2"),
        command(3, "tally"),
    ]
    await run_transcript(store, base, frames, settings, Clock(T0 + 800), slash_commands=True)
    calls = fake.acts()
    acks = [c for c in calls if c[1].startswith("/interactions/")]
    assert [c[1] for c in acks] == [f"/interactions/{f['d']['id']}/token-{n}/callback"
                                    for n, f in enumerate(frames, 1)]  # fmt: skip
    said = [c[3]["content"] for c in calls if c[1] == f"/channels/{GENERAL}/messages"]
    assert len(said) == 3, said
    assert "周末去哪" in said[0] and "爬山" in said[0] and "看电影" in said[0]
    assert "看电影" in said[1]  # the vote is confirmed with its choice
    assert "看电影 — 1 票" in said[2] and "爬山 — 0 票" in said[2]  # the tally
