"""What the live charts cost: 8 curves of 3,600 points each, refreshed at 10 Hz, drawn.

Usage: python bench/bench_charts.py [--seconds 10] [--size 1400x420]

The real ChartsPanel runs offscreen over a real session whose monitor (on a fake clock) already
holds 3,600 samples of every series: deliveries to 8 agents with varied latencies and failures,
an outbox queue that rises and drains, and one agent whose breaker opens and recovers. Then,
every 100 ms, a producer advances the clock by a second, records a few deliveries and samples
the monitor, so each of the panel's 100 ms frames finds a new point in every series (the worst
case: the app samples every 5 s) and feeds all 8 full curves. Judged runs: a 1 h window, where
all 3,600 points are visible and the view steps along every 60 simulated seconds; a 1 min
window in real time (0.1 s per step), where the view steps along once a second as in the app.
A stress run, printed but not judged, moves a 1 min window on every frame (the clock running
10x real time), so the axes are redrawn 10 times a second.

Two ways of drawing, each for ``--seconds``:
- "paint": the widget is shown and the event loop paints it as Qt schedules (a paint counter
  checks that frames were really drawn);
- "grab": in addition, ``grab()`` renders the whole panel once per refresh.

Prints the process CPU time (``time.process_time``, every thread) over wall time, the share
spent in the producer (sampling the monitor; not the panel's cost), and the panel's share
against the target: <= 15 % of one core.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TARGET = 0.15
AGENTS = [f"Agent-{n}" for n in range(1, 9)]
POINTS = 3600


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def build(size: tuple[int, int]):
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    from quarterdeck.core.models import Agent, DryRunTransport
    from quarterdeck.core.monitor import Monitor
    from quarterdeck.core.roster.roster import Roster
    from quarterdeck.core.session import Session
    from quarterdeck.gui.charts.panel import ChartsPanel
    from quarterdeck.gui.context import AppContext

    app = QApplication.instance() or QApplication([])
    folder = Path(tempfile.mkdtemp(prefix="qd-bench-charts-"))
    os.environ["QUARTERDECK_CONFIG_DIR"] = str(folder / "config")
    os.environ["QUARTERDECK_DATA_DIR"] = str(folder / "data")
    roster = Roster(tuple(Agent(id=a, transport=DryRunTransport()) for a in AGENTS))
    session = Session.open(roster=roster, data_dir=folder / "data")
    clock = FakeClock(time.monotonic())
    session.monitor = session.dispatcher.monitor = Monitor(clock=clock, max_data_points=POINTS)
    ctx = AppContext(session, roster_path=None)  # not started: the bench samples by itself
    panel = ChartsPanel(ctx, clock=clock)
    panel.resize(*size)
    panel.set_window(3600)

    class Paints(QObject):
        count = 0

        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.Paint:
                Paints.count += 1
            return False

    paints = Paints(panel)
    panel.grid.viewport().installEventFilter(paints)
    return app, ctx, panel, clock, Paints


class Producer:
    """One simulated second of the swarm per call: deliveries, queue depth, breaker changes."""

    def __init__(self, ctx, panel, clock: FakeClock) -> None:
        from quarterdeck.core.resilience import BreakerEvent, State

        self.monitor, self.feed, self.clock = ctx.monitor, panel.feed, clock
        self.rng = random.Random(7)
        self.n = 0
        self.event, self.state = BreakerEvent, State
        self.spent = 0.0
        self.seconds = 1.0  # simulated seconds per step

    def step(self) -> None:
        rng, n = self.rng, self.n
        self.clock.now += self.seconds
        for _ in range(rng.randint(0, 4)):
            agent = rng.choice(AGENTS)
            ok = agent != "Agent-8" or n % 600 > 120
            self.monitor.record_delivery(agent, ok and rng.random() > 0.03, rng.lognormvariate(-2.0, 0.6))
        queued = max(0, int(20 * abs(((n % 300) - 150) / 150) - 8 + rng.randint(-1, 1)))
        self.feed.record_outbox({"queued": queued, "sending": min(queued, 1)})
        cycle = {0: self.state.OPEN, 60: self.state.HALF_OPEN, 61: self.state.CLOSED}
        if n % 600 in cycle:
            self.feed.on_breaker_event(self.event("state_transition", "Agent-8", self.clock.now,
                                                  to_state=cycle[n % 600]))
        self.monitor.sample()
        self.n += 1

    def timed_step(self) -> None:
        start = time.thread_time()
        self.step()
        self.spent += time.thread_time() - start


def run(app, panel, producer: Producer, paints, seconds: float, grab: bool) -> dict:
    from PySide6.QtCore import QEventLoop, QTimer

    fed = []
    panel.grid.curves["p95"].sigPlotChanged.connect(lambda *_: fed.append(1))
    tick = QTimer()
    tick.setInterval(100)

    def produce() -> None:
        producer.timed_step()
        if grab:
            panel.grab()

    tick.timeout.connect(produce)
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    producer.spent = 0.0
    painted = paints.count
    wall, cpu = time.perf_counter(), time.process_time()
    tick.start()
    loop.exec()
    tick.stop()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    app.processEvents()
    return {"wall": wall, "cpu": cpu, "producer": producer.spent, "refreshes": len(fed),
            "paints": paints.count - painted}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--size", default="1400x420", help="panel size, WxH")
    args = parser.parse_args()
    size = tuple(int(n) for n in args.size.split("x"))
    app, ctx, panel, clock, paints = build(size)
    producer = Producer(ctx, panel, clock)
    clock.now -= POINTS
    started = time.perf_counter()
    for _ in range(POINTS):
        producer.step()
    print(f"Python {sys.version.split()[0]}; monitor filled with {POINTS} samples of "
          f"{len(ctx.monitor.series_keys())} series in {time.perf_counter() - started:.1f} s")
    panel.show()
    app.processEvents()
    lengths = {k: len(panel.grid.data(k)[0]) for k in panel.grid.curves}
    print(f"{len(lengths)} curves, points each: {sorted(set(lengths.values()))}; panel {size[0]}x{size[1]}; "
          f"platform {app.platformName()}")
    worst = 0.0
    for window, seconds, judged, what in (
            (3600, 1.0, True, "1 h window, all 3,600 points visible, 1 simulated s per frame:"),
            (60, 0.1, True, "1 min window, real time (a sample every 100 ms, the view steps each second):"),
            (60, 1.0, False, "stress, not judged: 1 min window moving on every frame (10x real time):")):
        panel.set_window(window)
        producer.seconds = seconds
        print(what)
        for grab in (False, True):
            r = run(app, panel, producer, paints, args.seconds, grab)
            total = r["cpu"] / r["wall"]
            own = (r["cpu"] - r["producer"]) / r["wall"]
            worst = max(worst, own) if judged else worst
            label = "  paint + grab() per refresh" if grab else "  paint (event loop)"
            print(f"{label:<30} {r['wall']:.1f} s: {r['refreshes']} refreshes "
                  f"({r['refreshes'] / r['wall']:.1f}/s), {r['paints']} paints; CPU {total:.1%} of a core, "
                  f"producer {r['producer'] / r['wall']:.1%}, panel {own:.1%}")
    print(f"target: panel <= {TARGET:.0%} of one core in every judged run: {'PASS' if worst <= TARGET else 'MISS'} "
          f"(worst {worst:.1%})")
    panel.shutdown()
    ctx.shutdown()


if __name__ == "__main__":
    main()
