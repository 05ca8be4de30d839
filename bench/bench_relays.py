"""Relays over Redis Streams on loopback (issue 14 "Speed"): a real redis-server with AOF, RELAYS
``quarterdeck relay`` processes with AGENTS inbox agents each, and the captain as a separate process
on the public path (``Session.open(broker_url=..., relays=True)``, ``session.submit_many``, a
``DeliveryWorker``: the forwarder XADDs, the relays deliver, their receipts come back).

Part 1, at each of RATES: RATE messages a second for SECONDS, one agent each, round robin, queued
with ``session.submit_many`` every BATCH_MS (the messages due by then, one transaction; 0: one
each when due). Latency per delivery is enqueue -> the delivered receipt recorded at the captain
(the outbox row's ``created_at`` -> ``finished_at``), split at the forwarder's claim
(``started_at``: the entry is XADDed right after); also a delivered receipt from its relay's stamp,
and any receipt from its XADD (the entry id's time), to the captain's receipt reader reading it.
Prints throughput, p50/p95/p99, delivered vs sent, duplicates in the inboxes (each message must be
there once), the CPU (% of one core) of redis-server, each relay and the captain over the run (and
of everything else on the machine, and what the host took: a run slowed by either says so), and
each relay's inbox rounds (how many, deliveries per round: how far a round's fixed cost is shared).
Target: 1,000 msg/s to 30 agents over 3 relays, p99 <= 50 ms.
Part 2: RESTART deliveries queued as fast as the captain takes them; redis-server is restarted
(SIGTERM, then started on the same AOF folder and port) once a third of them arrived; all must end
delivered at the captain and be in the inboxes exactly once. Prints how long it took.
Before and after: how fast the machine is then (``machine_now``: a Python loop, new files fsynced a
second), which on a shared host moves the figures as much as a change of code does.

``--relay-only``: no captain; this script XADDs the delivery entries itself at RATE (those due,
every 5 ms, in one pipeline) and reads ``qd:receipts`` (latency: XADD -> delivered receipt read).
A relay's own figure.

    python bench/bench_relays.py [--rates 300,1000] [--batch-ms 10] [--seconds 10] [--relays 3] [--agents 10]
                                 [--restart 10000 | --restart 0] [--relay-only]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests")]

from relay_fleet import Cpu, Fleet, machine_now, per_message, quantiles, report_arrivals  # noqa: E402
from relay_only import relay_only  # noqa: E402


# -- the captain: a separate process on the public path ------------------------------------------------
def captain(args: argparse.Namespace) -> int:
    from quarterdeck.core.models import Message
    from quarterdeck.core.roster.roster import Roster
    from quarterdeck.core.service import DeliveryWorker
    from quarterdeck.core.session import Session

    agents = args.to.split(",")
    session = Session.open(roster=Roster(()), data_dir=Path(args.captain), broker_url=args.url, relays=True)
    worker = DeliveryWorker(session.dispatcher, idle_wait=0.02)
    made_to_read: list[float] = []  # a delivered receipt: stamped at the relay -> read at the captain
    assert session.forwarder is not None
    applier = session.forwarder.applier
    sink = applier.receipts

    def timed(receipts: list) -> list[bool]:
        now = time.time()
        made_to_read.extend(now - r.at for r in receipts if r.state == "delivered")
        return sink(receipts)

    session.forwarder.router._sink = timed
    xadded_to_read: list[float] = []  # a receipt XADDed by a relay (its entry id's time) -> read here
    route = session.forwarder.router._route

    def routed(client, entries: list) -> None:
        now = time.time()
        xadded_to_read.extend(now - int(entry_id.split(b"-")[0]) / 1000 for entry_id, _ in entries)
        route(client, entries)

    session.forwarder.router._route = routed
    worker.start()
    try:
        print("ready", flush=True)
        sys.stdin.readline()
        count = int(args.rate * args.seconds) if args.rate else args.count
        ids, began, n, tick = [], time.perf_counter(), 0, args.batch_ms / 1000
        while n < count:  # every ``batch_ms`` the messages due by then, in one submit_many (one fsync)
            if args.rate and tick:
                time.sleep(max(0.0, began + (n / args.rate // tick + 1) * tick - time.perf_counter()))
                due = min(count, max(n + 1, int((time.perf_counter() - began) * args.rate)))
            elif args.rate:  # one at a time, each when due
                time.sleep(max(0.0, began + n / args.rate - time.perf_counter()))
                due = n + 1
            else:
                due = min(count, n + 100)
            batch = [Message(sender="Captain", recipients=[agents[i % len(agents)]],
                             content=f"{args.prefix} {i} for {agents[i % len(agents)]}") for i in range(n, due)]
            ids += [i for s in session.submit_many(batch) for i in s.delivery_ids]
            n = due
        offered = time.perf_counter() - began
        print(json.dumps({"queued": len(ids), "offered_s": offered}), flush=True)
        deadline = time.monotonic() + args.timeout
        ended = {"delivered", "failed", "cancelled", "uncertain"}
        while time.monotonic() < deadline:
            states = Counter(session.store.states_of(ids).values())
            if sum(states[s] for s in ended) == len(ids):
                break
            time.sleep(0.1)
        rows = session.store.connection().execute(
            "SELECT state, created_at, finished_at, started_at FROM deliveries WHERE id IN "
            "(SELECT value FROM json_each(?))", (json.dumps(ids),)).fetchall()
        done = [(float(r[1]), float(r[2]), float(r[3])) for r in rows if r[0] == "delivered" and r[2] is not None]
        span = (max(f for _, f, _ in done) - min(c for c, _, _ in done)) if done else 0.0
        print(json.dumps({"states": dict(Counter(str(r[0]) for r in rows)), "latency": [f - c for c, f, _ in done],
                          "claimed": [s - c for c, _, s in done], "answered": [f - s for _, f, s in done],
                          "receipt_read": made_to_read, "xadded_read": xadded_to_read, "span": span}), flush=True)
    finally:
        worker.request_stop()
        worker.join(10)
        session.close()
    return 0


def run_captain(base: argparse.Namespace, folder: Path, fleet: Fleet, env: dict[str, str], prefix: str,
                rate: float, count: int, cpu: Cpu, during: threading.Thread | None = None) -> dict:
    child = subprocess.Popen(
        [sys.executable, __file__, "--captain", str(folder / f"captain-{prefix}"), "--url", base.url,
         "--to", ",".join(fleet.of), "--prefix", prefix, "--rate", str(rate), "--seconds", str(base.seconds),
         "--count", str(count), "--timeout", str(base.timeout), "--batch-ms", str(base.batch_ms)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert child.stdin is not None and child.stdout is not None
    assert child.stdout.readline().strip() == "ready", "the captain did not start"
    cpu.pids["captain"] = child.pid
    cpu.start()
    child.stdin.write("go\n")
    child.stdin.flush()
    if during is not None:
        during.start()
    offered = json.loads(child.stdout.readline())
    result = json.loads(child.stdout.readline())
    result.update(offered, cpu=cpu.stop(), cpu_seconds=cpu.seconds, elsewhere=cpu.elsewhere, stolen=cpu.stolen)
    child.wait(30)
    return result


def part1(args: argparse.Namespace, folder: Path, fleet: Fleet, env: dict[str, str], rate: float,
          pids: dict[str, int]) -> bool:
    sent = int(rate * args.seconds)
    print(f"part 1: {rate:.0f} msg/s for {args.seconds:.0f} s to {len(fleet.of)} inbox agents over "
          f"{len(fleet.relays)} relays, the captain on the public path, submit_many every "
          f"{args.batch_ms:g} ms (the whole load on this one machine)")
    prefix = f"load{rate:.0f}"
    since = fleet.last_ids()
    r = run_captain(args, folder, fleet, env, prefix, rate, sent, Cpu(dict(pids)))
    delivered = r["states"].get("delivered", 0)
    print(f"  offered {r['queued'] / r['offered_s']:.0f} msg/s ({r['queued']} queued in {r['offered_s']:.1f} s); "
          f"{delivered} of {sent} delivered at {delivered / r['span']:.0f}/s; states {r['states']}" if r["span"]
          else f"  nothing delivered: {r['states']}")
    print(f"  enqueue -> delivered receipt at the captain: {quantiles(r['latency'])} (target p99 <= 50 ms)")
    print(f"    of which enqueue -> claimed by the forwarder: {quantiles(r['claimed'])}")
    print(f"    and claimed -> receipt recorded: {quantiles(r['answered'])}")
    print(f"    (a delivered receipt stamped at the relay -> read at the captain: {quantiles(r['receipt_read'])};")
    print(f"     a receipt XADDed by a relay -> read at the captain: {quantiles(r['xadded_read'])})")
    print("  CPU % of one core: " + ", ".join(f"{n} {v:.0f}" for n, v in r["cpu"].items())
          + f"; everything else on the machine {r['elsewhere']:.0f}, taken by the host (steal) {r['stolen']:.0f}")
    print("  CPU ms per message: " + per_message(r["cpu_seconds"], sent, len(fleet.relays)))
    print("  inbox rounds: " + fleet.rounds(since))
    return report_arrivals(fleet, prefix + " ", sent) and delivered == sent


def full(args: argparse.Namespace, folder: Path, fleet: Fleet, server, env: dict[str, str]) -> bool:
    pids = {"redis": server.pid, **{r.name: r.process.pid for r in fleet.relays}}
    ok = True
    for rate in args.rates:
        ok = part1(args, folder, fleet, env, rate, pids) and ok
    if args.restart:
        print(f"part 2: {args.restart} deliveries queued as fast as the captain takes them; redis-server "
              "restarted when a third arrived")
        restarted: list[float] = []

        def restart() -> None:
            while sum(fleet.arrived("restart ").values()) < args.restart // 3:
                time.sleep(0.1)
            started = time.monotonic()
            server.restart()
            restarted.append(time.monotonic() - started)

        began = time.monotonic()
        r = run_captain(args, folder, fleet, env, "restart", 0, args.restart, Cpu({}),
                        threading.Thread(target=restart, daemon=True))
        took = time.monotonic() - began
        delivered = r["states"].get("delivered", 0)
        print(f"  {delivered} of {args.restart} ended delivered at the captain in {took:.1f} s (queued in "
              f"{r['offered_s']:.1f} s; redis down {restarted[0] if restarted else float('nan'):.1f} s); "
              f"states {r['states']}")
        ok = report_arrivals(fleet, "restart ", args.restart) and delivered == args.restart and ok
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=lambda v: [float(x) for x in v.split(",")], default=[300.0, 1000.0],
                        help="part 1 at each of these rates (msg/s), one after the other")
    parser.add_argument("--rate", type=float, default=0.0, help=argparse.SUPPRESS)  # the captain's
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--relays", type=int, default=3)
    parser.add_argument("--agents", type=int, default=10, help="inbox agents per relay")
    parser.add_argument("--restart", type=int, default=10_000, help="deliveries for part 2 (0: skip it)")
    parser.add_argument("--relay-only", action="store_true")
    parser.add_argument("--batch-ms", type=float, default=10.0,
                        help="the captain queues what is due every so many ms in one submit_many (0: one at a time)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for every delivery to end")
    parser.add_argument("--captain", help=argparse.SUPPRESS)
    for hidden in ("--url", "--to", "--prefix"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.captain:
        return captain(args)
    from redis_server import RedisServer

    folder = Path(tempfile.mkdtemp(prefix="bench-relays-"))
    env = {**os.environ, "QUARTERDECK_CONFIG_DIR": str(folder / "config"),
           "QUARTERDECK_DATA_DIR": str(folder / "data"), "QUARTERDECK_NOTIFICATIONS": "off"}
    env = {k: v for k, v in env.items() if not k.upper().startswith("COORDINATION_")}
    print(machine_now(folder), flush=True)
    server = RedisServer(folder / "redis")
    server.start()
    args.url = server.url
    fleet = Fleet(folder, server.url, args.relays, args.agents, env)
    try:
        fleet.start(server.url)
        ok = relay_only(args, fleet, server) if args.relay_only else full(args, folder, fleet, server, env)
        for relay in fleet.relays:
            relay.stop()
        print(machine_now(folder))
        print(f"every message arrived exactly once: {'yes' if ok else 'NO'} (files in {folder})")
        return 0 if ok else 1
    finally:
        for relay in fleet.relays:
            relay.close()
        server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
