"""Several bot workers on one PostgreSQL: capacity, latency, kill -9, against 1 worker.

    .venv/bin/python bench/workers.py [--seconds 60] [--rate 15] [--workers 1,2,4]

For each worker count, in a fresh database on the same server and in the same run:

1. **capacity**: a backlog of ``--backlog`` events sits in the inbox, the workers
   start, and the time to drain it gives events/s (the most they can do);
2. **sustained load**: ``--members`` simulated members post across ``--groups``
   groups at ``--rate`` events/s for ``--seconds`` (one in ``--ad-every`` an ad that
   is deleted and warned about), received into the inbox by one receiver as in
   production. With more than one worker, one is killed with SIGKILL at half time
   and restarted a second later. Reported: p50/p99 from inbox to the delete call,
   p50/p99 from inbox to done, events lost, decisions and calls doubled, the time
   until the dead worker's groups were held again.

Ratios are to the single-worker run. Workers are ``python -m shequn.workers.loadsim``
(the real worker loop and pipeline, a stand-in moderator, a platform that records
calls to a file). Uses ``SHEQUN_TEST_PG_URL`` or ``--pg``; without either it starts a
throwaway PostgreSQL (fsync on, as in production) and stops it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from shequn.events import MemberRef, MessagePosted
from shequn.platforms.port import FakePlatform
from shequn.store import Store, open_store, resolve_url, schema
from shequn.workers import Leases, Receiver
from shequn.workers.inbox import lease_key
from shequn.workers.loadsim import read_calls


@contextlib.contextmanager
def throwaway_pg() -> Iterator[str]:
    """initdb + pg_ctl as user postgres in /tmp on a free port, as scripts/test.sh does."""
    pgbin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = Path(tempfile.mkdtemp(prefix="shequn-bench-pg."))
    shutil.chown(data, "postgres")

    def pg(*args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            check=True,
            cwd="/",
            stdout=subprocess.DEVNULL,
        )

    pg(str(pgbin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
    opts = f"-p {port} -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200"
    pg(str(pgbin / "pg_ctl"), "-D", str(data), "-l", str(data / "log"), "-w", "-o", opts, "start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        pg(str(pgbin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(data, ignore_errors=True)


@contextlib.contextmanager
def database(server: str) -> Iterator[tuple[str, Store]]:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(resolve_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.rsplit("/", 1)[0] + f"/{name}"
    store = open_store(url)
    try:
        yield url, store
    finally:
        store.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


class Members:
    """Simulated members posting in groups; one message in ``ad_every`` is an ad."""

    def __init__(self, groups: int, members: int, ad_every: int, seed: int = 7) -> None:
        self.groups, self.members, self.ad_every = groups, members, ad_every
        self.rng = random.Random(seed)
        self.n = 0

    def next(self) -> MessagePosted:
        self.n += 1
        g = f"g{self.rng.randrange(self.groups)}"
        m = self.rng.randrange(self.members)
        who = MemberRef(f"u{m}", f"成员{m}")
        ad = self.n % self.ad_every == 0
        body = f"加微信 w{self.n:07d} 领福利" if ad else f"第 {self.n} 条: 今天大家好吗"
        return MessagePosted("fake", g, f"m{self.n}", time.time(), who, body)


_SPAWNED: list[subprocess.Popen[bytes]] = []


@atexit.register
def _reap() -> None:
    """Workers of an interrupted run do not outlive it."""
    for p in _SPAWNED:
        if p.poll() is None:
            p.kill()


def spawn(url: str, wid: str, calls: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shequn.workers.loadsim",
            "--db",
            url,
            "--id",
            wid,
            "--calls",
            str(calls),
        ]
    )
    _SPAWNED.append(proc)
    return proc


def held_by(store: Store, wid: str) -> set[str]:
    gl = schema.group_leases
    with store.engine.connect() as conn:
        return set(conn.execute(select(gl.c.group_id).where(gl.c.worker == wid)).scalars())


def pending(store: Store) -> int:
    t = schema.inbox
    with store.engine.connect() as conn:
        q = select(func.count()).select_from(t).where(t.c.status == "pending")
        return int(conn.execute(q).scalar_one())


def wait(cond: Any, timeout: float, step: float = 0.05) -> float:
    start = time.monotonic()
    while not cond():
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"not within {timeout} s")
        time.sleep(step)
    return time.monotonic() - start


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes (and their children) so far."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc = psutil.Process(pid)
            for p in [proc, *proc.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    t = p.cpu_times()
                    total += t.user + t.system
    return total


def postmaster(server: str) -> int:
    """The pid of the PostgreSQL server listening on ``server``'s port."""
    port = make_url(server).port or 5432
    for c in psutil.net_connections(kind="tcp"):
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port and c.pid:
            return int(c.pid)
    raise LookupError(f"no process listens on port {port}")


def start_workers(url: str, store: Store, n: int, work: Path) -> list[tuple[str, Any]]:
    procs = [(f"w{i}", spawn(url, f"w{i}", work / f"w{i}.jsonl")) for i in range(n)]
    wait(lambda: all(held_by(store, w) for w, _ in procs), 60)
    return procs


