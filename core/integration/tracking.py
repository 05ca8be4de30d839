"""What coordinated calls report to a ``Monitor``: counts, times, retries and the last error.

Families (exported with the ``quarterdeck_`` prefix, see ``quarterdeck.core.monitor.prometheus``):

- ``operation_calls_total{operation, outcome}``: outcome is ok, failed (the function ran and
  finally raised), rejected (the breaker refused, the function was not called) or invalid (the
  input broke the rules, the function was not called);
- ``operation_retries_total{operation}``: attempts after the first one;
- ``operation_seconds{operation}``: time per call that ran, retries and waits included;
- ``operation_last_error_timestamp_seconds{operation}``: Unix time of the last failed call.

The last error per operation (of a call that ran and failed; refusals and invalid input are only
counted) is kept beside the monitor, redacted and shortened, for the health tree: as a metric
label its text would make the label set unbounded.
"""
from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from quarterdeck.core.monitor import Monitor
from quarterdeck.core.validation.messages import shorten
from quarterdeck.core.validation.secrets import redact

__all__ = ["ERROR_TEXT_LIMIT", "OUTCOMES", "LastError", "OperationTracker", "describe_error",
           "tracker_for"]

OUTCOMES = ("ok", "failed", "rejected", "invalid")
ERROR_TEXT_LIMIT = 300


def describe_error(error: BaseException | None, limit: int = ERROR_TEXT_LIMIT) -> str:
    """``Type: message`` on one line, secrets masked, at most ``limit`` characters.

    None is accepted because an outcome's ``error`` is optional in its type; every outcome that is
    not ok carries one, so ``no error recorded`` is only a defensive answer."""
    if error is None:
        return "no error recorded"
    return shorten(redact(f"{type(error).__name__}: {error}"), limit)


@dataclass(frozen=True)
class LastError:
    operation: str
    error: str
    severity: str
    attempts: int
    at: float  # Unix time

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class OperationTracker:
    """Records outcomes into one monitor; get the monitor's tracker with ``tracker_for``."""

    def __init__(self, monitor: Monitor, *, wall_clock: Callable[[], float] = time.time) -> None:
        self.monitor = monitor
        self._wall_clock = wall_clock
        self.calls = monitor.counter(
            "operation_calls", "Coordinated calls by outcome: ok, failed, rejected, invalid.",
            ("operation", "outcome"))
        self.retries = monitor.counter("operation_retries", "Attempts after the first one.",
                                       ("operation",))
        self.seconds = monitor.timer("operation_seconds",
                                     "Time per coordinated call, retries included.", ("operation",))
        self.last_error_at = monitor.gauge("operation_last_error_timestamp_seconds",
                                           "Unix time of the operation's last failed call.",
                                           ("operation",))
        self._lock = threading.Lock()
        self._last: dict[str, LastError] = {}

    def record(self, operation: str, outcome: str, *, attempts: int = 0,
               seconds: float | None = None, error: BaseException | None = None,
               severity: str = "MEDIUM") -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
        self.calls.labels(operation, outcome).inc()
        if attempts > 1:
            self.retries.labels(operation).inc(attempts - 1)
        if seconds is not None:
            self.seconds.labels(operation).record(seconds)
        if error is not None and outcome == "failed":
            now = self._wall_clock()
            self.last_error_at.labels(operation).set(now)
            last = LastError(operation, describe_error(error), severity, attempts, now)
            with self._lock:
                self._last[operation] = last

    def count(self, operation: str, outcome: str) -> int:
        return int(self.calls.labels(operation, outcome).value)

    def last_error(self, operation: str) -> LastError | None:
        with self._lock:
            return self._last.get(operation)


_TRACKERS: weakref.WeakKeyDictionary[Monitor, OperationTracker] = weakref.WeakKeyDictionary()
_TRACKERS_LOCK = threading.Lock()


def tracker_for(monitor: Monitor) -> OperationTracker:
    """The one tracker of ``monitor`` (created on first use), so last errors are shared too."""
    with _TRACKERS_LOCK:
        tracker = _TRACKERS.get(monitor)
        if tracker is None:
            tracker = _TRACKERS[monitor] = OperationTracker(monitor)
        return tracker
