"""Health: statuses, how they combine, and the per-agent and fleet indicators.

Aggregation walks ``STATUS_ORDER`` (DOWN, OUT_OF_SERVICE, DEGRADED, UP, UNKNOWN) and takes the
first status any component has, so one DOWN component makes the whole DOWN, while an UNKNOWN
component never hides an UP one. No components at all gives UNKNOWN. As an HTTP code, DOWN and
OUT_OF_SERVICE are 503 and everything else 200.

Per agent (``agent_health``), from its breaker and its recent failure rate:

- breaker FORCED_OPEN -> OUT_OF_SERVICE: the captain took the agent out on purpose;
- breaker OPEN -> DOWN: deliveries kept failing, nothing is sent until the wait is over;
- breaker HALF_OPEN -> DEGRADED: trial deliveries are probing the agent;
- otherwise (CLOSED or DISABLED) the recent failure rate decides: none known (never delivered
  to) -> UNKNOWN, at least ``degraded_at`` -> DEGRADED, else UP.

The fleet score (``health_score``) is 0-100: each agent scores 1 when UP, 0.5 when DEGRADED and
0 when DOWN, times (1 - its recent failure rate, 0 if unknown); the score is 100 times the mean,
rounded half up. OUT_OF_SERVICE and UNKNOWN agents are left out, and with none left the score is None.
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from quarterdeck.core.resilience.breaker import CircuitBreaker, State
from quarterdeck.core.resilience.breaker_types import BreakerSnapshot

if TYPE_CHECKING:
    from quarterdeck.core.monitor import Monitor

__all__ = [
    "STATUS_ORDER",
    "AgentHealth",
    "CompositeHealth",
    "Health",
    "HealthIndicator",
    "Status",
    "agent_health",
    "aggregate",
    "fleet_health",
    "health_score",
    "http_status",
]

log = logging.getLogger(__name__)


class Status(StrEnum):
    UP = "UP"
    DOWN = "DOWN"
    OUT_OF_SERVICE = "OUT_OF_SERVICE"
    DEGRADED = "DEGRADED"
    UNKNOWN = "UNKNOWN"


STATUS_ORDER = (Status.DOWN, Status.OUT_OF_SERVICE, Status.DEGRADED, Status.UP, Status.UNKNOWN)
_SCORE = {Status.UP: 1.0, Status.DEGRADED: 0.5, Status.DOWN: 0.0}


def aggregate(statuses: Iterable[Status], order: tuple[Status, ...] = STATUS_ORDER) -> Status:
    present = set(statuses)
    return next((status for status in order if status in present), Status.UNKNOWN)


def http_status(status: Status) -> int:
    return 503 if status in (Status.DOWN, Status.OUT_OF_SERVICE) else 200


@dataclass(frozen=True)
class Health:
    status: Status
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"status": str(self.status), "details": dict(self.details)}


class HealthIndicator(Protocol):
    def __call__(self) -> Health: ...


class CompositeHealth:
    """A named tree of indicators; nested composites become nested ``components``.

    An indicator that raises counts as DOWN with the error in its details; one slower than
    ``slow_after`` seconds is logged.
    """

    def __init__(self, components: Mapping[str, HealthIndicator | CompositeHealth] | None = None,
                 *, order: tuple[Status, ...] = STATUS_ORDER, slow_after: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._components: dict[str, HealthIndicator | CompositeHealth] = dict(components or {})
        self.order, self.slow_after, self._clock = order, slow_after, clock

    def add(self, name: str, indicator: HealthIndicator | CompositeHealth) -> None:
        self._components[name] = indicator

    def remove(self, name: str) -> None:
        self._components.pop(name, None)

    def check(self) -> dict[str, Any]:
        """``{"status": ..., "components": {name: {"status": ..., "details"|"components": ...}}}``"""
        parts = {name: self._check_one(name, indicator)
                 for name, indicator in list(self._components.items())}
        status = aggregate((Status(part["status"]) for part in parts.values()), self.order)
        return {"status": str(status), "components": parts}

    def _check_one(self, name: str, indicator: HealthIndicator | CompositeHealth) -> dict[str, Any]:
        if isinstance(indicator, CompositeHealth):
            return indicator.check()
        start = self._clock()
        try:
            result = indicator().to_dict()
        except Exception as exc:
            result = Health(Status.DOWN, {"error": f"{type(exc).__name__}: {exc}"}).to_dict()
        took = self._clock() - start
        if took > self.slow_after:
            log.warning("health check %r took %.1fs", name, took)
        return result


def agent_health(breaker: BreakerSnapshot, failure_rate: float | None = None, *,
                 degraded_at: float = 0.25) -> Health:
    """One agent's health from its breaker snapshot and recent failure rate (0-1, or None)."""
    details: dict[str, Any] = {"breaker": breaker.state.name, "failure_rate": failure_rate}
    if breaker.state is State.FORCED_OPEN:
        return Health(Status.OUT_OF_SERVICE, {**details, "reason": "taken out of service by hand"})
    if breaker.state is State.OPEN:
        return Health(Status.DOWN, {**details, "retry_in_s": round(breaker.remaining_wait, 3),
                                    "reason": "circuit open after repeated delivery failures"})
    if breaker.state is State.HALF_OPEN:
        return Health(Status.DEGRADED, {**details, "reason": "trial deliveries in progress"})
    if failure_rate is None:
        return Health(Status.UNKNOWN, {**details, "reason": "no recent deliveries"})
    if failure_rate >= degraded_at:
        return Health(Status.DEGRADED, {**details, "reason": "many recent deliveries failed"})
    return Health(Status.UP, details)


class AgentHealth:
    """Indicator for one agent. The failure rate is ``stats()['failure_rate']`` when given (e.g.
    ``lambda: monitor.delivery_stats(agent)``, recent deliveries) and known; otherwise the share of
    failures in the breaker's window, so an idle agent keeps the verdict of its last deliveries."""

    def __init__(self, breaker: CircuitBreaker,
                 stats: Callable[[], Mapping[str, Any]] | None = None, *,
                 degraded_at: float = 0.25) -> None:
        self.breaker, self.stats, self.degraded_at = breaker, stats, degraded_at

    def __call__(self) -> Health:
        snap = self.breaker.snapshot()
        rate = self.stats().get("failure_rate") if self.stats is not None else None
        if rate is None and snap.window_calls:
            rate = snap.window_failures / snap.window_calls
        return agent_health(snap, rate, degraded_at=self.degraded_at)


def fleet_health(breakers: Iterable[CircuitBreaker], monitor: Monitor | None = None, *,
                 degraded_at: float = 0.25) -> CompositeHealth:
    """A composite with one ``AgentHealth`` per breaker, rates from ``monitor`` when given."""
    def rates(name: str) -> Callable[[], Mapping[str, Any]] | None:
        return None if monitor is None else lambda: monitor.delivery_stats(name)

    return CompositeHealth({b.name: AgentHealth(b, rates(b.name), degraded_at=degraded_at)
                            for b in breakers})


def health_score(components: Mapping[str, Mapping[str, Any]]) -> int | None:
    """The 0-100 fleet score of a ``check()["components"]`` mapping (see the module docstring)."""
    scores = []
    for part in components.values():
        weight = _SCORE.get(Status(part["status"]))
        if weight is None:
            continue
        rate = part.get("details", {}).get("failure_rate") or 0.0
        scores.append(weight * (1.0 - rate))
    return math.floor(100 * sum(scores) / len(scores) + 0.5) if scores else None
