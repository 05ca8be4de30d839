"""Metric primitives: counters, gauges, histograms and timers, optionally labelled.

Each family owns its children, one per label-value tuple, and shares its monitor's lock; a
child's public methods take that lock for a few field updates only. Families are exported as
they are (see ``quarterdeck.core.monitor.prometheus``), so names follow the Prometheus rules: counters are
named without ``_total`` (the exporter adds it) and timers are in seconds, named ``*_seconds``.
"""
from __future__ import annotations

import re
import threading
import time
from abc import ABC, abstractmethod
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from itertools import pairwise
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast

from quarterdeck.core.monitor.series import RollingWindow

__all__ = ["DEFAULT_BUCKETS", "Counter", "Gauge", "Histogram", "MetricFamily", "Timer",
           "check_label_name", "check_metric_name"]

# The usual latency buckets, in seconds; "+Inf" is implied.
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")


def check_metric_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"invalid metric name {name!r}")
    return name


def check_label_name(name: str) -> str:
    if not _LABEL.match(name) or name.startswith("__"):
        raise ValueError(f"invalid label name {name!r}")
    return name


class CounterChild:
    __slots__ = ("_lock", "value")

    def __init__(self, lock: threading.Lock) -> None:
        self._lock, self.value = lock, 0.0

    def inc(self, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError("a counter can only go up")
        with self._lock:
            self.value += amount

    def _state(self) -> float:
        return self.value


class GaugeChild(CounterChild):
    __slots__ = ()

    def inc(self, amount: float = 1.0) -> None:
        with self._lock:
            self.value += amount

    def dec(self, amount: float = 1.0) -> None:
        self.inc(-amount)

    def set(self, value: float) -> None:
        with self._lock:
            self.value = float(value)


class HistogramChild:
    """Counts per bucket (the last one is ``+Inf``), stored per bucket and cumulated on export."""

    __slots__ = ("_lock", "bounds", "count", "counts", "sum")

    def __init__(self, lock: threading.Lock, bounds: tuple[float, ...]) -> None:
        self._lock, self.bounds = lock, bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        with self._lock:
            self._observe(value)

    def _observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value
        self.count += 1

    def _state(self) -> tuple[tuple[int, ...], float, int]:
        return tuple(self.counts), self.sum, self.count


class TimerChild(HistogramChild):
    """A histogram in seconds that also keeps its last raw samples for exact percentiles."""

    __slots__ = ("_clock", "window")

    def __init__(self, lock: threading.Lock, bounds: tuple[float, ...],
                 clock: Callable[[], float], window_size: int) -> None:
        super().__init__(lock, bounds)
        self._clock = clock
        self.window = RollingWindow(window_size)

    def record(self, seconds: float) -> None:
        now = self._clock()
        with self._lock:
            self._observe(seconds)
            self.window.add(now, seconds)

    def observe(self, value: float) -> None:
        self.record(value)

    @contextmanager
    def time(self) -> Iterator[None]:
        """Record how long the ``with`` block took, even when it raises."""
        start = self._clock()
        try:
            yield
        finally:
            self.record(self._clock() - start)

    def stats(self, horizon: float = 60.0) -> dict[str, float | int | None]:
        now = self._clock()
        with self._lock:
            window = self.window.copy()
        return window.stats(now, horizon)


class _HasState(Protocol):
    def _state(self) -> Any:
        """The child's value(s), read under the family's lock."""


_Child = TypeVar("_Child", bound=_HasState)


class MetricFamily(ABC, Generic[_Child]):
    """Children of type ``_Child``, one per label-value tuple."""

    kind: ClassVar[str]

    def __init__(self, name: str, help: str = "", labelnames: Sequence[str] = (), *,
                 lock: threading.Lock | None = None, max_series: int = 256, **child_args: Any) -> None:
        self.name = check_metric_name(name)
        self.help = help
        self.labelnames = tuple(check_label_name(n) for n in labelnames)
        if len(set(self.labelnames)) != len(self.labelnames):
            raise ValueError(f"duplicate label names in {self.labelnames}")
        self._lock = lock or threading.Lock()
        self._max_series = max_series
        self._child_args = child_args
        self._children: dict[tuple[str, ...], _Child] = {}
        if not self.labelnames:
            self._children[()] = self._new_child()

    @abstractmethod
    def _new_child(self) -> _Child:
        """A fresh child holding this family's state for one label set."""

    def labels(self, *values: object, **named: object) -> _Child:
        """The child for these label values (created on first use, at most ``max_series``)."""
        if named:
            if values:
                raise ValueError("pass label values by position or by name, not both")
            if set(named) != set(self.labelnames):
                raise ValueError(f"{self.name} takes labels {self.labelnames}")
            values = tuple(named[n] for n in self.labelnames)
        key = tuple(str(v) for v in values)
        child = self._children.get(key)
        if child is not None:
            return child
        if len(key) != len(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}")
        with self._lock:
            child = self._children.get(key)
            if child is None:
                if len(self._children) >= self._max_series:
                    raise ValueError(f"{self.name}: more than {self._max_series} label sets")
                child = self._children[key] = self._new_child()
            return child

    def _only(self) -> _Child:
        if self.labelnames:
            raise ValueError(f"{self.name} is labelled {self.labelnames}; use .labels(...)")
        return self._children[()]

    def samples(self) -> list[tuple[tuple[str, ...], Any]]:
        """(label values, state) per child, read consistently under the lock."""
        with self._lock:
            return [(key, child._state()) for key, child in self._children.items()]


class Counter(MetricFamily[CounterChild]):
    kind = "counter"

    def __init__(self, name: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(name.removesuffix("_total"), *args, **kwargs)

    def _new_child(self) -> CounterChild:
        return CounterChild(self._lock)

    def inc(self, amount: float = 1.0) -> None:
        self._only().inc(amount)


class Gauge(MetricFamily[GaugeChild]):
    kind = "gauge"

    def _new_child(self) -> GaugeChild:
        return GaugeChild(self._lock)

    def set(self, value: float) -> None:
        self._only().set(value)

    def inc(self, amount: float = 1.0) -> None:
        self._only().inc(amount)

    def dec(self, amount: float = 1.0) -> None:
        self._only().dec(amount)


class Histogram(MetricFamily[HistogramChild]):
    kind = "histogram"

    def __init__(self, name: str, help: str = "", labelnames: Sequence[str] = (), *,
                 buckets: Sequence[float] = DEFAULT_BUCKETS, **kwargs: Any) -> None:
        bounds = tuple(float(b) for b in buckets if b != float("inf"))
        if not bounds or any(a >= b for a, b in pairwise(bounds)):
            raise ValueError("buckets must be strictly increasing and not empty")
        if "le" in labelnames:
            raise ValueError("'le' is reserved for histogram buckets")
        self.bounds = bounds
        super().__init__(name, help, labelnames, **kwargs)

    def _new_child(self) -> HistogramChild:
        return HistogramChild(self._lock, self.bounds)

    def observe(self, value: float) -> None:
        self._only().observe(value)


class Timer(Histogram):
    """A histogram of durations with a rolling window for percentiles, exported as a histogram."""

    def __init__(self, name: str, help: str = "", labelnames: Sequence[str] = (), *,
                 clock: Callable[[], float] = time.monotonic, window_size: int = 1000,
                 **kwargs: Any) -> None:
        if not name.endswith("_seconds"):
            raise ValueError("timer names end in _seconds")
        super().__init__(name, help, labelnames, clock=clock, window_size=window_size, **kwargs)

    def _new_child(self) -> TimerChild:
        return TimerChild(self._lock, self.bounds, **self._child_args)

    # every child of a Timer is made by _new_child above: a TimerChild
    def labels(self, *values: object, **named: object) -> TimerChild:
        return cast(TimerChild, super().labels(*values, **named))

    def _only(self) -> TimerChild:
        return cast(TimerChild, super()._only())

    def record(self, seconds: float) -> None:
        self._only().record(seconds)

    def time(self) -> AbstractContextManager[None]:
        return self._only().time()

    def stats(self, horizon: float = 60.0) -> dict[str, float | int | None]:
        return self._only().stats(horizon)
