"""Performance monitoring: our own metric store, chart series, percentiles and rates.

``Monitor`` is the one object the app shares. Its hot path, ``record_delivery``, takes one short
lock and touches preallocated Python structures only; numpy and Prometheus are used when reading.

Every figure a captain reads (the roster's success and p95, the health of each agent, the charts'
summary) comes from one *figure window*, the last ``figure_window`` seconds (15 min by default):
``delivery_stats()["window"]``, named on screen by ``window_name``. Chart curves keep their own
short ``rate_window`` (a rate per second is a moving average, not a summary).
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import numpy as np  # imported when reading (series, snapshot): recording alone never loads it

from quarterdeck.core.monitor.metrics import (
    DEFAULT_BUCKETS,
    Counter,
    CounterChild,
    Gauge,
    Histogram,
    HistogramChild,
    MetricFamily,
    Timer,
)
from quarterdeck.core.monitor.series import UNVERIFIED, RingSeries, RollingWindow, percentiles

__all__ = ["DEFAULT_BUCKETS", "FIGURE_WINDOW", "Counter", "Gauge", "Histogram", "MetricFamily", "Monitor",
           "RingSeries", "RollingWindow", "Timer", "percentiles", "window_name"]

FIGURE_WINDOW = 900.0


def window_name(seconds: float) -> str:
    """How a figure window is named on screen: "last 15 min", "last 1 h", "last 30 s"."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"last {seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"last {seconds / 60:g} min"
    return f"last {seconds:g} s"

SeriesKey = tuple[str, tuple[tuple[str, str], ...]]
_Family = TypeVar("_Family", bound=MetricFamily[Any])


def _key(name: str, labels: Mapping[str, object] | None) -> SeriesKey:
    return name, tuple(sorted((k, str(v)) for k, v in (labels or {}).items()))


class Monitor:
    """Metric families, per-agent delivery statistics and bounded chart series.

    Built in: the ``deliveries`` counter (labels agent, outcome = ok | failed) and the
    ``delivery_seconds`` histogram (label agent), fed by ``record_delivery``, plus a window of the
    last ``window_size`` deliveries per agent and overall for percentiles and rates over the last
    ``rate_window`` seconds. ``sample()`` appends every series' current value to its ring of
    ``max_data_points``; call ``maybe_sample()`` from a timer or ``run_sampler`` on a thread.
    """

    def __init__(self, *, collection_interval: float = 1.0, max_data_points: int = 3600,
                 window_size: int = 1000, rate_window: float = 60.0, max_series: int = 256,
                 figure_window: float = FIGURE_WINDOW, clock: Callable[[], float] = time.monotonic) -> None:
        if collection_interval <= 0 or rate_window <= 0 or figure_window <= 0:
            raise ValueError("collection_interval, rate_window and figure_window must be positive")
        if max_data_points < 1 or window_size < 1:
            raise ValueError("max_data_points and window_size must be at least 1")
        self.collection_interval = collection_interval
        self.max_data_points = max_data_points
        self.window_size = window_size
        self.rate_window = rate_window
        self.figure_window = figure_window
        self._max_series = max_series
        self._clock = clock
        self._lock = threading.Lock()
        self._series_lock = threading.Lock()
        self._families: dict[str, MetricFamily[Any]] = {}
        self._series: dict[SeriesKey, RingSeries] = {}
        self._last_sample: float | None = None
        self._agents: dict[str, tuple[CounterChild, CounterChild, HistogramChild, RollingWindow]] = {}
        self._unverified: dict[str, CounterChild] = {}
        self._all = RollingWindow(window_size)
        self.deliveries = self.counter("deliveries", "Deliveries by agent and outcome.",
                                       ("agent", "outcome"))
        self.delivery_seconds = self.histogram(
            "delivery_seconds", "Time per delivery, retries included.", ("agent",))

    # -- families ----------------------------------------------------------------------------

    def counter(self, name: str, help: str = "", labelnames: Sequence[str] = ()) -> Counter:
        return self._family(Counter, name, help, labelnames)

    def gauge(self, name: str, help: str = "", labelnames: Sequence[str] = ()) -> Gauge:
        return self._family(Gauge, name, help, labelnames)

    def histogram(self, name: str, help: str = "", labelnames: Sequence[str] = (), *,
                  buckets: Sequence[float] = DEFAULT_BUCKETS) -> Histogram:
        return self._family(Histogram, name, help, labelnames, buckets=buckets)

    def timer(self, name: str, help: str = "", labelnames: Sequence[str] = (), *,
              buckets: Sequence[float] = DEFAULT_BUCKETS) -> Timer:
        return self._family(Timer, name, help, labelnames, buckets=buckets,
                            clock=self._clock, window_size=self.window_size)

    def _family(self, cls: type[_Family], name: str, help: str, labelnames: Sequence[str], **kw: Any) -> _Family:
        """Get-or-create: asking twice for the same metric returns the same family."""
        key = name.removesuffix("_total") if cls is Counter else name
        existing = self._families.get(key)
        if existing is None:
            family = cls(name, help, labelnames, lock=self._lock, max_series=self._max_series, **kw)
            with self._lock:
                existing = self._families.setdefault(key, family)
        if type(existing) is not cls or existing.labelnames != tuple(labelnames) or not isinstance(existing, cls):
            raise ValueError(f"metric {key!r} already exists as another kind or labels")
        return existing

    def families(self) -> list[MetricFamily[Any]]:
        with self._lock:
            return list(self._families.values())

    # -- deliveries ----------------------------------------------------------------------------

    def record_delivery(self, agent: str, ok: bool, seconds: float, *, verified: bool = True) -> None:
        """Count one finished delivery and its duration (the hot path). A delivery that ended
        without error but without evidence of arrival (``verified=False``) is counted apart, as
        outcome ``unverified``: it is not a failure, and not a confirmed success either."""
        now = self._clock()
        slot = self._agents.get(agent)
        if slot is None:
            slot = self._agent_slot(agent)
        done, failed, hist, window = slot
        apart = self._unverified_child(agent) if ok and not verified else None  # takes the lock itself
        with self._lock:
            if apart is not None:
                apart.value += 1
            elif ok:
                done.value += 1
            else:
                failed.value += 1
            hist._observe(seconds)
            code = UNVERIFIED if apart is not None else int(ok)
            window.add(now, seconds, code)
            self._all.add(now, seconds, code)

    def _agent_slot(self, agent: str) -> tuple[CounterChild, CounterChild, HistogramChild, RollingWindow]:
        slot = (self.deliveries.labels(agent, "ok"), self.deliveries.labels(agent, "failed"),
                self.delivery_seconds.labels(agent), RollingWindow(self.window_size))
        with self._lock:
            return self._agents.setdefault(agent, slot)

    def _unverified_child(self, agent: str) -> CounterChild:
        child = self._unverified.get(agent)
        if child is None:
            child = self._unverified[agent] = self.deliveries.labels(agent, "unverified")
        return child

    def agents(self) -> list[str]:
        with self._lock:
            return list(self._agents)

    def delivery_stats(self, agent: str | None = None) -> dict[str, Any]:
        """Totals (``ok``: submitted with evidence, ``unverified``, ``failed``), p50/p95/p99 in
        seconds, throughput (per second) and failure rate (0-1); and ``window``: the figures of
        the figure window alone (``RollingWindow.figures``) plus its ``name``, what screens show.

        Without ``agent``: over every agent. An agent never seen gives zeros and Nones.
        """
        now = self._clock()
        with self._lock:
            if agent is None:
                window = self._all.copy()
                ok = sum(slot[0].value for slot in self._agents.values())
                failed = sum(slot[1].value for slot in self._agents.values())
                unverified = sum(child.value for child in self._unverified.values())
            elif agent in self._agents:
                done, bad, _, live = self._agents[agent]
                window, ok, failed = live.copy(), done.value, bad.value
                unverified = self._unverified[agent].value if agent in self._unverified else 0
            else:
                window, ok, failed, unverified = RollingWindow(1), 0, 0, 0
        figures = {**window.figures(now, self.figure_window), "name": window_name(self.figure_window)}
        return {"ok": int(ok), "failed": int(failed), "unverified": int(unverified),
                **window.stats(now, self.rate_window), "window": figures}

    # -- chart series ----------------------------------------------------------------------------

    def sample(self, now: float | None = None) -> None:
        """Append the current value of every series to its ring.

        Series: every counter and gauge child (its value), every histogram or timer child
        (``<name>_count``), and per agent plus overall (no labels): ``delivery_throughput``
        (per second), ``delivery_failed_throughput`` (failed per second), ``delivery_failure_rate``
        (0-1, unverified deliveries counted apart) and ``delivery_p50/p95/p99_seconds``.
        Undefined values (no deliveries yet) are stored as NaN.
        """
        now = self._clock() if now is None else now
        points: list[tuple[SeriesKey, float]] = []
        for family in self.families():
            suffix = "_count" if isinstance(family, Histogram) else ""
            for values, state in family.samples():
                labels = dict(zip(family.labelnames, values, strict=False))
                value = state[2] if suffix else state
                points.append((_key(family.name + suffix, labels), float(value)))
        with self._lock:
            windows = [({"agent": a}, slot[3].copy()) for a, slot in self._agents.items()]
            windows.append(({}, self._all.copy()))
        for labels, window in windows:
            stats = window.stats(now, self.rate_window)
            for name, field in (("delivery_throughput", "throughput"),
                                ("delivery_failed_throughput", "failed_throughput"),
                                ("delivery_failure_rate", "failure_rate"),
                                ("delivery_p50_seconds", "p50"), ("delivery_p95_seconds", "p95"),
                                ("delivery_p99_seconds", "p99")):
                value = stats[field]
                points.append((_key(name, labels), math.nan if value is None else value))
        with self._series_lock:
            for key, value in points:
                ring = self._series.get(key)
                if ring is None:
                    ring = self._series[key] = RingSeries(self.max_data_points)
                ring.append(now, value)
            self._last_sample = now

    def maybe_sample(self) -> bool:
        """Sample if ``collection_interval`` has passed since the last sample; True if it did."""
        now = self._clock()
        last = self._last_sample
        if last is not None and now - last < self.collection_interval:
            return False
        self.sample(now)
        return True

    def run_sampler(self, stop: threading.Event) -> None:
        """Sample every ``collection_interval`` until ``stop`` is set (run it on a worker thread)."""
        while not stop.wait(self.collection_interval):
            self.sample()

    def series(self, name: str, labels: Mapping[str, object] | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """(t, v) of one series, oldest first: one copy, safe to keep. Empty if never sampled."""
        import numpy as np

        with self._series_lock:
            ring = self._series.get(_key(name, labels))
            if ring is None:
                return np.empty(0), np.empty(0)
            t, v = ring.view()
            return t.copy(), v.copy()

    def series_keys(self) -> list[SeriesKey]:
        with self._series_lock:
            return list(self._series)

    # -- export ------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything as plain JSON-able data (for ``quarterdeck metrics``)."""
        import numpy as np

        metrics = []
        for family in self.families():
            rows = []
            for values, state in family.samples():
                row: dict[str, Any] = {"labels": dict(zip(family.labelnames, values, strict=False))}
                if isinstance(family, Histogram):
                    counts, total, count = state
                    cumulative = np.cumsum(counts).tolist()
                    row["buckets"] = {**{repr(b): c for b, c in zip(family.bounds, cumulative, strict=False)},
                                      "+Inf": count}
                    row.update(count=count, sum=total)
                else:
                    row["value"] = state
                rows.append(row)
            metrics.append({"name": family.name, "kind": family.kind, "help": family.help,
                            "samples": rows})
        return {
            "collection_interval": self.collection_interval,
            "deliveries": self.delivery_stats(),
            "agents": {agent: self.delivery_stats(agent) for agent in self.agents()},
            "metrics": metrics,
        }
