"""The clean-up's (清理) search for a member's recent messages on a large archive.

    .venv/bin/python bench/purge.py [--messages 1000000] [--repeat 30] [--pg URL]

Builds an archive of ``--messages`` messages from 5,000 members in 50 groups (SQLite in
a temporary folder, or the PostgreSQL at ``--pg``), then times, for random members,
:func:`shequn.actions.purge.recent` (the newest ``SCAN`` messages by id only) beside the
same query over the whole table, which is what a purge would cost without the bound
(``messages`` has no index by member, on purpose: it would slow imports). Medians and
the ratio are printed; both run in the same process on the same archive.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from shequn.actions import purge  # noqa: E402
from shequn.store import Store, open_store  # noqa: E402

T0 = 1_790_000_000.0
_UNBOUNDED = text(
    """
    SELECT g.platform_id, m.platform_id, m.ts, m.text
      FROM messages m JOIN groups g ON g.id = m.group_id
     WHERE m.member_id = (SELECT id FROM members
                           WHERE platform = :platform AND platform_id = :member_id)
       AND m.ts >= :since
     ORDER BY m.id
    """
)


def build(url: str, n: int) -> Store:
    store = open_store(url)
    rng = random.Random(1)
    with store.engine.begin() as c:
        c.execute(
            text("INSERT INTO groups (platform, platform_id, name, kind) VALUES (:p, :g, '', '')"),
            [{"p": "fake", "g": f"g{i}"} for i in range(1, 51)],
        )
        c.execute(
            text(
                "INSERT INTO members (platform, platform_id, name, is_bot, is_operator)"
                " VALUES ('fake', :m, '', false, false)"
            ),
            [{"m": f"u{i}"} for i in range(1, 5001)],
        )
        insert = text(
            "INSERT INTO messages (group_id, platform_id, member_id, ts, kind, text,"
            " forwarded, edited, n_mentions)"
            " VALUES (:g, :p, :m, :ts, 'text', :t, false, false, 0)"
        )
        for start in range(0, n, 100_000):
            c.execute(insert, [
                {"g": rng.randint(1, 50), "p": f"m{i}", "m": rng.randint(1, 5000),
                 "ts": T0 + i * 0.1, "t": "今天的活动几点开始 hello"}
                for i in range(start, min(n, start + 100_000))
            ])  # fmt: skip
    return store


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--pg", help="a PostgreSQL URL (an empty database) instead of SQLite")
    args = ap.parse_args()
    url = args.pg or f"sqlite:///{tempfile.mkdtemp()}/purge.db"
    started = time.perf_counter()
    store = build(url, args.messages)
    if args.pg:  # the statistics autovacuum keeps on a live archive
        with store.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    print(f"archive: {args.messages:,} messages ({time.perf_counter() - started:.0f} s to build)")
    now = T0 + args.messages * 0.1
    since = now - 30 * 60  # the default purge_minutes
    rng = random.Random(2)
    bounded, unbounded = [], []
    with store.engine.connect() as conn:
        for _ in range(args.repeat):
            member = f"u{rng.randint(1, 5000)}"
            t = time.perf_counter()
            found = purge.recent(conn, "fake", member, since)
            bounded.append(time.perf_counter() - t)
            t = time.perf_counter()
            every = conn.execute(
                _UNBOUNDED, {"platform": "fake", "member_id": member, "since": since}
            ).all()
            unbounded.append(time.perf_counter() - t)
            assert len(found) == len(every), "the bound missed messages inside the window"
    b, u = statistics.median(bounded) * 1000, statistics.median(unbounded) * 1000
    print(f"recent() over the newest {purge.SCAN:,} ids: median {b:.1f} ms")
    print(f"the same query over the whole table:    median {u:.1f} ms  ({u / b:.0f}x)")
    store.close()


if __name__ == "__main__":
    main()
