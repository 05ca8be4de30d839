"""The health tree of the coordinated operations, in the statuses of ``quarterdeck.core.monitor.health``.

``CoordinationHealthChecker().check_health()`` returns::

    {"status": "UP", "timestamp": "2025-01-01T12:00:00+00:00",
     "components": {
        "operations": {"status": ..., "components": {"<operation>": {"status": ..., "details": {
            "breaker": "CLOSED", "failure_rate": 0.0, "calls": {"ok": 3, ...},
            "last_error": {...} | None, "reason": ...}}}},
        "dead_letters": {"status": "UP" | "DEGRADED", "details": {"count": n}}}}

Per operation, from its breaker (as an agent's health is judged): FORCED_OPEN is
OUT_OF_SERVICE, OPEN is DOWN, HALF_OPEN is DEGRADED; a closed breaker gives UNKNOWN before any
call, DEGRADED when at least ``degraded_at`` of the calls in its window failed, UP otherwise.
Dead letters waiting for a replay make that component DEGRADED (someone has to look), never DOWN.
``dead_letters`` appears only when a store is given, ``components`` adds indicators of your own.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from quarterdeck.core.integration.deadletter import DeadLetterStore
from quarterdeck.core.integration.defaults import default_breakers, default_monitor
from quarterdeck.core.integration.tracking import OUTCOMES, OperationTracker, tracker_for
from quarterdeck.core.monitor import Monitor
from quarterdeck.core.monitor.health import CompositeHealth, Health, HealthIndicator, Status, agent_health
from quarterdeck.core.resilience import BreakerRegistry, CircuitBreaker

__all__ = ["CoordinationHealthChecker", "OperationHealth"]

_REASONS = {
    Status.OUT_OF_SERVICE: "the breaker was forced open by hand",
    Status.DOWN: "circuit open after repeated failures; calls are refused until the wait is over",
    Status.DEGRADED: "many recent calls failed, or trial calls are probing",
    Status.UNKNOWN: "no calls yet",
}


class OperationHealth:
    """Indicator for one operation: its breaker, its call counts and its last error."""

    def __init__(self, breaker: CircuitBreaker, tracker: OperationTracker, *,
                 degraded_at: float = 0.25) -> None:
        self.breaker, self.tracker, self.degraded_at = breaker, tracker, degraded_at

    def __call__(self) -> Health:
        snap = self.breaker.snapshot()
        rate = snap.window_failures / snap.window_calls if snap.window_calls else None
        status = agent_health(snap, rate, degraded_at=self.degraded_at).status
        last = self.tracker.last_error(self.breaker.name)
        details: dict[str, Any] = {
            "breaker": snap.state.name,
            "failure_rate": rate,
            "calls": {outcome: self.tracker.count(self.breaker.name, outcome) for outcome in OUTCOMES},
            "last_error": last.to_dict() if last else None,
        }
        if status in _REASONS:
            details["reason"] = _REASONS[status]
        if snap.remaining_wait:
            details["retry_in_s"] = round(snap.remaining_wait, 3)
        return Health(status, details)


class _DeadLetterHealth:
    def __init__(self, store: DeadLetterStore) -> None:
        self.store = store

    def __call__(self) -> Health:
        count = self.store.count()
        if not count:
            return Health(Status.UP, {"count": 0})
        return Health(Status.DEGRADED, {"count": count, "reason": "events wait for a replay: "
                                        "quarterdeck deadletter list"})


class CoordinationHealthChecker:
    """Builds the tree afresh at every check, so operations created later appear too."""

    def __init__(self, *, breakers: BreakerRegistry | None = None, monitor: Monitor | None = None,
                 dead_letters: DeadLetterStore | None = None,
                 components: Mapping[str, HealthIndicator | CompositeHealth] | None = None,
                 degraded_at: float = 0.25,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.breakers = breakers if breakers is not None else default_breakers()
        self.monitor = monitor if monitor is not None else default_monitor()
        self.dead_letters = dead_letters
        self.components = dict(components or {})
        self.degraded_at = degraded_at
        self._now = now

    def tree(self) -> CompositeHealth:
        tracker = tracker_for(self.monitor)
        operations = CompositeHealth({
            breaker.name: OperationHealth(breaker, tracker, degraded_at=self.degraded_at)
            for breaker in sorted(self.breakers, key=lambda b: b.name)})
        parts: dict[str, HealthIndicator | CompositeHealth] = {"operations": operations}
        if self.dead_letters is not None:
            parts["dead_letters"] = _DeadLetterHealth(self.dead_letters)
        parts.update(self.components)
        return CompositeHealth(parts)

    def check_health(self) -> dict[str, Any]:
        result = self.tree().check()
        # ``overall_status`` is the documented key of the system description; ``status`` the
        # one every other health tree here uses: both say the same
        return {"status": result["status"], "overall_status": result["status"],
                "timestamp": self._now().isoformat(), "components": result["components"]}
