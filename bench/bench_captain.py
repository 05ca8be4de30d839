"""The captain's own share of relayed delivery (issue 14 "Speed"): its CPU per message and the latency it
adds, with the relays' work taken out of the measure.

A real redis-server; the captain's session in this process (an outbox with AGENTS relay agents over
RELAYS relays, ``submit_many`` every BATCH_MS, a ``DeliveryWorker``, the forwarder and its receipt
reader, all as ``Session.open(broker_url=..., relays=True)`` wires them); an answering process in
place of the relays: it reads each relay's stream and answers every entry at once with the receipt
a relay writes when it delivers within one round (``delivered``; ``--sending``: ``sending`` first
too, as a relay says of a delivery that goes on), in the relay protocol's own format. So what is
measured is the captain, the broker and the loopback.

Prints, at RATE messages a second for SECONDS: enqueue -> claimed by the forwarder, claimed ->
delivered receipt recorded (the answering process answers at once, so this is the entry's trip out,
the receipt's trip back and the captain recording it), and the captain process's CPU, per message,
split into ``submit_many`` (validating and queueing, which is not the forwarder's), building the
``Message`` s (the sending program's part, counted in the process as a captain program's would be)
and the rest; and per thread (the forwarder ``qd-forward``, the receipt reader ``qd-receipts``, the
delivery worker, ...): where the rest goes. The figures depend on the load: on a busy machine the
rounds grow and a message's share of each round's fixed cost shrinks, so compare runs side by side.

    python bench/bench_captain.py [--rate 1000] [--seconds 10] [--relays 3] [--agents 10]
                                  [--batch-ms 10] [--sending] [--lockstep N]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests")]
from relay_fleet import quantiles  # noqa: E402  (the same figures as the whole path's bench)

STARTED = time.time()


def answer(url: str, relays: dict[str, list[str]], sending: bool, stop: Any) -> None:
    """Answer every delivery entry on the relays' streams with a relay's receipts, at once; announce the
    relays every second, as they heartbeat."""
    import redis

    from quarterdeck.core.relay.protocol import KEYS, DeliveryEntry, Receipt

    client = redis.Redis.from_url(url)
    last = {KEYS.relay_in(r): "0-0" for r in relays}  # a new broker: its streams begin empty
    relay_of = {KEYS.relay_in(r): r for r in relays}
    announced = 0.0
    while not stop.is_set():
        if time.monotonic() - announced > 1.0:
            announced = time.monotonic()
            announce(client, relays)
        pipe = client.pipeline(transaction=False)
        for stream, entries in client.xread(last, block=100, count=1000) or []:  # type: ignore[arg-type]
            key = stream.decode()
            for entry_id, fields in entries:
                last[key] = entry_id
                entry = DeliveryEntry.from_fields(fields)
                for state in ("sending", "delivered") if sending else ("delivered",):
                    receipt = Receipt(relay_of[key], entry.delivery, entry.agent, state,
                                      "submitted" if state == "delivered" else "", "written to the inbox",
                                      attempts=1, at=time.time(), captain=entry.captain)
                    pipe.xadd(KEYS.receipts_of(entry.captain), receipt.to_fields())  # type: ignore[arg-type]
        pipe.execute()
    client.close()


def announce(client: Any, relays: dict[str, list[str]]) -> None:
    """The relays' announcements, as a relay writes its own (the captain's roster reads them)."""
    from quarterdeck.core.relay.protocol import KEYS, AnnouncedAgent, Announcement

    for relay, agents in relays.items():
        client.hset(KEYS.relays, relay, Announcement(relay, "bench", os.getpid(), STARTED, time.time(), [
            AnnouncedAgent(a, a, "", "inbox", "") for a in agents]).to_json())


class Delivered:
    """Counts the delivered events the captain's dispatcher tells; :meth:`wait` for a count."""

    def __init__(self, dispatcher: Any) -> None:
        import threading

        self.count = 0
        self._changed = threading.Condition()
        dispatcher.add_listener(self._event)

    def _event(self, event: Any) -> None:
        if event.state == "delivered":
            with self._changed:
                self.count += 1
                self._changed.notify_all()

    def wait(self, count: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.count >= count, timeout)


def thread_cpu(since: dict[str, float]) -> dict[str, float]:
    """CPU seconds of each live thread of this process (by name; threads of one name add up), less ``since``."""
    import threading

    used: dict[str, float] = {}
    for thread in threading.enumerate():
        try:
            seconds = time.clock_gettime(time.pthread_getcpuclockid(thread.ident or 0))
        except (OSError, AttributeError):  # ended meanwhile, or no per-thread clocks here
            continue
        used[thread.name] = used.get(thread.name, 0.0) + seconds
    return {name: seconds - since.get(name, 0.0) for name, seconds in used.items()}


