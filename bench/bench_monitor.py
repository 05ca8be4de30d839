"""Monitor and breaker benchmarks: the per-delivery hot path and the read side.

Usage: python bench/bench_monitor.py

Prints figures only; nothing here asserts. The target for ``record_delivery`` is about 5 us.
Each figure is the best of several repeats (least disturbed by other load), per call.
"""
from __future__ import annotations

import random
import sys
import threading
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, when run from a checkout

from quarterdeck.core.monitor import Monitor
from quarterdeck.core.monitor.prometheus import export_text
from quarterdeck.core.resilience import BreakerConfig, BreakerRegistry

AGENTS = [f"Agent-{n}" for n in range(1, 9)]


def per_call(fn, number: int, repeat: int = 5) -> float:
    """Best seconds per call of ``fn`` over ``repeat`` runs of ``number`` calls."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def show(label: str, seconds: float) -> None:
    if seconds < 1e-3:
        print(f"{label:<52} {seconds * 1e9:>12,.0f} ns")
    else:
        print(f"{label:<52} {seconds * 1e3:>12,.2f} ms")


def filled_monitor() -> Monitor:
    monitor = Monitor(window_size=1000, max_data_points=3600)
    rng = random.Random(1)
    for i in range(20_000):
        monitor.record_delivery(AGENTS[i % 8], rng.random() > 0.05, rng.lognormvariate(-1, 0.5))
    return monitor


def hot_path() -> None:
    monitor = Monitor()
    show("record_delivery, one agent", per_call(
        lambda: monitor.record_delivery("Agent-1", True, 0.25), 200_000))
    rotation = iter(AGENTS * 200_000)
    show("record_delivery, eight agents in turn", per_call(
        lambda: monitor.record_delivery(next(rotation), False, 0.25), 200_000))
    counter = monitor.counter("bench", "", ("agent",)).labels("Agent-1")
    show("labelled counter child inc()", per_call(counter.inc, 200_000))
    show("counter labels('Agent-1').inc()", per_call(
        lambda: monitor.counter("bench", "", ("agent",)).labels("Agent-1").inc(), 100_000))
    timer = monitor.timer("bench_seconds")
    show("timer record()", per_call(lambda: timer.record(0.01), 200_000))


def contended() -> None:
    monitor = Monitor()
    per_thread, threads = 50_000, 4

    def work(agent: str) -> None:
        for _ in range(per_thread):
            monitor.record_delivery(agent, True, 0.1)

    def run() -> None:
        pool = [threading.Thread(target=work, args=(AGENTS[i],)) for i in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()

    show(f"record_delivery, {threads} threads at once (wall / call)",
         per_call(run, 1, repeat=3) / (per_thread * threads))


def read_side() -> None:
    monitor = filled_monitor()
    show("delivery_stats(agent), window of 1000", per_call(
        lambda: monitor.delivery_stats("Agent-1"), 500))
    show("delivery_stats() overall", per_call(monitor.delivery_stats, 500))
    show("sample(), 8 agents, full windows", per_call(monitor.sample, 200))
    show("series(name, labels), 3600 points", per_call(
        lambda: monitor.series("delivery_p95_seconds", {"agent": "Agent-1"}), 2000))
    show("snapshot() for the CLI", per_call(monitor.snapshot, 100))
    breakers = BreakerRegistry(BreakerConfig.from_threshold(5))
    for agent in AGENTS:
        breakers.get(agent)
    show("export_text(), 8 agents + breakers", per_call(
        lambda: export_text(monitor, breakers), 200))


def breaker() -> None:
    b = BreakerRegistry(BreakerConfig.from_threshold(5)).get("Agent-1")

    def cycle() -> None:
        b.on_success(b.try_acquire(), 0.1)

    show("breaker try_acquire() + on_success()", per_call(cycle, 100_000))
    b.add_listener(lambda event: None)
    show("  the same with one listener", per_call(cycle, 100_000))


if __name__ == "__main__":
    print(f"Python {sys.version.split()[0]}")
    hot_path()
    contended()
    read_side()
    breaker()