def stop_workers(procs: list[tuple[str, Any]]) -> None:
    for _, p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for _, p in procs:
        p.wait(30)


def receiver_rate(server: str, args: argparse.Namespace, n: int = 2000) -> float:
    """Events/s one receiver persists, one commit per event (nothing else running)."""
    with database(server) as (_url, store):
        receive, platform = Receiver(store), FakePlatform()
        sim = Members(args.groups, args.members, args.ad_every)
        events = [sim.next() for _ in range(n)]

        async def go() -> float:
            t0 = time.perf_counter()
            for ev in events:
                await receive(ev, platform)
            return time.perf_counter() - t0

        return n / asyncio.run(go())


def lease_ops(server: str, groups: int) -> None:
    """Time the lease operations with ``groups`` groups and two workers."""
    with database(server) as (url, store):
        rows = [
            {
                "platform": "tg",
                "group_id": f"-100{i}",
                "first_seen": 0.0,
                "lease_key": lease_key("tg", f"-100{i}"),
            }
            for i in range(groups)
        ]
        with store.engine.begin() as conn:
            conn.execute(insert(schema.group_leases), rows)
        a, b = Leases(url, "a"), Leases(url, "b")
        try:

            def timed(label: str, leases: Leases) -> None:
                t0 = time.perf_counter()
                taken, given = leases.rebalance(0.0)
                print(
                    f"  {label:44s} {time.perf_counter() - t0:6.3f} s  "
                    f"(took {len(taken)}, gave back {len(given)})"
                )

            print(f"lease operations with {groups} groups:")
            timed("one worker takes every group", a)
            timed("steady rebalance, nothing to change", a)
            b.workers()  # a second worker appears
            timed("the first gives back the second's share", a)
            timed("the second takes its share", b)
            b.close()  # and dies
            timed("the survivor takes over the dead's share", a)
        finally:
            a.close()
            b.close()


def capacity(server: str, n: int, args: argparse.Namespace) -> tuple[float, float, float]:
    """Events/s draining a backlog already in the inbox; worker and server CPU ms/event."""
    with database(server) as (url, store):
        work = Path(tempfile.mkdtemp(prefix="shequn-bench-w."))
        receive, platform, sim = (
            Receiver(store),
            FakePlatform(),
            Members(args.groups, args.members, args.ad_every),
        )
        for _ in range(args.backlog):
            asyncio.run(receive(sim.next(), platform))
        pg = postmaster(server)
        pg0 = cpu_seconds([pg])
        procs = start_workers(url, store, n, work)
        w0 = cpu_seconds([p.pid for _, p in procs])  # start-up (imports) not counted
        done0 = args.backlog - pending(store)
        wait(lambda: pending(store) == 0, 600, 0.1)
        w_ms = (cpu_seconds([p.pid for _, p in procs]) - w0) * 1000 / (args.backlog - done0)
        pg_ms = (cpu_seconds([pg]) - pg0) * 1000 / args.backlog
        stop_workers(procs)
        t = schema.inbox
        with store.engine.connect() as conn:
            first, last = conn.execute(select(func.min(t.c.done_at), func.max(t.c.done_at))).one()
        elapsed = last - first  # from the first event done: process start-up not counted
        shutil.rmtree(work, ignore_errors=True)
    return args.backlog / elapsed, w_ms, pg_ms


