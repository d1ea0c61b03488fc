"""The per-event pipeline of the live bot, with exactly-once effects.

``handle(event, platform)`` runs, in ONE database transaction:

1. **normalise**: the event's natural key (``msg:<group>:<id>``, ``join:<group>:<id>`` ...);
2. **record**: claim the key in ``processed_events`` (a redelivered event finds it
   and stops here) and write the event to the archive with :class:`ArchiveWriter`;
3. **handlers by priority**: the blocklist (5), the entry gate (10), moderation (20), live-layer
   counting (25), appeals (27), invites (30), help (33), activities (35), check-in (40), FAQ (45), the question watch (50),
   layer commands (60) and any registered feature; a handler returning ``True`` stops the
   rest; each runs in a savepoint and an exception goes to :meth:`on_error` (logged,
   its writes rolled back) without killing the loop.

Handlers never call the platform: they *plan* calls (``bot_actions`` rows). After the
commit the pipeline carries them out. A crash before the commit loses nothing (the
event is redelivered and processed from scratch); a crash after it leaves planned
rows that :meth:`resume` / :meth:`tick` carry out. That is at-least-once delivery
with exactly-once decisions.

Every carrying out goes through one carrier (:class:`_Carrier`): per (platform, group)
one batch after the other, so a group's calls keep their planned order (delete before
the warning, mute before the kick) and no row is carried out by two batches at once;
up to ``carrier_concurrency`` groups of a platform at the same time. With
``inline_calls=True`` (the default, what the tests expect) :meth:`handle` waits for its
event's calls; the live bot (``run_bot``) passes ``False``: the next event is handled
while a slow platform answers, and :meth:`drain` waits for what is under way.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, or_, select, text, tuple_
from sqlalchemy import exc as sa_exc

from shequn.actions import blocklist, purge
from shequn.actions import gate as gate_actions
from shequn.actions.moderation import (
    Fence,
    active_strikes,
    add_strike,
    can_call,
    carry_out,
    lift_expired_mutes,
    plan,
    raise_alert,
)
from shequn.actions.notices import Notices
from shequn.botconfig import GroupSettings
from shequn.events import (
    DirectMessage,
    Event,
    GroupSeen,
    JoinRequested,
    MemberJoined,
    MemberLeft,
    MemberRenamed,
    MessageKind,
    MessagePosted,
    ReactionAdded,
)
from shequn.features import activities, checkin, content, faq, invites, layers
from shequn.features import help as help_command
from shequn.features.flood import FloodWatch
from shequn.features.moderation import qr
from shequn.features.moderation.verdict import Verdict
from shequn.features.search import index as search_index
from shequn.features.strikes import appeals, step_for
from shequn.features.strikes import blocklist as blocklist_handler
from shequn.features.strikes.announce import NoticeBudget, strike_notice
from shequn.features.strikes.escalation import QuarrelWatch, is_abusive
from shequn.platforms.port import Capability, Platform, PlatformError, capabilities_of
from shequn.store import Store, schema
from shequn.store.writer import ArchiveWriter

__all__ = ["Context", "Handler", "Moderate", "Pipeline", "event_key"]

log = logging.getLogger(__name__)

#: ``moderate(text, kind, mentions)`` -> Verdict; called with ``allow=`` as a keyword
#: too when the group has an allowlist (the real ``Moderator.check`` takes one).
Moderate = Callable[..., Verdict]
#: A feature handler; return ``True`` to stop the handlers after it.
Handler = Callable[["Context"], Awaitable[bool | None]]
#: Errors that mean "the database cannot be reached right now" (retried, not fatal).
DB_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError)
#: Images read per message, and the time all their downloads may take together.
MEDIA_PER_MESSAGE = 4
MEDIA_TIMEOUT = 15.0
#: Periodic work run by :meth:`Pipeline.tick` inside its transaction; plans actions.
TickJob = Callable[
    [Connection, Mapping[str, Platform], Callable[[str, str], GroupSettings], float], Any
]
#: A tick job slower than this many seconds is logged by name (see ``Pipeline.tick_budget``).
TICK_JOB_BUDGET = 5.0
#: Groups of one platform whose calls are carried out at the same time (see ``_Carrier``).
CARRIER_CONCURRENCY = 8
#: Days an event's key is kept in ``processed_events`` after it was processed: far
#: longer than any platform redelivers (Telegram keeps updates 24 h; a Matrix sync
#: resumes from the last token), so the table stays one month of events, not all time.
DEDUPE_DAYS = 30.0
#: Seconds a process runs before it forgets keys: what a restart after a long outage
#: gets redelivered at start-up still finds the keys from before the outage.
DEDUPE_GRACE = 3600.0
#: Keys forgotten per tick at most (one short transaction, whatever the backlog).
FORGET_BATCH = 10_000


#: The event's key taken, or nothing when it was taken before. Plain SQL built once (the
#: same on SQLite and PostgreSQL); the row is asked back because psycopg reports no
#: reliable rowcount for it.
_CLAIM = text(
    "INSERT INTO processed_events (platform, event_key, group_id, ts, processed_at) "
    "VALUES (:platform, :key, :group, :ts, :now) ON CONFLICT DO NOTHING RETURNING event_key"
)


def event_key(ev: Event) -> str:
    """The event's natural key within its platform (the dedupe key)."""
    if isinstance(ev, MessagePosted):
        key = f"msg:{ev.group_id}:{ev.message_id}" + (f":edit:{ev.ts}" if ev.edited else "")
    elif isinstance(ev, MemberJoined):
        key = f"join:{ev.group_id}:{ev.event_id}"
    elif isinstance(ev, MemberLeft):
        key = f"leave:{ev.group_id}:{ev.event_id}"
    elif isinstance(ev, MemberRenamed):
        key = f"rename:{ev.group_id}:{ev.event_id}"
    elif isinstance(ev, JoinRequested):
        key = f"request:{ev.group_id}:{ev.request_id}"
    elif isinstance(ev, DirectMessage):
        key = f"dm:{ev.group_id}:{ev.message_id}"
    elif isinstance(ev, ReactionAdded):
        who = ev.member.platform_id if ev.member else ""
        key = f"react:{ev.group_id}:{ev.message_id}:{ev.emoji}:{who}"
    else:
        key = f"group:{ev.group_id}:{ev.name}:{ev.ts}"
    if len(key) > 255:  # keys are ids the platform chose; a very long one is hashed
        key = key[:190] + ":" + hashlib.sha256(key.encode()).hexdigest()
    return key


