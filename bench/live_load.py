"""Sustained live load on a real Synapse, with the real bot moderating every room.

    .venv/bin/python bench/live_load.py                       # 3 min, 20 rooms, 5 msg/s
    .venv/bin/python bench/live_load.py --minutes 5 --rooms 40 --rate 10 --members 60
    .venv/bin/python bench/live_load.py --bot-process         # `shequn bot` in a child
    .venv/bin/python bench/live_load.py --db postgresql://...  # archive on PostgreSQL
    .venv/bin/python bench/live_load.py --bot-process --tick-seconds 2 --keep-bot-log bot.log
    SHEQUN_LOAD_PROFILE=bot.prof .venv/bin/python bench/live_load.py --bot-process  # cProfile

Starts a throwaway Synapse on 127.0.0.1 (SQLite, as ``tests/e2e`` does), registers an
owner, the bot and ``--members`` members through the shared-secret admin API, creates
``--rooms`` rooms with the bot as admin and puts every member in a few of them. Then
members post at a fixed total ``--rate`` (messages per second, on a schedule: a slow
send does not slow the schedule) for ``--minutes``: real group chat and, one in
``1/--ad-share``, real ads, both from ``/work/shared/data/spam/``. The real bot
(Matrix adapter, pipeline, archive, the real Moderator) runs either in this process
(default) or as ``shequn bot`` in a child process reading its token from a secrets
file (``--bot-process``).

An observer (the rooms' owner) syncs every room and records when each message and
each redaction reaches it. Reported:

- throughput: messages sent per second, and archived per second over the same window;
- baseline, measured in the same run: the send round trip (``PUT /send`` answered)
  and the delivery time (send -> the observer's sync has the message);
- moderation time: send -> the observer's sync has the bot's redaction, p50 / p99, and
  the ratio to the delivery baseline (what the bot adds on top of the server);
- ads acted on, normal messages removed (false positives);
- archive exactly once: rows in ``messages`` against messages sent (missing, extra,
  duplicates; ``processed_events`` keys too).

The machine is shared and noisy: compare the ratios rather than the milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

from nio import AsyncClient, RoomPreset, RoomSendError, RoomVisibility
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from synapse_server import MatrixUser, Synapse  # noqa: E402

from shequn.store import Store, open_store, schema  # noqa: E402

SPAM = Path("/work/shared/data/spam")
#: ``--inline-calls``: the in-process bot waits for each event's calls (the old way).
_INLINE_CALLS = False
BOT_TOKEN_VAR = "SHEQUN_LOAD_BOT_TOKEN"


# -- the texts ----------------------------------------------------------------------


def texts(data: Path = SPAM) -> tuple[list[str], list[str]]:
    """(chat, ads): real QQ-group messages labelled normal / ad (ADDetector4J set)."""
    chat: list[str] = []
    ads: list[str] = []
    labelled = (data / "zh_qq_group_ads_mc_qq_group.txt").read_text(encoding="utf-8")
    for line in labelled.splitlines():
        text, sep, label = line.rpartition("==")
        if sep and text.strip() and label.strip() in ("0", "1"):
            (ads if label.strip() == "1" else chat).append(text.strip())
    ads += _lines(data / "zh_qq_group_ads_extra_ads.txt")
    chat += _lines(data / "zh_qq_group_ads_extra_chatting.txt")
    return chat, ads


def _lines(p: Path) -> list[str]:
    return [s.strip() for s in p.read_text(encoding="utf-8").splitlines() if s.strip()]


# -- the run ------------------------------------------------------------------------


@dataclass
class Sent:
    room: str
    ad: bool
    start: float  # perf_counter before the send
    due: float = 0.0  # when the schedule wanted it sent
    answered: float = 0.0
    event_id: str = ""


@dataclass
class Result:
    seconds: float
    sent: list[Sent]
    refused: Counter[str]  # sends the server refused, by its answer
    seen: dict[str, float]  # event id -> when the observer got it
    redacted: dict[str, float]  # event id -> when the observer got its redaction
    archived: Counter[str]  # message id -> rows in the archive
    processed: Counter[str]  # event key -> rows in processed_events
    drain_seconds: float
    decided: set[str]  # message ids the bot decided to delete (bot_actions)
    notes: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)  # "database" alerts (outage runs)

    # derived figures -----------------------------------------------------------

    def ok(self) -> list[Sent]:
        return [s for s in self.sent if s.event_id]

    def report(self) -> dict[str, Any]:
        ok = self.ok()
        ids = {s.event_id for s in ok}
        send_rtt = [s.answered - s.start for s in ok]
        delivery = [self.seen[s.event_id] - s.start for s in ok if s.event_id in self.seen]
        moderation = [
            self.redacted[s.event_id] - s.start for s in ok if s.event_id in self.redacted
        ]
        ads = [s for s in ok if s.ad]
        missing = sorted(ids - set(self.archived))
        dup = sorted(k for k, n in self.archived.items() if n > 1)
        keys_dup = sorted(k for k, n in self.processed.items() if n > 1)
        out: dict[str, Any] = {
            "window_s": round(self.seconds, 1),
            "sent": len(ok),
            "refused": sum(self.refused.values()),
            "refused_by_reason": dict(self.refused),
            "sent_per_s": round(len(ok) / self.seconds, 2),
            "archived_per_s": round(len(ids & set(self.archived)) / self.seconds, 2),
            "schedule_lag_ms": _pct([s.start - s.due for s in ok]),
            "send_rtt_ms": _pct(send_rtt),
            "delivery_ms": _pct(delivery),
            "moderation_ms": _pct(moderation),
            "ads_sent": len(ads),
            "ads_redacted": sum(1 for s in ads if s.event_id in self.redacted),
            "chat_redacted": sum(1 for s in ok if not s.ad and s.event_id in self.redacted),
            "deletes_decided": len(self.decided & ids),
            "deletes_not_seen_redacted": len((self.decided & ids) - set(self.redacted)),
            "redacted_not_decided": len((set(self.redacted) & ids) - self.decided),
            "delivered_to_observer": sum(1 for s in ok if s.event_id in self.seen),
            "archived": sum(1 for i in ids if i in self.archived),
            "archive_missing": len(missing),
            "archive_duplicates": len(dup),
            "processed_key_duplicates": len(keys_dup),
            "drain_s": round(self.drain_seconds, 1),
        }
        if moderation and delivery:
            m, d = statistics.median(moderation), statistics.median(delivery)
            out["moderation_over_delivery_p50"] = round(m / d, 2)
            out["bot_added_p50_ms"] = round((m - d) * 1000, 1)
        if missing:
            out["missing_ids"] = missing[:10]
        if self.alerts:
            out["database_alerts"] = self.alerts
        if self.notes:
            out["notes"] = self.notes
        return out


def _pct(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    ms = sorted(v * 1000 for v in values)

    def at(q: float) -> float:
        return round(ms[min(len(ms) - 1, int(len(ms) * q))], 1)

    return {"n": len(ms), "p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": round(ms[-1], 1)}


def _client(server: Synapse, user: MatrixUser) -> AsyncClient:
    c = AsyncClient(server.url, user.user_id, device_id=user.device_id)
    c.access_token, c.user_id = user.access_token, user.user_id
    return c


class Observer:
    """The owner's client syncing every room: when each message and redaction arrived."""

    def __init__(self, client: AsyncClient, bot_id: str) -> None:
        self.client = client
        self.bot_id = bot_id
        self.seen: dict[str, float] = {}
        self.redacted: dict[str, float] = {}
        self.bot_joined: set[str] = set()
        self.limited = 0  # syncs whose timeline was cut (events not in the response)
        self._stop = asyncio.Event()
        self._since: str | None = None

    async def run(self) -> None:
        # A large timeline limit: the default (10 per room) would cut busy rooms.
        flt = {"room": {"timeline": {"limit": 2000}, "state": {"lazy_load_members": True}}}
        while not self._stop.is_set():
            resp = await self.client.sync(timeout=5000, since=self._since, sync_filter=flt)
            now = time.perf_counter()
            rooms = getattr(resp, "rooms", None)
            if rooms is None:  # an error answer: try again
                await asyncio.sleep(0.5)
                continue
            for room_id, info in rooms.join.items():
                if info.timeline.limited and self._since is not None:
                    self.limited += 1
                for e in info.timeline.events:
                    self._note(room_id, e.source, now)
            self._since = resp.next_batch

    def _note(self, room: str, src: dict[str, Any], now: float) -> None:
        kind, eid = src.get("type"), src.get("event_id", "")
        if kind == "m.room.message":
            self.seen.setdefault(eid, now)
        elif kind == "m.room.redaction":
            target = src.get("redacts") or src.get("content", {}).get("redacts")
            if target:
                self.redacted.setdefault(target, now)
        elif (
            kind == "m.room.member"
            and src.get("state_key") == self.bot_id
            and src.get("content", {}).get("membership") == "join"
        ):
            self.bot_joined.add(room)

    def stop(self) -> None:
        self._stop.set()


