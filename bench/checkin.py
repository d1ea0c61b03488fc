"""Check-in benchmark: check-ins per second through the live pipeline, and correctness.

    .venv/bin/python bench/checkin.py [--data ../shared/data] [--pg URL] [--repeat 3]

A real chat replayed as daily check-ins: the Ubuntu IRC day logs in
``chatlogs/ubuntu_irc/`` (one file is one day of #ubuntu; the files are sample days
years apart, so file k is moved onto day k, time of day kept: ``--days`` of them) and
the Telegram exports in ``chatlogs/telegram_exports/`` as they are. The first message
of each member on each local day becomes a ``签到`` at that moment; where the member
skipped exactly one day after a day they spoke, a ``补签`` (make-up) follows right
after that check-in. The events go one at a time through ``Pipeline.handle`` (record
the event once, gate, the real moderator, the feature handlers; the check-in handler
answers) on a fresh SQLite archive, or on PostgreSQL with ``--pg``. ``--repeat`` runs
the same chat again shifted by a year per round, so the archive grows as in a real
deployment.

Correctness is checked against an independent model of the rules (no tiers, so the
points are ``points × check-ins − cost × make-ups``): every check-in answer's streak
and total, every make-up answer (accepted, not enough points, or the monthly limit),
and the final ``checkins`` rows of every member.

The baseline in the same run: the same events written by the plain archive writer,
one transaction each (what recording alone costs).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import msgspec
from sqlalchemy import create_engine, select, text

from shequn.botconfig import GroupSettings
from shequn.commands.bot import _real_moderator
from shequn.events import MessageKind, MessagePosted
from shequn.features.checkin.handler import local_day
from shequn.features.checkin.settings import CheckinSettings
from shequn.importers.base import Source
from shequn.importers.irc import IrcImporter
from shequn.importers.telegram import TelegramImporter
from shequn.pipeline import Pipeline
from shequn.platforms.port import FakePlatform
from shequn.store import Store, open_store, resolve_url, schema
from shequn.store.writer import ArchiveWriter

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
S = CheckinSettings(tiers=())  # no tier bonuses: the points model stays simple
YEAR = 365 * 86400.0
T0 = 1_735_660_800.0  # 2025-01-01 00:00 UTC: day 0 of the IRC replay


def _chat(data: Path, days: int) -> list[MessagePosted]:
    """The chat: the Ubuntu IRC day logs (one file = one day), moved onto consecutive
    days (the logs are sample days years apart: file k is day k, time of day kept),
    plus the Telegram exports as they are."""
    out: list[MessagePosted] = []
    irc = data / "chatlogs" / "ubuntu_irc"
    files = sorted(irc.glob("*/*.raw.txt"), key=lambda p: (p.name, p.parent.name))[:days]
    for k, path in enumerate(files):
        evs = [e for e in IrcImporter().read(Source(path=path)) if isinstance(e, MessagePosted)]
        if not evs:
            continue
        start = datetime.fromisoformat(path.name[:10]).replace(tzinfo=UTC).timestamp()
        for e in evs:
            ts = T0 + k * 86400 + (e.ts - start)
            out.append(msgspec.structs.replace(e, group_id="ubuntu", ts=ts))
    for path in sorted((data / "chatlogs" / "telegram_exports").glob("*.json")):
        out += [
            e for e in TelegramImporter().read(Source(path=path)) if isinstance(e, MessagePosted)
        ]
    return out


def chat_checkins(data: Path, days: int, shift: float = 0.0, tag: str = "") -> list[MessagePosted]:
    """The check-in and make-up events of the replayed chat, in time order."""
    msgs = [
        ev
        for ev in _chat(data, days)
        if ev.sender and not ev.sender.is_bot and ev.kind != MessageKind.SYSTEM
    ]
    msgs.sort(key=lambda e: e.ts)
    first: dict[tuple[str, str, date], MessagePosted] = {}
    for ev in msgs:
        assert ev.sender is not None
        first.setdefault((ev.group_id, ev.sender.platform_id, local_day(ev.ts, S.timezone)), ev)
    spoke = set(first)
    out = []
    for (g, m, d), ev in first.items():
        ts = ev.ts + shift
        mid = f"ci{tag}-{len(out)}"
        out.append(MessagePosted("telegram", g, mid, ts, ev.sender, "签到"))
        gap, before = d - timedelta(days=1), d - timedelta(days=2)
        if (g, m, gap) not in spoke and (g, m, before) in spoke:
            out.append(MessagePosted("telegram", g, mid + "-m", ts + 1, ev.sender, "补签"))
    out.sort(key=lambda e: (e.ts, e.message_id))
    return out


@dataclass
class Model:
    """The rules, written again from the settings alone: the expected answers."""

    days: dict[tuple[str, str], set[date]] = field(default_factory=lambda: defaultdict(set))
    points: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    makeups: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))

    def streak(self, key: tuple[str, str], d: date) -> int:
        n = 0
        while d in self.days[key]:
            n, d = n + 1, d - timedelta(days=1)
        return n

    def expect(self, ev: MessagePosted) -> tuple[str, ...]:
        assert ev.sender is not None
        key, today = (ev.group_id, ev.sender.platform_id), local_day(ev.ts, S.timezone)
        days = self.days[key]
        if ev.text == "签到":
            if today in days:
                return ("again", str(self.streak(key, today)), str(len(days)))
            days.add(today)
            self.points[key] += S.points
            return ("ok", str(self.streak(key, today)), str(len(days)))
        y = today - timedelta(days=1)
        if y in days or y - timedelta(days=1) not in days:
            return ("no_gap",)
        month = (*key, today.isoformat()[:7])
        if self.makeups[month] >= S.makeup_per_month:
            return ("limit",)
        if self.points[key] < S.makeup_cost:
            return ("poor",)
        self.makeups[month] += 1
        self.points[key] -= S.makeup_cost
        days.add(y)
        return ("makeup", str(self.streak(key, today if today in days else y)))


_PARSE = [
    ("ok", re.compile(r"checked in! Streak (\d+) days, (\d+) days in all")),
    ("again", re.compile(r"already checked in today: streak (\d+) days, (\d+) days")),
    ("makeup", re.compile(r"made up \S+ for \d+ points: streak (\d+) days")),
    ("no_gap", re.compile(r"nothing to make up")),
    ("limit", re.compile(r"no make-ups left")),
    ("poor", re.compile(r"not enough points")),
]


def parse(answer: str) -> tuple[str, ...]:
    for kind, rx in _PARSE:
        m = rx.search(answer)
        if m:
            return (kind, *m.groups())
    return ("?", answer)


def _pg_store(url: str) -> tuple[Store, str]:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(resolve_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return open_store(url.rsplit("/", 1)[0] + f"/{name}"), name


def _drop_pg(url: str, name: str) -> None:
    admin = create_engine(resolve_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def _open(kind: str, work: Path, pg: str | None, label: str) -> tuple[Store, str | None]:
    if kind == "postgresql":
        assert pg is not None
        return _pg_store(pg)
    return open_store(f"sqlite:///{work / (label + '.db')}"), None


async def run_pipeline(store: Store, events: list[MessagePosted]) -> tuple[list[float], int, int]:
    """Timings per event, answers checked, and wrong answers (printed, first five)."""
    settings = GroupSettings(language="en", checkin=S)
    pipe = Pipeline(store, _real_moderator(), lambda _p, _g: settings)
    platform = FakePlatform(name="telegram")
    pipe.attach(platform)
    model, timings, checked, wrong = Model(), [], 0, 0
    outcomes: dict[str, int] = defaultdict(int)
    for ev in events:
        before = len(platform.calls)
        t0 = time.perf_counter()
        await pipe.handle(ev, platform)
        timings.append(time.perf_counter() - t0)
        answers = [c.args["text"] for c in platform.calls[before:] if c.name == "send"]
        got = parse(answers[0]) if answers else ("(no answer)",)
        want = model.expect(ev)
        outcomes[want[0]] += 1
        checked += 1
        if got != want:
            wrong += 1
            if wrong <= 5:
                print(f"  WRONG {ev.group_id}/{ev.sender.platform_id if ev.sender else ''} "
                      f"{ev.text} at {ev.ts:.0f}: got {got}, want {want}")  # fmt: skip
    # the rows, member by member
    c = schema.checkins
    rows: dict[tuple[str, str], set[date]] = defaultdict(set)
    with store.engine.connect() as conn:
        for g, m, d in conn.execute(select(c.c.group_id, c.c.member_id, c.c.day)):
            rows[(g, m)].add(date.fromisoformat(d))
    bad_rows = sum(1 for k in set(rows) | set(model.days) if rows[k] != model.days[k])
    if bad_rows:
        print(f"  WRONG checkins rows for {bad_rows} members")
    print("  answers: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    return timings, checked, wrong + bad_rows


def run_writer(store: Store, events: list[MessagePosted]) -> float:
    t0 = time.perf_counter()
    for ev in events:  # one transaction per event, like the live path
        with store.engine.begin() as conn:
            ArchiveWriter(conn).add_all([ev])
    return (time.perf_counter() - t0) / len(events)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--pg", help="also run on this PostgreSQL server (a database is created)")
    ap.add_argument("--repeat", type=int, default=1, help="replay the chat N times (+1 year each)")
    ap.add_argument("--days", type=int, default=60, help="IRC day logs to replay (0: all 153)")
    args = ap.parse_args()
    events: list[MessagePosted] = []
    for i in range(args.repeat):
        events += chat_checkins(args.data, args.days or 10_000, shift=i * YEAR, tag=str(i))
    n_make = sum(1 for e in events if e.text == "补签")
    members = len({(e.group_id, e.sender.platform_id) for e in events if e.sender})
    print(f"replayed chat: {len(events)} events ({len(events) - n_make} check-ins, "
          f"{n_make} make-ups) by {members} members in "
          f"{len({e.group_id for e in events})} groups")  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="shequn-checkin-"))
    for kind in ["sqlite"] + (["postgresql"] if args.pg else []):
        store, name = _open(kind, work, args.pg, "p")
        try:
            timings, checked, wrong = asyncio.run(run_pipeline(store, events))
        finally:
            store.close()
            if name:
                _drop_pg(args.pg, name)
        store, name = _open(kind, work, args.pg, "w")
        try:
            base = run_writer(store, events)
        finally:
            store.close()
            if name:
                _drop_pg(args.pg, name)
        ms = 1000.0
        med = statistics.median(timings) * ms
        p90 = statistics.quantiles(timings, n=10)[8] * ms
        print(f"[{kind}] pipeline per check-in  median {med:.2f} ms  p90 {p90:.2f} ms  "
              f"{len(timings) / sum(timings):,.0f} check-ins/s")  # fmt: skip
        print(f"[{kind}] baseline archive insert {base * ms:.2f} ms/event "
              f"({1 / base:,.0f}/s)  → pipeline ÷ insert {med / (base * ms):.1f}×")  # fmt: skip
        print(f"[{kind}] correctness: {checked - wrong}/{checked} answers and member rows "
              f"as the model expects ({wrong} wrong)")  # fmt: skip


if __name__ == "__main__":
    main()