class Transactions:
    """Counts the outbox transactions the forwarder and the receipt path run: claims alone, claims that
    record receipts too, and receipts recorded alone (the store's functions, wrapped where they are called)."""

    def __init__(self) -> None:
        from quarterdeck.core.captain import apply
        from quarterdeck.core.store import forwarding

        self.counts = {"claim": 0, "settle_and_claim": 0, "settle": 0}
        for module, name in ((forwarding, "claim"), (forwarding, "settle_and_claim"), (forwarding, "settle"),
                             (apply, "settle")):
            setattr(module, name, self._counted(getattr(module, name), name))

    def _counted(self, function: Any, name: str) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.counts[name] += 1
            return function(*args, **kwargs)
        return counted

    def per(self, messages: int) -> str:
        c = {name: n * 10 / messages for name, n in self.counts.items()}
        return (f"{c['claim']:.2f} claims alone, {c['settle_and_claim']:.2f} claims with receipts, "
                f"{c['settle']:.2f} receipts alone")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--relays", type=int, default=3)
    parser.add_argument("--agents", type=int, default=10, help="agents per relay")
    parser.add_argument("--batch-ms", type=float, default=10.0)
    parser.add_argument("--sending", action="store_true", help="answer with a sending receipt before the delivered one")
    parser.add_argument("--lockstep", type=int, default=0, metavar="N",
                        help="no pacing: N messages at a time, the next N once they are delivered (CPU per message "
                             "at a batch size the machine's load does not change)")
    args = parser.parse_args()
    from redis_server import RedisServer

    from quarterdeck.core.models import Message
    from quarterdeck.core.roster.roster import Roster
    from quarterdeck.core.service import DeliveryWorker
    from quarterdeck.core.session import Session

    transactions = Transactions()
    folder = Path(tempfile.mkdtemp(prefix="bench-captain-"))
    server = RedisServer(folder / "redis")
    server.start()
    relays = {f"M{r}": [f"A{r}-{n}" for n in range(1, args.agents + 1)] for r in range(1, args.relays + 1)}
    agents = [a for names in relays.values() for a in names]
    stop = multiprocessing.Event()
    answering = multiprocessing.Process(target=answer, args=(server.url, relays, args.sending, stop))
    answering.start()
    import redis
    client = redis.Redis.from_url(server.url)
    while client.hlen("qd:relays") < len(relays):
        time.sleep(0.05)
    client.close()
    session = Session.open(roster=Roster(()), data_dir=folder / "captain", broker_url=server.url, relays=True)
    worker = DeliveryWorker(session.dispatcher, idle_wait=0.02)
    try:
        time.sleep(0.5)  # the answering process reads from the streams' ends
        worker.start()
        count, tick = int(args.rate * args.seconds), args.batch_ms / 1000
        ids: list[int] = []
        times0, submit_cpu, build_cpu, n, began = os.times(), 0.0, 0.0, 0, time.perf_counter()
        threads0 = thread_cpu({})
        delivered = Delivered(session.dispatcher)
        while n < count:
            if args.lockstep:
                delivered.wait(n, 60.0)
                due = min(count, n + args.lockstep)
            else:
                time.sleep(max(0.0, began + (n / args.rate // tick + 1) * tick - time.perf_counter()))
                due = min(count, max(n + 1, int((time.perf_counter() - began) * args.rate)))
            t = time.thread_time()
            batch = [Message(sender="Captain", recipients=[agents[i % len(agents)]],
                             content=f"bench {i} for {agents[i % len(agents)]}") for i in range(n, due)]
            built = time.thread_time()
            ids += [i for s in session.submit_many(batch) for i in s.delivery_ids]
            build_cpu += built - t
            submit_cpu += time.thread_time() - built
            n = due
        offered = time.perf_counter() - began
        delivered.wait(count, 60.0)
        times, wall = os.times(), time.perf_counter() - began
        threads = thread_cpu(threads0)
        user, system = times.user - times0.user, times.system - times0.system
        cpu = user + system
        rows = session.store.connection().execute(
            "SELECT state, created_at, started_at, finished_at FROM deliveries WHERE id IN "
            "(SELECT value FROM json_each(?))", (json.dumps(ids),)).fetchall()
    finally:
        worker.request_stop()
        worker.join(10)
        session.close()
        stop.set()
        answering.join(5)
        server.stop()
    done = [(float(r[1]), float(r[2]), float(r[3])) for r in rows if r[0] == "delivered"]
    pace = (f"{args.lockstep} at a time, the next once they were delivered" if args.lockstep
            else f"submit_many every {args.batch_ms:g} ms")
    load = f"{count} messages" if args.lockstep else f"{args.rate:.0f} msg/s for {args.seconds:g} s"
    print(f"captain alone: {load} to {len(agents)} relay agents over {args.relays} relays (answered at once by a "
          f"process writing the relays' receipts{': sending, delivered' if args.sending else ''}), {pace}")
    print(f"  offered {count / offered:.0f} msg/s; {len(done)} of {count} delivered in {wall:.1f} s")
    print(f"  enqueue -> claimed by the forwarder: {quantiles([s - c for c, s, _ in done])}")
    print(f"  claimed -> delivered receipt recorded: {quantiles([f - s for _, s, f in done])}")
    print(f"  enqueue -> delivered receipt recorded: {quantiles([f - c for c, _, f in done])}")
    print(f"  captain CPU: {cpu / wall * 100:.0f} % of one core; per message {cpu / count * 1e3:.3f} ms, of which "
          f"submit_many {submit_cpu / count * 1e3:.3f} ms, building the messages (the sending program's part) "
          f"{build_cpu / count * 1e3:.3f} ms, the rest {(cpu - submit_cpu - build_cpu) / count * 1e3:.3f} ms; "
          f"in the kernel {system / count * 1e3:.3f} ms")
    print(f"  outbox transactions per 10 messages: {transactions.per(count)}")
    print("  per thread, ms per message: " + ", ".join(f"{name} {used / count * 1e3:.3f}" for name, used in sorted(
        threads.items(), key=lambda item: -item[1]) if used / count >= 1e-6))
    return 0 if len(done) == count else 1


if __name__ == "__main__":
    raise SystemExit(main())
