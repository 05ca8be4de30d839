"""History panel over a big history: first page, deep paging, and how long the UI thread stalls.

Usage: python bench/bench_history_panel.py [DELIVERIES] [--data-dir DIR] [--deep ROWS] [--scroll S]

Builds DELIVERIES (default 1,000,000) with bench_store's filler in a temporary folder, or reuses
``DIR/quarterdeck.sqlite3`` (kept if it was built there), opens the real panel offscreen and
prints:

- time to the first page on screen, and to the total count, after the panel is made;
- for a few searches (a common word, a phrase, a rare word, short terms; alone and with an
  agent): from the new filters to the first page painted, and to the count;
- a page fetched with ``fetchMore`` deep in the table (DEEP rows already loaded): the whole
  round trip, and the UI-thread share of it (inserting and painting the rows);
- the query at row ~900,000 by key (what the panel does) against by ``OFFSET``;
- a 5 ms heartbeat timer's gaps while the view is scrolled a screen every 16 ms for S seconds
  (each scroll to the end fetches the next page), then while filters change (text search included).

Prints figures only; nothing here asserts.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from msgspec.structs import replace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench_store import build_history  # noqa: E402
from PySide6.QtCore import QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from quarterdeck.core.models import Agent, DryRunTransport  # noqa: E402
from quarterdeck.core.roster.roster import Roster  # noqa: E402
from quarterdeck.core.session import Session  # noqa: E402
from quarterdeck.core.store import Store, search  # noqa: E402
from quarterdeck.core.store.db import default_db_path  # noqa: E402
from quarterdeck.core.store.paging import Key, page  # noqa: E402
from quarterdeck.core.store.query import Filters  # noqa: E402


def pump(app: QApplication, until, timeout: float = 120.0) -> float:
    start = time.perf_counter()
    while not until():
        app.processEvents()
        if time.perf_counter() - start > timeout:
            raise TimeoutError("the panel did not get there in time")
        time.sleep(0.0005)
    return time.perf_counter() - start


class Heartbeat:
    """A 5 ms timer on the UI thread; the gaps between its ticks are what a user feels as stalls."""

    def __init__(self) -> None:
        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        self.ticks.append(time.perf_counter())

    def start(self) -> None:
        self.ticks = [time.perf_counter()]
        self.timer.start()

    def stop(self) -> str:
        self.timer.stop()
        gaps = sorted((b - a) * 1e3 for a, b in zip(self.ticks, self.ticks[1:], strict=False))
        if not gaps:
            return "no ticks"
        p = lambda q: gaps[min(len(gaps) - 1, int(len(gaps) * q))]  # noqa: E731
        return (f"{len(gaps)} gaps: median {statistics.median(gaps):.1f} ms, p99 {p(0.99):.1f} ms, "
                f"max {gaps[-1]:.1f} ms (5.0 ms = no stall)")


def ensure_history(data_dir: Path, deliveries: int) -> None:
    path = default_db_path(data_dir)
    if path.exists():
        return
    started = time.perf_counter()
    with Store(path) as store:
        build_history(store, deliveries)
        store.connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"built {deliveries:,} deliveries in {time.perf_counter() - started:.0f} s")


def open_panel(app: QApplication, data_dir: Path):
    from quarterdeck.gui.context import AppContext
    from quarterdeck.gui.history.panel import HistoryPanel

    roster = Roster(tuple(Agent(id=f"Agent-{n}", transport=DryRunTransport()) for n in range(1, 9)))
    session = Session.open(roster=roster, data_dir=data_dir, stagger=0.0)
    session.dispatcher.policy = replace(session.dispatcher.policy, base_delay=0.01)
    ctx = AppContext(session, roster_path=None)
    started = time.perf_counter()
    panel = HistoryPanel(ctx)
    panel.resize(1500, 600)
    panel.show()
    made = time.perf_counter() - started
    first = made + pump(app, lambda: panel.model.rowCount() > 0)
    t0 = time.perf_counter()
    panel.view.viewport().repaint()
    first += time.perf_counter() - t0
    counted = first + pump(app, lambda: panel.model.total is not None)
    print(f"panel made in {made * 1e3:.0f} ms; first page on screen after {first * 1e3:.0f} ms; "
          f"count ({panel.model.total:,}) after {counted * 1e3:.0f} ms")
    return ctx, panel


def deep_fetch(app: QApplication, panel, deep: int) -> None:
    model = panel.model
    started = time.perf_counter()
    while model.rowCount() < deep and model.canFetchMore():
        rows = model.rowCount()
        model.fetchMore()
        pump(app, lambda r=rows: model.rowCount() > r)
    print(f"loaded {model.rowCount():,} rows page by page in {time.perf_counter() - started:.1f} s")
    trips, ui = [], []
    inserting = []
    model.rowsAboutToBeInserted.connect(lambda *a: inserting.append(time.perf_counter()))
    model.rowsInserted.connect(lambda *a: ui.append(time.perf_counter() - inserting[-1]))
    for _ in range(20):
        rows = model.rowCount()
        t0 = time.perf_counter()
        model.fetchMore()
        pump(app, lambda r=rows: model.rowCount() > r)
        t1 = time.perf_counter()
        panel.view.viewport().repaint()
        trips.append((time.perf_counter() - t0) * 1e3)
        ui[-1] += time.perf_counter() - t1
    print(f"fetchMore at {rows:,} rows: round trip median {statistics.median(trips):.1f} ms, "
          f"max {max(trips):.1f} ms; UI thread (insert + paint) median {statistics.median(ui) * 1e3:.2f} ms")


def query_depth(store: Store, total: int) -> None:
    depth = int(total * 0.9)
    probe = search(store, limit=1, offset=depth)[0]
    key = Key(probe.created_at.timestamp(), probe.delivery_id)
    for label, fn in (("by key", lambda: page(store, after=key, limit=251)),
                      ("by OFFSET", lambda: search(store, limit=251, offset=depth))):
        samples = []
        for _ in range(5):
            t0 = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t0) * 1e3)
        print(f"  page of 250 at row {depth:,} {label:10} median {statistics.median(samples):7.1f} ms")


def scroll(app: QApplication, panel, seconds: float) -> None:
    view, beat = panel.view, Heartbeat()
    bar = view.verticalScrollBar()
    start_rows = panel.model.rowCount()
    driver = QTimer()
    driver.setInterval(16)
    driver.timeout.connect(lambda: bar.setValue(bar.value() + view.viewport().height()))
    beat.start()
    driver.start()
    end = time.perf_counter() + seconds
    pump(app, lambda: time.perf_counter() > end, timeout=seconds + 5)
    driver.stop()
    print(f"scrolling {seconds:.0f} s ({panel.model.rowCount() - start_rows:,} rows fetched on the way): "
          f"{beat.stop()}")


def filter_changes(app: QApplication, panel) -> None:
    beat = Heartbeat()
    bar = panel.filter_bar
    beat.start()
    steps = [lambda: bar.agent.setCurrentIndex(3), lambda: bar.state.setCurrentIndex(bar.state.findData("failed")),
             lambda: bar.agent.setCurrentIndex(0), lambda: bar.state.setCurrentIndex(0),
             lambda: bar.search.setText("kalo"), lambda: bar.search.setText("zephyrquartz"),
             lambda: bar.search.setText("")]
    for step in steps:
        step()
        pump(app, lambda: panel.model.total is not None and not panel.model.busy and
             not bar._debounce.isActive(), timeout=60)
        pump(app, lambda t=time.perf_counter() + 0.05: time.perf_counter() > t)
    print(f"7 filter changes (agent, state, text 'kalo' matching 30%): {beat.stop()}")


SEARCHES = [("common word (30%)", "kalo"), ("phrase (1.4%)", '"kalo ren"'), ("rare word (21)", "zephyrquartz"),
            ("short terms (LIKE)", "你好 🚀")]


def search_latency(app: QApplication, panel) -> None:
    """From new filters in the model (the search box's debounce over) to the first page painted,
    and to the count label's number, each search on its own (nothing else queued)."""
    model = panel.model
    for label, text in SEARCHES:
        for agent in (None, "Agent-3"):
            model.set_filters(Filters(agent=agent, text=text))
            started = time.perf_counter()
            pump(app, lambda: model.rowCount() > 0 or (model.total is not None and not model.busy))
            arrived = time.perf_counter() - started
            panel.view.viewport().repaint()
            shown = time.perf_counter() - started
            pump(app, lambda: model.total is not None)
            counted = time.perf_counter() - started
            what = label + (" + agent" if agent else "")
            print(f"  search {what:28} first page in the model {arrived * 1e3:6.1f} ms, painted {shown * 1e3:6.1f} ms; "
                  f"count ({model.total:,}) {counted * 1e3:6.1f} ms")
    model.set_filters(Filters())
    pump(app, lambda: model.total is not None and not model.busy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("deliveries", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--data-dir", type=Path, help="reuse (or build and keep) the history here")
    parser.add_argument("--deep", type=int, default=200_000, help="rows to load before timing fetchMore")
    parser.add_argument("--scroll", type=float, default=10.0, help="seconds of scrolling")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory(prefix="qd-bench-history-") as tmp:
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)
        os.environ.setdefault("QUARTERDECK_CONFIG_DIR", str(Path(tmp) / "config"))
        data_dir = args.data_dir or Path(tmp) / "data"
        ensure_history(data_dir, args.deliveries)
        ctx, panel = open_panel(app, data_dir)
        try:
            search_latency(app, panel)
            filter_changes(app, panel)
            query_depth(ctx.store, panel.model.total)
            scroll(app, panel, args.scroll)
            deep_fetch(app, panel, args.deep)
            scroll(app, panel, min(args.scroll, 5.0))
        finally:
            panel.shutdown()
            ctx.shutdown()


if __name__ == "__main__":
    main()
