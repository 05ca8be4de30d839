"""``bench_relays.py --relay-only``: no captain; the delivery entries are XADDed straight to the relays'
streams at a rate (those due every ``TICK_S``, in one pipeline) and ``qd:receipts`` is read here
(latency: XADD -> delivered receipt read). A relay's own figure."""
from __future__ import annotations

import argparse
import threading
import time
from collections import Counter

from relay_fleet import Cpu, Fleet, command_calls, per_message, quantiles, report_arrivals

TICK_S = 0.005  # the entries due are XADDed every so often, in one pipeline


def relay_only(args: argparse.Namespace, fleet: Fleet, server) -> bool:
    import redis

    from quarterdeck.core.models import Message
    from quarterdeck.core.relay.protocol import KEYS, DeliveryEntry, Receipt

    client, reader = redis.Redis.from_url(args.url), redis.Redis.from_url(args.url)
    agents, sent_at, latency, final = list(fleet.of), {}, {}, Counter[str]()
    done = threading.Event()

    def read() -> None:
        last = "0-0"
        while not done.is_set():
            for _, entries in reader.xread({KEYS.receipts: last}, block=100, count=1000) or []:
                now = time.time()
                for entry_id, fields in entries:
                    last = entry_id.decode()
                    receipt = Receipt.from_fields(fields)
                    if receipt.state in ("delivered", "failed", "cancelled", "uncertain"):
                        final[receipt.state] += 1
                    if receipt.state == "delivered" and receipt.delivery in sent_at:
                        latency.setdefault(receipt.delivery, now - sent_at[receipt.delivery])

    rate = args.rates[-1]
    count = int(rate * args.seconds)
    print(f"relay only: {rate:.0f} entries/s for {args.seconds:.0f} s XADDed straight to {len(fleet.relays)} "
          f"relays' streams ({len(agents)} inbox agents), receipts read from {KEYS.receipts} "
          "(the whole load on this one machine)")
    threading.Thread(target=read, daemon=True).start()
    cpu = Cpu({"redis": server.pid, **{r.name: r.process.pid for r in fleet.relays}})
    since = fleet.last_ids()
    calls_before = command_calls(client)
    cpu.start()
    began, n = time.perf_counter(), 0
    while n < count:  # every TICK_S the entries due by then, in one pipeline (the offered rate holds under load)
        time.sleep(max(0.0, began + (n / rate // TICK_S + 1) * TICK_S - time.perf_counter()))
        due = min(count, max(n + 1, int((time.perf_counter() - began) * rate)))
        pipe = client.pipeline(transaction=False)
        for i in range(n, due):
            agent = agents[i % len(agents)]
            entry = DeliveryEntry(i + 1, agent, Message(sender="Captain", recipients=[agent],
                                                        content=f"relay {i} for {agent}"), time.time())
            pipe.xadd(KEYS.relay_in(fleet.of[agent]), entry.to_fields())  # type: ignore[arg-type]
        now = time.time()
        sent_at.update(dict.fromkeys(range(n + 1, due + 1), now))
        pipe.execute()
        n = due
    offered = time.perf_counter() - began
    deadline = time.monotonic() + args.timeout
    while sum(final.values()) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    span = time.perf_counter() - began
    figures = cpu.stop()
    done.set()
    print(f"  offered {count / offered:.0f}/s; {len(latency)} of {count} delivered in {span:.1f} s "
          f"({len(latency) / span:.0f}/s); final receipts {dict(final)}")
    print(f"  XADD -> delivered receipt read: {quantiles(list(latency.values()))}")
    print("  CPU % of one core: " + ", ".join(f"{n} {v:.0f}" for n, v in figures.items()))
    print("  CPU ms per message: " + per_message(cpu.seconds, count, len(fleet.relays)))
    print("  inbox rounds: " + fleet.rounds(since))
    calls = command_calls(client)
    print("  redis commands per message (all relays): " + ", ".join(
        f"{name} {(calls.get(name, 0) - calls_before.get(name, 0)) / count:.2f}"
        for name in ("xreadgroup", "xack", "xadd", "xautoclaim", "hset", "time")))
    return report_arrivals(fleet, "relay ", count) and len(latency) == count