@dataclass
class Context:
    """What a handler sees: the event, its group's settings, the open transaction."""

    conn: Connection
    platform: Platform
    event: Event
    settings: GroupSettings
    now: float
    key: str
    planned: list[int] = field(default_factory=list)
    #: Payloads of QR codes in the message's images (read before the transaction).
    qr: tuple[str, ...] = ()
    #: False when the event is a message the archive held already: an edit of one
    #: archived before, live or by an import (the archive keeps the first version).
    new_message: bool = True

    @property
    def group_id(self) -> str:
        return self.event.group_id

    def plan(self, kind: str, **kw: Any) -> int:
        """Plan one platform call for this event's group (see :func:`actions.moderation.plan`)."""
        aid = plan(
            self.conn,
            self.platform,
            group_id=self.group_id,
            kind=kind,
            now=self.now,
            event_key=self.key,
            **kw,
        )
        self.planned.append(aid)
        return aid


@dataclass
class _Batch:
    """Planned calls of one group to carry out together (``ids`` may be empty)."""

    platform: Platform
    ids: list[int]
    now: float | None  # ``None``: the clock when the batch runs
    done: asyncio.Future[int] | None  # set when someone waits for it


class _Carrier:
    """Carries out planned calls off the caller's path, in order per group.

    One task per (platform, group) with batches queued: it runs them one after the
    other (``carry_out`` reads each row's status afresh, so a row two batches name is
    carried out once), holding one of the platform's ``concurrency`` slots per batch.
    Cancelling it (a crash, a shutdown past its grace) leaves the rows not carried out
    ``planned``, for :meth:`Pipeline.resume` / :meth:`Pipeline.tick`.
    """

    def __init__(self, run: Callable[[_Batch], Awaitable[int]], concurrency: int) -> None:
        self._run = run
        self.concurrency = max(1, concurrency)
        self._queues: dict[tuple[str, str], deque[_Batch]] = {}
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._queued: set[int] = set()  # ids in a batch queued or under way

    @property
    def pending(self) -> int:
        """Batches queued or under way."""
        return sum(len(q) for q in self._queues.values())

    def submit(self, batch: _Batch, group_id: str) -> None:
        """Queue ``batch``; one nobody waits for leaves out the ids already queued (a
        tick finding rows still planned behind a slow platform does not pile them up).
        That is economy only: a row is carried out once because a group's batches run
        one after the other and ``carry_out`` skips rows no longer ``planned``."""
        if batch.done is None and batch.ids:
            batch.ids = [i for i in batch.ids if i not in self._queued]
            if not batch.ids:
                return
        self._queued.update(batch.ids)
        key = (batch.platform.name, group_id)
        task = self._tasks.get(key)
        if task is not None and task.done():  # cancelled before it ever ran
            self._forget(key)
        self._queues.setdefault(key, deque()).append(batch)
        if key not in self._tasks:
            self._tasks[key] = asyncio.create_task(self._group(key), name=f"carrier {key}")

    async def _group(self, key: tuple[str, str]) -> None:
        queue = self._queues[key]
        slots = self._slots.setdefault(key[0], asyncio.Semaphore(self.concurrency))
        try:
            while queue:
                batch = queue[0]
                try:
                    async with slots:
                        n = await self._run(batch)
                except asyncio.CancelledError:
                    raise
                except BaseException as exc:
                    queue.popleft()
                    self._queued.difference_update(batch.ids)
                    if batch.done is None:
                        log.error("carrying out %s in %s failed", batch.ids, key, exc_info=exc)
                    elif not batch.done.done():
                        batch.done.set_exception(exc)
                    if isinstance(exc, Exception):
                        continue  # the rows stay planned: the tick retries them
                    if batch.done is None:
                        raise
                    return  # the process is going down (its waiter raises it): stop here
                queue.popleft()
                self._queued.difference_update(batch.ids)
                if batch.done is not None and not batch.done.done():
                    batch.done.set_result(n)
        finally:  # no await from here on: a new submit finds no task and starts one
            self._forget(key)

    def _forget(self, key: tuple[str, str]) -> None:
        for batch in self._queues.pop(key, ()):
            self._queued.difference_update(batch.ids)
            if batch.done is not None and not batch.done.done():
                batch.done.cancel()
        self._tasks.pop(key, None)

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until nothing is queued or under way; ``False`` if ``timeout`` ran out."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while running := [t for t in self._tasks.values() if not t.done()]:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            await asyncio.wait(running, timeout=left)
        for key in [k for k, t in self._tasks.items() if t.done()]:
            self._forget(key)
        return True

    async def cancel(self) -> None:
        """Stop at once; calls not made stay planned (a call under way may have happened)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for key in list(self._tasks):
            self._forget(key)


class Pipeline:
    """One per bot process; several adapters may feed the same pipeline."""

    def __init__(
        self,
        store: Store,
        moderate: Moderate,
        settings_for_group: Callable[[str, str], GroupSettings],
        clock: Callable[[], float] = time.time,
        *,
        layer_of: gate_actions.LayerOf | None = None,
        rng: random.Random | None = None,
        db_patience: float = 300.0,
        inline_calls: bool = True,
        carrier_concurrency: int = CARRIER_CONCURRENCY,
        dedupe_days: float = DEDUPE_DAYS,
        dedupe_grace: float = DEDUPE_GRACE,
        console_url: str = "",
    ) -> None:
        self.store = store
        self.moderate = moderate
        self.settings_for_group = settings_for_group
        self.clock = clock
        self.layer_of = layer_of
        self.rng = rng or random.Random()
        self.db_patience = db_patience
        #: Keys of events processed more than this many days ago are forgotten (tick).
        self.dedupe_days = dedupe_days
        self._forget_from = time.monotonic() + dedupe_grace
        self._handlers: list[tuple[int, int, str, Handler]] = []
        self._platforms: dict[str, Platform] = {}
        self._quarrels = QuarrelWatch()
        self._floods = FloodWatch()
        self._notices = NoticeBudget()
        #: ``handle`` waits for its event's calls (``False``: they go out meanwhile).
        self.inline_calls = inline_calls
        self._carrier = _Carrier(self._run_batch, carrier_concurrency)
        self._notify = asyncio.Lock()
        self._db = asyncio.Lock()
        # -- periodic work (see :meth:`tick`) --
        self._tick_jobs: list[tuple[str, TickJob]] = []
        self._concurrent_jobs: set[str] = set()
        self._tick_lock = asyncio.Lock()
        self._tick_pool: ThreadPoolExecutor | None = None
        #: A job slower than this (seconds) is logged with a warning naming it.
        self.tick_budget = TICK_JOB_BUDGET
        #: Seconds the last run of each tick step took, by name (for the console/health).
        self.tick_durations: dict[str, float] = {}
        #: Tick steps whose last run failed: name -> the error, one line.
        self.tick_failures: dict[str, str] = {}
        #: Seconds the last whole tick took (jobs and the calls they planned).
        self.last_tick_seconds = 0.0
        #: Ticks ``run_bot`` skipped because the previous one was still running.
        self.ticks_skipped = 0
        #: The step the running tick is in (``None`` between ticks).
        self.tick_step: str | None = None
        self.register("blocklist", blocklist_handler.handle, priority=5)
        self.register("gate", self._gate, priority=10)
        self.register("moderation", self._moderation, priority=20)
        self.register("appeals", appeals.handle, priority=27)
        self.register("help", help_command.handle, priority=33)
        self.register("activities", activities.handle, priority=35)
        self.register("checkin", checkin.handle, priority=40)
        self.register("faq", faq.handle, priority=45)
        self.register("questions", self._questions, priority=50)
        # Counting for live layers runs right after moderation (whatever it stopped —
        # spam, gate answers — earns nothing) and before the features that stop on
        # their commands (check-in, activities, FAQ), so those still count.
        self.register("layers.count", layers.observe, priority=25)
        self.register("layers", layers.commands, priority=60)
        # Joins are attributed to invite links and fission campaigns after the gate.
        self.register("invites", invites.handle, priority=30)
        self.register_tick("checkin.reminders", checkin.plan_reminders)
        self.register_tick("checkin.weekly", checkin.plan_weekly_awards)
        self.register_tick("activities", activities.tick)
        self.register_tick("faq", faq.tick)
        self.register_tick("layers", layers.tick)
        self.register_tick("content", content.tick)
        self.register_tick("invites", invites.tick)
        self.register_tick("notices", Notices(console_url))
        self.register_tick("blocklist", blocklist.tick)
        # The archive search catches up with new messages a batch per tick. It only
        # derives ``search_docs`` from committed messages (a stale doc is re-indexed,
        # see ``text_len``), so it runs alongside the events.
        self.register_tick("search.index", search_index.tick, exclusive=False)

    # -- public API ---------------------------------------------------------------

    def register(self, name: str, handler: Handler, *, priority: int = 100) -> None:
        """Add a feature handler; lower priority runs first, ties in registration order."""
        self._handlers.append((priority, len(self._handlers), name, handler))
        self._handlers.sort(key=lambda h: (h[0], h[1]))

    def register_tick(self, name: str, job: TickJob, *, exclusive: bool = True) -> None:
        """Add periodic work to :meth:`tick` (run in registration order, each job in a
        transaction of its own, in the tick's thread).

        ``exclusive`` (the default): no event is handled while the job's transaction is
        open, as if the job were an event; for jobs that decide on state events change
        too (gate entries, reminders, strikes ...). ``exclusive=False`` is for jobs that
        only derive data from what is committed (the search index): they run while
        events are handled. On SQLite (one writer) such a job reads and computes without
        any lock (the driver begins the transaction at the first write), and its write
        waits for the event being handled, or an event for its write (keep it short).
        """
        self._tick_jobs.append((name, job))
        if not exclusive:
            self._concurrent_jobs.add(name)

    def attach(self, platform: Platform) -> None:
        """Make ``platform`` known to :meth:`tick` and :meth:`resume` before its first event."""
        self._platforms[platform.name] = platform

    # -- extension hooks (the bot workers use them, see ``shequn.workers.worker``) -----

    #: When set, each planned call is made inside a transaction that first asks
    #: ``fence(conn, action_row)``; ``False`` skips the call (the row stays planned) and
    #: the call's result is written in that same transaction (see ``carry_out``).
    fence: Fence | None = None

    def on_claim(self, conn: Connection, platform: str, event: Event, key: str, now: float) -> None:
        """Called in the event transaction right after the event key is claimed (new or not).

        Raising rolls the whole event back (nothing archived, nothing decided).
        """

    def owned_groups(self, platform: str) -> Collection[str] | None:
        """Groups of ``platform`` whose planned calls :meth:`resume`/:meth:`tick` carry out.

        ``None`` (the default): all of them. A bot worker answers with the groups it leases.
        """
        return None

    def on_error(self, stage: str, exc: BaseException, event: Event) -> None:
        """The one error hook: log and carry on with the next handler and event."""
        log.error("handler %s failed on %s", stage, event_key(event), exc_info=exc)

    async def handle(self, event: Event, platform: Platform) -> bool:
        """Process one event; ``False`` when it was seen before (nothing done again).

        While the database is unreachable the event is held and retried with back-off
        (0.5 s doubling to 8 s) for up to ``db_patience`` seconds; the adapter does not
        acknowledge it meanwhile, so its own queue buffers what follows. When the
        database answers again an alert says how long it was gone. Nothing is lost:
        the event's transaction either committed or left no trace.
        """
        down_since: float | None = None
        delay = 0.5
        while True:
            try:
                done = await self._handle_once(event, platform)
                break
            except DB_UNAVAILABLE as exc:
                t = time.monotonic()
                if down_since is None:
                    down_since = t
                    log.error("database unavailable, holding %s: %s", event_key(event), exc)
                if t - down_since > self.db_patience:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 8.0)
        if down_since is not None:
            self._database_back(platform, event, time.monotonic() - down_since)
        return done

    def _database_back(self, platform: Platform, event: Event, seconds: float) -> None:
        log.warning("database back after %.1f s; %s processed", seconds, event_key(event))
        with self.store.engine.begin() as conn:
            raise_alert(
                conn,
                platform=platform.name,
                group_id=event.group_id,
                kind="database",
                now=self.clock(),
                detail=f"database unavailable for {seconds:.0f} s; events were held, none lost",
            )

    async def _handle_once(self, event: Event, platform: Platform) -> bool:
        self.attach(platform)
        key = event_key(event)
        now = self.clock()
        settings = self.settings_for_group(platform.name, event.group_id)
        qr = await self._scan_images(event, platform) if settings.qr_codes else ()
        # One event transaction at a time: handlers may await while it is open, and a
        # second writer would block the whole loop on SQLite's lock.
        async with self._db, self._begin() as conn:
            claimed = self._claim(conn, platform.name, event, key, now)
            self.on_claim(conn, platform.name, event, key, now)
            if not claimed:
                return False
            writer = ArchiveWriter(conn)
            writer.add(event)
            writer.flush()
            ctx = Context(conn, platform, event, settings, now, key, qr=qr,
                          new_message=writer.stats.messages > 0)  # fmt: skip
            if isinstance(event, DirectMessage):  # no group: only what answers a member
                await appeals.handle_direct(ctx, self.settings_for_group)
            elif not isinstance(event, GroupSeen):
                await self._run_handlers(ctx)
        if self.inline_calls:
            await self._carry_out(platform, now, ctx.planned, group_id=event.group_id)
        else:
            await self._carry_out(platform, None, ctx.planned, group_id=event.group_id, wait=False)
        return True

    async def decide_entry(self, entry_id: int, approve: bool, operator: str) -> list[int]:
        """A person's decision on a ``manual`` gate entry; the audit rows it planned."""
        g = schema.gate_entries
        now = self.clock()
        with self.store.engine.connect() as conn:
            row = conn.execute(select(g.c.platform, g.c.group_id).where(g.c.id == entry_id)).first()
        if row is None:
            raise LookupError(f"no gate entry {entry_id}")
        platform = self._platforms[row.platform]
        settings = self.settings_for_group(row.platform, row.group_id)
        async with self._db, self._begin() as conn:
            ids = gate_actions.decide_manual(
                conn, platform, settings, entry_id, approve, operator, now=now
            )
        await self._carry_out(platform, now, ids)
        return ids

    async def _scan_images(self, event: Event, platform: Platform) -> tuple[str, ...]:
        """QR payloads in a message's images; outside the transaction (downloads are slow).

        Bounded: at most :data:`MEDIA_PER_MESSAGE` images of :data:`qr.MAX_BYTES` each,
        :data:`MEDIA_TIMEOUT` seconds in all; a failed download is logged and skipped.
        """
        if not isinstance(event, MessagePosted) or not event.media:
            return ()
        if Capability.FETCH_MEDIA not in capabilities_of(platform, event.group_id):
            return ()
        payloads: list[str] = []
        try:
            async with asyncio.timeout(MEDIA_TIMEOUT):
                for ref in event.media[:MEDIA_PER_MESSAGE]:
                    try:
                        data = await platform.fetch_media(ref, max_bytes=qr.MAX_BYTES)
                    except PlatformError as exc:
                        log.warning("image %s of %s not checked: %s", ref, event_key(event), exc)
                        continue
                    payloads += await asyncio.to_thread(qr.decode, data)
        except TimeoutError:
            log.warning("images of %s not checked in %ss", event_key(event), MEDIA_TIMEOUT)
        return tuple(payloads)

    @contextlib.asynccontextmanager
    async def _begin(self) -> AsyncIterator[Connection]:
        with self.store.engine.begin() as conn:
            yield conn

    async def _carry_out(
        self,
        platform: Platform,
        now: float | None,
        ids: list[int] | None,
        *,
        group_id: str = "",
        wait: bool = True,
    ) -> int:
        """Hand planned calls (``ids``, or every due one of the owned groups) to the
        carrier, a batch per group; with ``wait`` return how many were done."""
        if ids is None:
            by_group = self._due_by_group(platform.name, self.clock() if now is None else now)
        else:
            by_group = self._groups_of(ids)
        if not by_group and getattr(platform, "notify_human_tasks", None) is not None:
            by_group = {group_id: []}  # nothing to call, but tasks to tell a person about
        batches = []
        for group, group_ids in by_group.items():
            done = asyncio.get_running_loop().create_future() if wait else None
            batches.append(done)
            self._carrier.submit(_Batch(platform, group_ids, now, done), group)
        return sum([await done for done in batches if done is not None])

    async def _run_batch(self, batch: _Batch) -> int:
        platform = batch.platform
        now = self.clock() if batch.now is None else batch.now
        done = 0
        if batch.ids:
            done = await carry_out(self.store, platform, now=now, ids=batch.ids, fence=self.fence)
        # A platform that cannot act by API (WeCom customer groups) tells the
        # responsible person about the tasks its calls became.
        notify = getattr(platform, "notify_human_tasks", None)
        if notify is not None:
            async with self._notify:
                await notify(self.store, now)
        return done

    def _groups_of(self, ids: list[int]) -> dict[str, list[int]]:
        if not ids:
            return {}
        t = schema.bot_actions
        q = select(t.c.id, t.c.group_id).where(t.c.id.in_(ids)).order_by(t.c.id)
        out: dict[str, list[int]] = {}
        with self.store.engine.connect() as conn:
            for r in conn.execute(q):
                out.setdefault(r.group_id, []).append(r.id)
        return out

    def _due_by_group(self, platform: str, now: float) -> dict[str, list[int]]:
        """The planned calls due at ``now`` of the groups :meth:`owned_groups` names."""
        t = schema.bot_actions
        q = (
            select(t.c.id, t.c.group_id)
            .where(
                t.c.platform == platform,
                t.c.status == "planned",
                or_(t.c.not_before.is_(None), t.c.not_before <= now),
            )
            .order_by(t.c.id)
        )
        owned = self.owned_groups(platform)
        wanted = None if owned is None else set(owned)
        out: dict[str, list[int]] = {}
        with self.store.engine.connect() as conn:
            for r in conn.execute(q):
                if wanted is None or r.group_id in wanted:
                    out.setdefault(r.group_id, []).append(r.id)
        return out

    @property
    def calls_pending(self) -> int:
        """Batches of planned calls the carrier has queued or under way."""
        return self._carrier.pending

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until every call handed to the carrier was carried out (or failed and
        stays planned for a retry); ``False`` when ``timeout`` seconds ran out first."""
        return await self._carrier.drain(timeout)

    async def cancel_calls(self) -> None:
        """Stop carrying out now (a shutdown past its grace): what was not called stays
        ``planned`` for the next :meth:`resume`."""
        await self._carrier.cancel()

    async def resume(self) -> int:
        """Carry out every planned action left over (after a crash or a failed call)."""
        now = self.clock()
        return sum([await self._carry_out(p, now, None) for p in self._platforms.values()])

    @property
    def ticking(self) -> bool:
        """A :meth:`tick` is running right now."""
        return self._tick_lock.locked()

    async def tick(self, now: float | None = None) -> None:
        """Periodic work: gate time-outs, mute lifts, every tick job, retries of planned calls.

        The jobs' database and CPU work runs in a thread of its own, one job after the
        other, each in its own transaction (a failing one is logged and rolled back, the
        others go on), so the event loop keeps receiving, handling and carrying out
        meanwhile: an exclusive job holds :attr:`_db` for its transaction only, so events
        wait for that job at most, never for the whole tick. The calls the jobs planned
        are then carried out (through the carrier; with ``inline_calls`` off the tick
        does not wait for them). Ticks never overlap: a second caller
        waits for the running one. Each step's duration is kept in
        :attr:`tick_durations`; one over :attr:`tick_budget` is logged by name.
        A database outage ends the tick (raised) rather than failing every job.
        """
        async with self._tick_lock:
            now = self.clock() if now is None else now
            started = time.monotonic()
            steps: list[tuple[str, TickJob]] = [
                ("gate.expire", lambda conn, p, s, at: gate_actions.expire(conn, dict(p), s, at)),
                ("moderation.unmute", lambda c, p, _s, at: lift_expired_mutes(c, dict(p), at)),
                ("pipeline.forget", lambda conn, _p, _s, at: self._forget(conn, at)),
                *self._tick_jobs,
                ("questions", lambda conn, _p, _s, at: self._old_questions(conn, at)),
            ]
            try:
                for name, job in steps:
                    self.tick_step = name
                    self.tick_durations.pop(name, None)
                    await self._tick_step(name, job, now)
                self.tick_step = "carry_out"
                # Off the event path the tick only hands the due calls to the carrier:
                # a slow platform must not hold the next tick's jobs either.
                for platform in list(self._platforms.values()):
                    await self._carry_out(platform, now, None, wait=self.inline_calls)
            finally:
                self.tick_step = None
                self.last_tick_seconds = time.monotonic() - started
                took = [(self.tick_durations.get(n, 0.0), n) for n, _job in steps]
                log.info("tick took %.2f s (slowest: %s %.2f s)", self.last_tick_seconds,
                         max(took)[1], max(took)[0])  # fmt: skip

    async def _tick_step(self, name: str, job: TickJob, now: float) -> None:
        platforms = dict(self._platforms)

        def run() -> None:
            with self.store.engine.begin() as conn:
                job(conn, platforms, self.settings_for_group, now)

        started = time.monotonic()
        try:
            if name in self._concurrent_jobs:
                await self._off_loop(run)
            else:
                async with self._db:
                    await self._off_loop(run)
            self.tick_failures.pop(name, None)
        except DB_UNAVAILABLE:
            raise
        except Exception as exc:
            self.tick_failures[name] = f"{type(exc).__name__}: {exc}"[:500]
            log.error("tick job %s failed", name, exc_info=exc)
        finally:
            took = self.tick_durations[name] = time.monotonic() - started
            if took > self.tick_budget:
                log.warning("tick job %s took %.1f s (budget %.1f s)", name, took, self.tick_budget)

    async def _off_loop(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` in the tick's own thread (inline for an in-memory SQLite database,
        whose connections are one per thread)."""
        url = self.store.engine.url
        if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
            fn()
            return
        if self._tick_pool is None:
            self._tick_pool = ThreadPoolExecutor(1, thread_name_prefix="shequn-tick")
        await asyncio.get_running_loop().run_in_executor(self._tick_pool, fn)

    def _forget(self, conn: Connection, now: float) -> int:
        """Forget the oldest keys processed before the dedupe horizon (see
        :data:`DEDUPE_DAYS`), at most :data:`FORGET_BATCH` of them; none while the
        process is younger than its grace period."""
        if time.monotonic() < self._forget_from:
            return 0
        p = schema.processed_events
        old = (
            select(p.c.platform, p.c.event_key)
            .where(p.c.processed_at < now - self.dedupe_days * 86400)
            .order_by(p.c.processed_at)
            .limit(FORGET_BATCH)
        )
        gone = conn.execute(delete(p).where(tuple_(p.c.platform, p.c.event_key).in_(old)))
        return int(gone.rowcount or 0)

    # -- stages -------------------------------------------------------------------

    def _claim(self, conn: Connection, platform: str, ev: Event, key: str, now: float) -> bool:
        ts = getattr(ev, "ts", None) or now
        params = {"platform": platform, "key": key, "group": ev.group_id, "ts": ts, "now": now}
        return conn.execute(_CLAIM, params).first() is not None

    async def _run_handlers(self, ctx: Context) -> None:
        for _prio, _n, name, handler in list(self._handlers):
            mark = len(ctx.planned)
            try:
                with ctx.conn.begin_nested():
                    stop = await handler(ctx)
            except Exception as exc:
                del ctx.planned[mark:]  # rolled back with the savepoint
                self.on_error(name, exc, ctx.event)
                continue
            if stop:
                return

    async def _gate(self, ctx: Context) -> bool:
        ev, s = ctx.event, ctx.settings
        if isinstance(ev, MemberJoined):
            if ev.member.is_operator or ev.member.is_bot or ev.member.platform_id in s.exempt:
                return False
            ctx.planned += gate_actions.member_joined(
                ctx.conn,
                ctx.platform,
                s,
                group_id=ev.group_id,
                member=ev.member,
                ts=ev.ts,
                now=ctx.now,
                rng=self.rng,
                layer_of=self.layer_of,
                event_key=ctx.key,
            )
            return False
        if isinstance(ev, MemberLeft):
            gate_actions.member_left(
                ctx.conn, ctx.platform.name, ev.group_id, ev.member.platform_id, ctx.now
            )
            return False
        if isinstance(ev, MemberRenamed):
            ctx.planned += gate_actions.renamed(
                ctx.conn, ctx.platform, s, ev.group_id, ev.member, ev.new_name, ctx.now, ctx.key
            )
            return False
        if isinstance(ev, JoinRequested):
            ctx.planned += gate_actions.join_request(
                ctx.conn,
                ctx.platform,
                s,
                ev,
                now=ctx.now,
                layer_of=self.layer_of,
                event_key=ctx.key,
            )
            return True
        if isinstance(ev, MessagePosted) and ev.sender is not None:
            entry = gate_actions.pending_entry(
                ctx.conn, ctx.platform.name, ev.group_id, ev.sender.platform_id
            )
            if entry is None:
                return False
            ctx.planned += gate_actions.answer(
                ctx.conn, ctx.platform, s, entry, ev, now=ctx.now, event_key=ctx.key
            )
            return True  # an answer to the gate is nobody else's business
        return False

    async def _moderation(self, ctx: Context) -> bool:
        ev, s = ctx.event, ctx.settings
        if not isinstance(ev, MessagePosted) or ev.sender is None:
            return False
        sender = ev.sender
        if sender.is_bot or sender.is_operator or sender.platform_id in s.exempt:
            return False  # staff and trusted members are not moderated
        if not ev.text and ev.kind == MessageKind.TEXT:
            return False
        extra: dict[str, Any] = {"allow": s.allow} if s.allow else {}
        if ctx.qr:
            extra["qr"] = ctx.qr
        verdict = self._floods.feed(
            ctx.platform.name, ev.group_id, sender.platform_id, ev.ts, ev.text,
            flood_messages=s.flood_messages, flood_seconds=s.flood_seconds,
            duplicate_groups=s.duplicate_groups, duplicate_seconds=s.duplicate_seconds,
        ) or self.moderate(ev.text, ev.kind.value, len(ev.mentions), **extra)  # fmt: skip
        quarrel = self._quarrels.feed(
            (ctx.platform.name, ev.group_id),
            ev.ts,
            sender.platform_id,
            ev.message_id,
            verdict.verdict == "abuse" or is_abusive(ev.text),
            window=s.quarrel_window,
            need=s.quarrel_messages,
        )
        if quarrel:
            raise_alert(
                ctx.conn,
                platform=ctx.platform.name,
                group_id=ev.group_id,
                kind="quarrel",
                now=ctx.now,
                member_id=sender.platform_id,
                message_ids=quarrel,
                detail=ev.text[:500],
            )
        if verdict.uncertain:
            raise_alert(
                ctx.conn,
                platform=ctx.platform.name,
                group_id=ev.group_id,
                kind="uncertain",
                now=ctx.now,
                member_id=sender.platform_id,
                message_ids=[ev.message_id],
                detail=f"{verdict.verdict} {verdict.score:.2f}: {ev.text[:500]}",
            )
            return False
        rule = verdict.verdict
        if rule == "ok" or rule not in s.act_labels or verdict.score < s.act_threshold:
            return False
        return self._strike(ctx, ev, verdict)

    def _strike(self, ctx: Context, ev: MessagePosted, verdict: Verdict) -> bool:
        s, sender, rule = ctx.settings, ev.sender, verdict.verdict
        assert sender is not None
        mid = sender.platform_id
        before = active_strikes(ctx.conn, ctx.platform.name, ev.group_id, mid, ctx.now)
        evidence = {
            "message_id": ev.message_id,
            "text": ev.text[:2000],
            "verdict": rule,
            "score": verdict.score,
            "reasons": [[r.detector, r.detail, r.weight] for r in verdict.reasons],
        }
        sid = add_strike(
            ctx.conn,
            platform=ctx.platform.name,
            group_id=ev.group_id,
            member_id=mid,
            rule=rule,
            message_id=ev.message_id,
            evidence=evidence,
            now=ctx.now,
            ttl_days=s.strike_days,
        )
        step = step_for(before, rule, s.ladder, s.ladder_by_rule)
        common: dict[str, Any] = dict(
            member_id=mid, reason=f"strike.{rule}", evidence=evidence, strike_id=sid
        )
        ctx.plan("delete", params={"message_id": ev.message_id}, **common)
        penalty = None
        if step.kind == "mute":
            penalty = ctx.plan("mute", params={"seconds": step.seconds}, **common)
        elif step.kind != "warn":
            penalty = ctx.plan(step.kind, **common)
        notice = strike_notice(
            step,
            lang=s.language,
            name=sender.name or mid,
            rule=rule,
            n=before + 1,
            appeals=s.appeals,
            direct_messages=getattr(ctx.platform, "direct_messages", False),
            # a step a person has to carry out is announced by them, not ahead of them
            announce=s.announce_penalties
            and (step.kind == "warn" or can_call(ctx.platform, ev.group_id, step.kind)),
        )
        if notice is not None and self._notices.take(
            ctx.platform.name, ev.group_id, ctx.now, s.notices_per_minute
        ):  # a penalty's notice is said once the penalty is made
            after = {} if penalty is None else {"after": penalty}
            ctx.plan("send", params={"text": notice, **after}, **common)
        elif notice is not None:  # a raid: the strike stands, unannounced
            log.info("strike notice in %s held back: %s a minute said already", ev.group_id,
                     s.notices_per_minute)  # fmt: skip
        self._purge(ctx, ev, mid, verdict, step.kind, sid)
        if blocklist.lists(s, step.kind, rule, (r.detector for r in verdict.reasons)):
            entry = blocklist.add(
                ctx.conn, platform=ctx.platform.name, member_id=mid, now=ctx.now,
                member_name=sender.name, group_id=ev.group_id, rule=rule, strike_id=sid,
                action_id=penalty, evidence=evidence,
            )  # fmt: skip
            if entry is not None:  # out of the member's other groups too
                ctx.planned += blocklist.sweep(
                    ctx.conn, ctx.platform, entry, self.settings_for_group, now=ctx.now,
                    event_key=ctx.key,
                )  # fmt: skip
        return True  # the message is gone: no FAQ answer, no question watch

    def _purge(
        self, ctx: Context, ev: MessagePosted, mid: str, verdict: Verdict, step: str, sid: int
    ) -> None:
        """Recall what the member left behind: their recent messages here when the step
        removes them, the earlier copies elsewhere when the verdict is a spam run."""
        why = purge.Purge(
            ctx.now, {"purge_of": ev.message_id, "group": ev.group_id, "verdict": verdict.verdict},
            ctx.key, sid, frozenset({(ev.group_id, ev.message_id)}),
        )  # fmt: skip
        if step in ("kick", "ban"):
            ctx.planned += purge.recall_recent(
                ctx.conn, ctx.platform, mid, [ev.group_id], self.settings_for_group, why
            )
        if any(r.detector == "cross_group" for r in verdict.reasons):
            ctx.planned += purge.recall_copies(
                ctx.conn, ctx.platform, mid, ev.text, ctx.settings.duplicate_seconds,
                self.settings_for_group, why,
            )  # fmt: skip

    async def _questions(self, ctx: Context) -> bool:
        # The question watch: close answered questions, queue new ones for humans.
        return faq.watch(ctx)

    def _old_questions(self, conn: Connection, now: float) -> None:
        """Nothing: questions left unanswered are escalated by the ``faq`` tick job."""
