"""Store benchmarks: outbox throughput, then history search/count latency over a big history.

Usage: python bench/bench_store.py [HISTORY_ROWS] [--cache DIR]   (default 1,000,000 deliveries)

Prints figures only; nothing here asserts. Runs in a temporary folder; with ``--cache`` the
history is built once in DIR (a minute or two for a million deliveries) and reused after.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, when run from a checkout

from quarterdeck.core.models import Message
from quarterdeck.core.store import Store, count, search
from quarterdeck.core.store.queueing import priority_rank
from quarterdeck.core.store.rows import to_db_time

AGENTS = [f"Agent-{n}" for n in range(1, 9)]
STATES = ["delivered"] * 90 + ["failed"] * 6 + ["cancelled"] * 3 + ["uncertain"]
RARE = "zephyrquartz"


def _words(rng: random.Random) -> list[str]:
    syllables = ["ka", "lo", "mi", "ren", "tas", "vo", "quel", "dri", "sun", "pe", "tor", "ax"]
    return ["".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(3000)]


def throughput(folder: Path, n: int = 300) -> None:
    with Store(folder / "throughput.sqlite3") as store:
        started = time.perf_counter()
        for i in range(n):
            store.enqueue(Message(sender="captain", content=f"task {i}"), [("Agent-1", "dryrun")])
        enqueued = time.perf_counter()
        for _ in range(n):
            task = store.claim_next()
            store.mark_delivered(task.delivery_id, 1.0)
        done = time.perf_counter()
        broadcast_start = time.perf_counter()
        for i in range(n // 10):
            store.enqueue(Message(sender="captain", content=f"all hands {i}"), [(a, "dryrun") for a in AGENTS])
        broadcast = time.perf_counter() - broadcast_start
    enqueue_s, cycle_s = enqueued - started, done - enqueued
    print(f"outbox (synchronous=FULL, one commit each): {n} messages")
    print(f"  enqueue 1 recipient      {n / enqueue_s:8.0f} /s   {enqueue_s / n * 1e3:6.2f} ms each")
    print(f"  claim + mark_delivered   {n / cycle_s:8.0f} /s   {cycle_s / n * 1e3:6.2f} ms each")
    print(f"  enqueue 8-agent broadcast {n // 10 / broadcast:7.0f} /s   {broadcast / (n // 10) * 1e3:6.2f} ms each")
    total = enqueue_s + cycle_s
    print(f"  full cycle (enqueue+claim+mark) {n / total:.0f} messages/s")


def build_history(store: Store, deliveries: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    words = _words(rng)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    step = timedelta(days=180) / deliveries
    messages, rows = [], []
    seq = 0
    while len(rows) < deliveries:
        seq += 1
        body = " ".join(rng.choice(words) for _ in range(rng.randint(8, 30)))
        if seq % 50_000 == 0:
            body += f" {RARE}"
        if seq % 97 == 0:
            body += " 你好世界 🚀 café"
        moment = to_db_time(start + step * len(rows))
        priority = "urgent" if seq % 10 == 0 else "normal"
        message_id = f"m{seq:09d}"
        recipients = rng.sample(AGENTS, rng.choice([1, 1, 1, 2, 4, 8]))
        messages.append((message_id, "captain", "captain", "text", priority, "[]", json.dumps(recipients),
                         body, 0, moment))
        for agent in recipients:
            state = rng.choice(STATES)
            rows.append((message_id, agent, "dryrun", priority, priority_rank(priority), state,
                         "timeout" if state == "failed" else None, 1, moment, moment, moment, moment,
                         rng.uniform(20, 900) if state == "delivered" else None))
    rows = rows[:deliveries]
    conn = store.connection()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO messages (id, sender, sender_kind, type, priority, tags, recipients, content, "
                     "redacted, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)", messages)
    conn.executemany("INSERT INTO deliveries (message_id, agent_id, transport, priority, prio, state, reason, "
                     "attempts, created_at, updated_at, started_at, finished_at, latency_ms) "
                     "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    conn.execute("COMMIT")
    return len(messages)


def ensure_history(cache: Path, deliveries: int) -> Path:
    """``cache/history-N.sqlite3`` with ``deliveries`` rows of :func:`build_history`, built the
    first time (under another name until complete, so an interrupted build is not reused)."""
    path = cache / f"history-{deliveries}.sqlite3"
    if path.exists():
        print(f"history: {deliveries:,} deliveries reused from {path}")
        return path
    cache.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".building")
    for stale in cache.glob(partial.name + "*"):
        if stale.is_file():
            stale.unlink()
    started = time.perf_counter()
    with Store(partial) as store:
        messages = build_history(store, deliveries)
        store.connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    partial.rename(path)
    print(f"history: built {deliveries:,} deliveries over {messages:,} messages (with FTS) in "
          f"{time.perf_counter() - started:.0f} s, kept in {path}")
    return path


def timed(fn, repeat: int = 5) -> tuple[float, object]:
    samples, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(samples), result


def latency(store: Store, deliveries: int) -> None:
    last_day = datetime(2025, 6, 29, tzinfo=UTC)
    cases = [
        ("no filter", {}),
        ("agent", {"agent": "Agent-3"}),
        ("state=uncertain (1%)", {"state": "uncertain"}),
        ("agent + state=failed", {"agent": "Agent-3", "state": "failed"}),
        ("last day", {"since": last_day}),
        ("agent + last day", {"agent": "Agent-3", "since": last_day}),
        ("text, rare word", {"text": RARE}),
        ("text, common word", {"text": "kalo"}),
        ("text, CJK+emoji (2 chars, LIKE)", {"text": "你好 🚀"}),
        ("text, awkward quotes/AND/*", {"text": 'AND "kalo (* OR'}),
        ("agent + rare word", {"agent": "Agent-3", "text": RARE}),
    ]
    print(f"history over {deliveries:,} deliveries: median of 5, ms")
    print(f"  {'filter':34} {'count':>9} {'count ms':>9} {'<=1000 ms':>10} {'page0 ms':>9} {'page@10k ms':>12}")
    for label, filters in cases:
        count_ms, total = timed(lambda f=filters: count(store, **f))
        capped_ms, _ = timed(lambda f=filters: count(store, at_most=1000, **f))
        page_ms, _ = timed(lambda f=filters: search(store, limit=100, **f))
        deep_ms, _ = timed(lambda f=filters: search(store, limit=100, offset=10_000, **f))
        print(f"  {label:34} {total:>9,} {count_ms:9.1f} {capped_ms:10.1f} {page_ms:9.1f} {deep_ms:12.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("deliveries", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--cache", type=Path, help="build the history once in this folder and reuse it")
    args = parser.parse_args()
    deliveries = args.deliveries
    with tempfile.TemporaryDirectory(prefix="qd-bench-") as tmp:
        folder = Path(tmp)
        throughput(folder)
        if args.cache is not None:
            with Store(ensure_history(args.cache, deliveries)) as store:
                latency(store, deliveries)
            return
        with Store(folder / "history.sqlite3") as store:
            t0 = time.perf_counter()
            messages = build_history(store, deliveries)
            built = time.perf_counter() - t0
            store.connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
            size = sum(p.stat().st_size for p in folder.glob("history.sqlite3*")) / 2**20
            print(f"built {deliveries:,} deliveries over {messages:,} messages (with FTS) in {built:.1f} s, "
                  f"{size:.0f} MiB on disk")
            latency(store, deliveries)


if __name__ == "__main__":
    main()