async def _setup(
    server: Synapse, rooms: int, members: int, per_member: int
) -> tuple[MatrixUser, MatrixUser, AsyncClient, list[str], list[tuple[AsyncClient, list[str]]]]:
    owner_u = server.register(f"owner{os.getpid()}")
    bot_u = server.register(f"shequnbot{os.getpid()}")
    owner = _client(server, owner_u)
    room_ids: list[str] = []
    for r in range(rooms):
        made = await owner.room_create(
            name=f"压测群 {r}",
            visibility=RoomVisibility.public,
            preset=RoomPreset.public_chat,
            invite=[bot_u.user_id],
            power_level_override={"users": {bot_u.user_id: 100}},
        )
        if not hasattr(made, "room_id"):
            raise RuntimeError(f"creating room {r}: {made}")
        room_ids.append(made.room_id)
    crowd: list[tuple[AsyncClient, list[str]]] = []
    for m in range(members):
        c = _client(server, server.register(f"m{os.getpid()}x{m}"))
        mine = [room_ids[(m + k) % rooms] for k in range(min(per_member, rooms))]
        await asyncio.gather(*(c.join(r) for r in mine))
        crowd.append((c, mine))
    return owner_u, bot_u, owner, room_ids, crowd


def _config(
    server: Synapse,
    bot: MatrixUser,
    owner: MatrixUser,
    rooms: list[str],
    tick_seconds: float | None = None,
) -> str:
    """shequn.toml for the run: every ad warns (never mutes: members keep posting)."""
    lines = [f"[bot]\ntick_seconds = {tick_seconds}\n"] if tick_seconds else []
    lines += [
        "[accounts.matrix]",
        f'token_env = "{BOT_TOKEN_VAR}"',
        f'homeserver = "{server.url}"',
        f'user_id = "{bot.user_id}"',
        "",
        "[defaults]",
        'template = "default"',
        'language = "zh"',
    ]
    for r in rooms:
        lines += [
            "",
            "[[groups]]",
            'platform = "matrix"',
            f'id = "{r}"',
            # Members post fast and the same real texts recur: only content is judged.
            "flood_messages = 0",
            "duplicate_groups = 0",
            'ladder = ["warn"]',
            f'exempt = ["{owner.user_id}"]',
        ]
    return "\n".join(lines) + "\n"