def sustained(server: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    with database(server) as (url, store):
        work = Path(tempfile.mkdtemp(prefix="shequn-bench-w."))
        receive, platform = Receiver(store), FakePlatform()
        sim = Members(args.groups, args.members, args.ad_every)
        for g in range(args.groups):  # every group known before the workers start
            asyncio.run(
                receive(
                    MessagePosted("fake", f"g{g}", f"hello{g}", time.time(), MemberRef("op"), "hi"),
                    platform,
                )
            )
        procs = start_workers(url, store, n, work)
        wait(lambda: pending(store) == 0, 120, 0.1)  # the warm-up rows are not measured
        time.sleep(2 * 1.0)  # and the leases have settled (two rebalance periods)
        out: dict[str, Any] = {"takeover_s": None, "insert_ms": []}
        kill_at = args.seconds / 2 if n > 1 else None

        async def load() -> None:
            t0 = time.monotonic()
            sent = 0
            while (el := time.monotonic() - t0) < args.seconds:
                while sent < el * args.rate:
                    s = time.perf_counter()
                    await receive(sim.next(), platform)
                    out["insert_ms"].append((time.perf_counter() - s) * 1000)
                    sent += 1
                if kill_at is not None and el >= kill_at and out["takeover_s"] is None:
                    wid, victim = procs[0]
                    orphans = held_by(store, wid)
                    victim.send_signal(signal.SIGKILL)
                    victim.wait()
                    out["takeover_s"] = wait(
                        lambda w=wid, o=orphans: not (held_by(store, w) & o), 60, 0.02
                    )
                    procs.append(
                        ("w-restarted", spawn(url, "w-restarted", work / "w-restarted.jsonl"))
                    )
                await asyncio.sleep(0.002)

        asyncio.run(load())
        drain = wait(lambda: pending(store) == 0, 600, 0.1)
        time.sleep(3)  # the last sweeps
        stop_workers(procs)
        calls = read_calls([str(p) for p in work.glob("*.jsonl")])
        t, pe, a = schema.inbox, schema.processed_events, schema.bot_actions
        with store.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.event_key, t.c.status, t.c.received_at, t.c.done_at)
            ).all()
            keys = Counter(conn.execute(select(pe.c.event_key)).scalars())
            actions = conn.execute(select(a)).all()
        received = {r.event_key: r.received_at for r in rows}
        out["events"] = len(rows)
        out["lost"] = sum(1 for r in rows if r.status != "done" or keys[r.event_key] != 1)
        out["decisions_doubled"] = sum(
            c - 1 for c in Counter((x.event_key, x.kind) for x in actions).values() if c > 1
        )
        out["planned_left"] = sum(1 for x in actions if x.status == "planned")
        deletes = Counter((c["group_id"], c["message_id"]) for c in calls if c["call"] == "delete")
        out["calls_doubled"] = sum(c - 1 for c in deletes.values() if c > 1)
        sends = Counter((c["group_id"], c["text"]) for c in calls if c["call"] == "send")
        decided = Counter(
            (x.group_id, json.loads(x.params)["text"]) for x in actions if x.kind == "send"
        )
        out["calls_doubled"] += sum(max(0, c - decided[k]) for k, c in sends.items())
        first_delete: dict[tuple[str, str], float] = {}
        for c in calls:
            if c["call"] == "delete":
                k = (c["group_id"], c["message_id"])
                first_delete[k] = min(first_delete.get(k, c["t"]), c["t"])
        out["to_action_ms"] = [
            (tt - received[f"msg:{g}:{m}"]) * 1000 for (g, m), tt in first_delete.items()
        ]
        out["to_done_ms"] = [
            (r.done_at - r.received_at) * 1000
            for r in rows
            if r.done_at and ":hello" not in r.event_key
        ]
        out["drain_after_s"] = drain
        shutil.rmtree(work, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--rate", type=float, default=15.0, help="events/s, all groups together")
    ap.add_argument("--groups", type=int, default=200)
    ap.add_argument("--members", type=int, default=5000)
    ap.add_argument("--ad-every", type=int, default=20)
    ap.add_argument("--backlog", type=int, default=1000)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--leases", type=int, default=10_000, help="groups for the lease timings")
    ap.add_argument("--pg", default=None, help="a PostgreSQL server URL (…/postgres)")
    args = ap.parse_args()

    server = args.pg or os.environ.get("SHEQUN_TEST_PG_URL")
    with contextlib.ExitStack() as stack:
        if server is None:
            server = stack.enter_context(throwaway_pg())
        counts = [int(x) for x in args.workers.split(",")]
        print(f"load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(
            f"server {server.rsplit('@', 1)[-1]}; {args.groups} groups, {args.members} "
            f"members, {args.rate:g} events/s for {args.seconds:g} s, one ad in "
            f"{args.ad_every}; capacity from a {args.backlog}-event backlog"
        )
        lease_ops(server, args.leases)
        print(f"receiver alone   {receiver_rate(server, args):8.1f} events/s into the inbox")
        base_cap = base_p50 = None
        for n in counts:
            cap, w_ms, pg_ms = capacity(server, n, args)
            r = sustained(server, n, args)
            base_cap = base_cap or cap
            p50 = pct(r["to_action_ms"], 0.5)
            base_p50 = base_p50 or p50
            take = f"{r['takeover_s']:.2f} s" if r["takeover_s"] is not None else "-"
            print(f"\n== {n} worker{'s' if n > 1 else ''}")
            print(f"capacity         {cap:8.1f} events/s   ×{cap / base_cap:.2f} of 1 worker")
            print(f"CPU per event    workers {w_ms:.1f} ms   PostgreSQL server {pg_ms:.1f} ms")
            print(
                f"inbox insert     p50 {pct(r['insert_ms'], 0.5):.2f} ms  p99 "
                f"{pct(r['insert_ms'], 0.99):.2f} ms  (one receiver, one commit each)"
            )
            print(
                f"inbox → delete   p50 {p50:.0f} ms  p99 {pct(r['to_action_ms'], 0.99):.0f} ms"
                f"   p50 ×{p50 / base_p50:.2f} of 1 worker  (n={len(r['to_action_ms'])})"
            )
            print(
                f"inbox → done     p50 {pct(r['to_done_ms'], 0.5):.0f} ms  p99 "
                f"{pct(r['to_done_ms'], 0.99):.0f} ms"
            )
            print(
                f"events {r['events']}  lost {r['lost']}  decisions doubled "
                f"{r['decisions_doubled']}  calls doubled {r['calls_doubled']}  planned left "
                f"{r['planned_left']}"
            )
            print(
                f"kill -9 at half time: groups held again after {take}; backlog drained "
                f"{r['drain_after_s']:.1f} s after the load stopped"
            )
        print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