@contextlib.asynccontextmanager
async def _bot(cfg_text: str, token: str, db_url: str, work: Path, process: bool) -> Any:
    cfg = work / "shequn.toml"
    cfg.write_text(cfg_text, encoding="utf-8")
    if process:
        secrets_file = work / "secrets.env"
        secrets_file.write_text(f"{BOT_TOKEN_VAR}={token}\n", encoding="utf-8")
        secrets_file.chmod(0o600)
        env = {k: v for k, v in os.environ.items() if k != BOT_TOKEN_VAR}
        log = open(work / "bot.log", "wb")  # noqa: SIM115 - closed below
        # SHEQUN_LOAD_PROFILE=out.prof: the bot under cProfile (written when it stops).
        profile = os.environ.get("SHEQUN_LOAD_PROFILE")
        prof = ["-m", "cProfile", "-o", profile] if profile else []
        proc = subprocess.Popen(
            [sys.executable, *prof, "-m", "shequn.cli", "bot", "--config", str(cfg),
             "--db", db_url, "--secrets", str(secrets_file)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            yield None
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
        return
    import tomllib

    from shequn.botconfig import parse_config
    from shequn.commands.bot import _real_moderator, build_adapter, run_bot

    config = parse_config(tomllib.loads(cfg_text), env={BOT_TOKEN_VAR: token})
    store = open_store(db_url)
    adapters = [build_adapter(a) for a in config.accounts.values()]
    stop = asyncio.Event()
    runner = asyncio.create_task(
        run_bot(
            config,
            store,
            adapters,
            _real_moderator(),
            stop=stop,
            restart_delay=0.5,
            inline_calls=_INLINE_CALLS,
        )
    )
    try:
        yield None
    finally:
        stop.set()
        await asyncio.wait_for(runner, 60)
        store.close()


def _tick_summary(lines: Sequence[str]) -> list[str]:
    """The bot's ticks from its log (``tick took ... (slowest: job s)``, ``tick skipped``)."""
    took: list[float] = []
    slowest: Counter[str] = Counter()
    skipped = 0
    for line in lines:
        if "tick took" in line and "slowest:" in line:
            tail = line.partition("tick took ")[2]
            took.append(float(tail.split(" s", 1)[0]))
            slowest[tail.split("slowest: ", 1)[1].rsplit(" ", 2)[0]] += 1
        skipped += "tick skipped" in line
    if not took:
        return []
    took.sort()
    return [
        f"ticks: {len(took)}, p50 {took[len(took) // 2]:.2f} s, max {took[-1]:.2f} s, "
        f"skipped {skipped}; slowest step most often: {dict(slowest.most_common(3))}"
    ]


def _netloc(parts: SplitResult, port: int) -> str:
    auth = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return f"{auth}127.0.0.1:{port}"


def _unplug(proxy: Any, progress: Callable[[str], None]) -> None:
    progress("database unplugged")
    proxy.unplug()


def _plug(proxy: Any, progress: Callable[[str], None]) -> None:
    progress("database plugged back")
    proxy.plug()


def _alerts(db: str, rooms: list[str]) -> list[str]:
    store = open_store(db, upgrade=False)
    try:
        al = schema.alerts
        with store.engine.connect() as conn:
            q = select(al.c.detail).where(al.c.kind == "database", al.c.group_id.in_(rooms))
            return [str(d) for d in conn.execute(q).scalars()]
    finally:
        store.close()


def _archive(store: Store, rooms: list[str]) -> tuple[Counter[str], Counter[str], int, set[str]]:
    m, g, pe, a = schema.messages, schema.groups, schema.processed_events, schema.bot_actions
    with store.engine.connect() as conn:
        q = (
            select(m.c.platform_id)
            .join(g, g.c.id == m.c.group_id)
            .where(g.c.platform == "matrix", g.c.platform_id.in_(rooms))
        )
        archived = Counter(conn.execute(q).scalars())
        processed = Counter(
            conn.execute(
                select(pe.c.event_key).where(
                    pe.c.platform == "matrix", pe.c.event_key.like("msg:%")
                )
            ).scalars()
        )
        planned = conn.execute(
            select(func.count()).select_from(a).where(a.c.status == "planned")
        ).scalar_one()
        deletes = conn.execute(
            select(a.c.params).where(a.c.platform == "matrix", a.c.kind == "delete")
        ).scalars()
        decided = {json.loads(p)["message_id"] for p in deletes}
    return archived, processed, int(planned), decided


async def run_load(
    server: Synapse,
    *,
    rooms: int = 20,
    members: int = 40,
    per_member: int = 3,
    rate: float = 5.0,
    seconds: float = 180.0,
    ad_share: float = 0.1,
    db_url: str | None = None,
    bot_process: bool = False,
    seed: int = 7,
    drain_limit: float = 120.0,
    outage: tuple[float, float] | None = None,
    quiet: float = 3.0,
    tick_seconds: float | None = None,
    keep_log: Path | None = None,
    progress: Callable[[str], None] = lambda _s: None,
) -> Result:
    """One run; see the module docstring. Returns the raw figures (``.report()``).

    ``outage=(at, seconds)``: ``db_url`` must be PostgreSQL; the bot reaches it through
    a loopback proxy (``tests/engine/test_bot_db_outage.py``) that is unplugged ``at``
    seconds into the window for ``seconds`` (live connections cut, new ones refused).
    """
    rng = random.Random(seed)
    chat, ads = texts()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = db_url or f"sqlite:///{work / 'archive.db'}"
        proxy = None
        bot_db = db
        if outage is not None:
            sys.path.insert(0, str(ROOT / "tests" / "engine"))
            from test_bot_db_outage import Proxy  # the loopback proxy the engine test uses

            parts = urlsplit(db)
            proxy = Proxy((parts.hostname or "127.0.0.1", parts.port or 5432))
            bot_db = urlunsplit(parts._replace(netloc=_netloc(parts, proxy.port)))
            open_store(db).close()  # migrated before the bot starts
        progress(f"setting up {rooms} rooms, {members} members ...")
        owner_u, bot_u, owner, room_ids, crowd = await _setup(server, rooms, members, per_member)
        observer = Observer(owner, bot_u.user_id)
        watching = asyncio.create_task(observer.run())
        sent: list[Sent] = []
        refused: Counter[str] = Counter()
        try:
            async with _bot(
                _config(server, bot_u, owner_u, room_ids, tick_seconds),
                bot_u.access_token,
                bot_db,
                work,
                bot_process,
            ):
                progress("waiting for the bot to join every room ...")
                deadline = time.monotonic() + 120
                while len(observer.bot_joined) < rooms:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"the bot joined {len(observer.bot_joined)}/{rooms}")
                    await asyncio.sleep(0.2)
                await asyncio.sleep(1.0)  # its first sync after the joins
                progress(f"posting {rate}/s for {seconds:.0f} s ...")
                gate = asyncio.Semaphore(64)

                async def post(c: AsyncClient, room: str, text: str, ad: bool, due: float) -> None:
                    async with gate:
                        s = Sent(room, ad, time.perf_counter(), due)
                        resp = await c.room_send(
                            room, "m.room.message", {"msgtype": "m.text", "body": text}
                        )
                        s.answered = time.perf_counter()
                        if isinstance(resp, RoomSendError):
                            refused[f"{resp.status_code} {resp.message}"[:80]] += 1
                            return
                        s.event_id = str(resp.event_id)
                        sent.append(s)

                tasks: list[asyncio.Task[None]] = []
                t0 = time.perf_counter()
                n = 0
                total = round(seconds * rate)  # all of them, even when the loop lags
                if proxy is not None and outage is not None:
                    asyncio.get_running_loop().call_later(outage[0], _unplug, proxy, progress)
                    asyncio.get_running_loop().call_later(sum(outage), _plug, proxy, progress)
                while n < total:
                    elapsed = time.perf_counter() - t0
                    while n < min(elapsed * rate, total):
                        c, mine = crowd[rng.randrange(len(crowd))]
                        ad = rng.random() < ad_share
                        text = rng.choice(ads if ad else chat)
                        due = t0 + n / rate
                        tasks.append(asyncio.create_task(post(c, rng.choice(mine), text, ad, due)))
                        n += 1
                    await asyncio.sleep(min(0.01, 1 / rate))
                await asyncio.gather(*tasks)
                window = time.perf_counter() - t0
                progress(f"sent {len(sent)} in {window:.1f} s; draining ...")
                # Drained: all archived, nothing planned, no new redaction for `quiet` s.
                store = open_store(db, upgrade=False)
                started = time.perf_counter()
                last, quiet_since = len(observer.redacted), time.perf_counter()
                try:
                    while True:
                        archived, processed, planned, _decided = _archive(store, room_ids)
                        if len(observer.redacted) != last:
                            last, quiet_since = len(observer.redacted), time.perf_counter()
                        done = all(s.event_id in archived for s in sent) and planned == 0
                        if done and time.perf_counter() - quiet_since > quiet:
                            break
                        if time.perf_counter() - started > drain_limit:
                            break
                        await asyncio.sleep(0.5)
                finally:
                    store.close()
                drain = time.perf_counter() - started
        finally:
            observer.stop()
            await asyncio.wait_for(asyncio.gather(watching, return_exceptions=True), 15)
            await owner.close()
            for c, _ in crowd:
                await c.close()
        store = open_store(db, upgrade=False)
        try:
            archived, processed, _planned, decided = _archive(store, room_ids)
        finally:
            store.close()
        result = Result(
            window,
            sent,
            refused,
            observer.seen,
            observer.redacted,
            archived,
            processed,
            drain,
            decided,
        )
        if proxy is not None:
            proxy.close()
            result.alerts = _alerts(db, room_ids)
        if observer.limited:
            result.notes.append(f"observer syncs cut by the server: {observer.limited}")
        if bot_process and (work / "bot.log").exists():
            lines = (work / "bot.log").read_text(errors="replace").splitlines()
            result.notes.append("bot log tail: " + " | ".join(lines[-5:]))
            result.notes += _tick_summary(lines)
            if keep_log is not None:
                keep_log.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return result


def _unthrottled_room_creation() -> None:
    """Creating dozens of rooms hits Synapse's ``rc_room_creation`` (one per few seconds
    after a small burst), which ``synapse_server`` leaves at its default: raise it for
    the benchmark's own server."""
    import synapse_server

    base = synapse_server._config

    def config(*args: Any) -> dict[str, object]:
        return {**base(*args), "rc_room_creation": synapse_server._LIMIT}

    synapse_server._config = config


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--rooms", type=int, default=20)
    ap.add_argument("--members", type=int, default=40)
    ap.add_argument("--rooms-per-member", type=int, default=3)
    ap.add_argument("--rate", type=float, default=5.0, help="messages per second, all rooms")
    ap.add_argument("--ad-share", type=float, default=0.1)
    ap.add_argument("--db", default=None, help="archive URL (default: SQLite in a temp dir)")
    ap.add_argument("--bot-process", action="store_true", help="run `shequn bot` in a child")
    ap.add_argument("--json", action="store_true", help="print the report as JSON only")
    ap.add_argument(
        "--keep-bot-log", type=Path, default=None, help="copy the --bot-process log here"
    )
    ap.add_argument(
        "--tick-seconds", type=float, default=None, help="bot.tick_seconds (default: 10)"
    )
    ap.add_argument(
        "--db-outage",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="unplug the database (PostgreSQL --db) this long, a third into the window",
    )
    ap.add_argument(
        "--inline-calls",
        action="store_true",
        help="in-process bot: each event waits for its platform calls (before the carrier)",
    )
    args = ap.parse_args()
    if args.inline_calls and args.bot_process:
        ap.error("--inline-calls needs the in-process bot (no --bot-process)")
    global _INLINE_CALLS
    _INLINE_CALLS = args.inline_calls
    if args.db_outage and not (args.db or "").startswith("postgresql"):
        ap.error("--db-outage needs --db postgresql://...")
    _unthrottled_room_creation()
    with tempfile.TemporaryDirectory() as tmp:
        server = Synapse(Path(tmp))
        server.start()
        try:
            result = asyncio.run(
                run_load(
                    server,
                    rooms=args.rooms,
                    members=args.members,
                    per_member=args.rooms_per_member,
                    rate=args.rate,
                    seconds=args.minutes * 60,
                    ad_share=args.ad_share,
                    db_url=args.db,
                    bot_process=args.bot_process,
                    outage=(args.minutes * 20, args.db_outage) if args.db_outage else None,
                    tick_seconds=args.tick_seconds,
                    keep_log=args.keep_bot_log,
                    progress=lambda s: print(s, file=sys.stderr, flush=True),
                )
            )
        finally:
            server.stop()
    print(json.dumps(result.report(), ensure_ascii=False, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
