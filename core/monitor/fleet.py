"""What the fleet dashboards read besides deliveries: breaker states and the outbox depth.

The monitor already samples delivery rates and latencies. ``FleetFeed`` adds two things the
dispatcher does not record there:

- each agent's circuit-breaker state, as the gauge ``agent_breaker_state{agent}`` (the
  ``State`` id: 0 closed, 1 open, 2 half-open, 3 disabled, 4 forced open), set by a breaker
  listener. The name differs from the exporter's own ``breaker_state`` family, so a process that
  exports both never publishes one name twice. The gauge is only seen at sample time (every
  ``collection_interval``, 5 s by default), which would hide a half-open probe of a few hundred
  milliseconds, so the feed also keeps every transition with its time: ``bands()`` turns them
  into exact (agent, state, start, end) stretches for a timeline;
- the outbox depth, as the gauges ``outbox_queued``, ``outbox_sending`` and ``outbox_waiting``
  (sent "when idle", waiting for the agent to be free), from a ``Store.counts_by_state()`` result
  the caller fetched (the feed never touches SQLite).

The listener runs on whichever thread reports a breaker outcome (the delivery thread); readers
run on another, so the transition log is guarded by a lock.

``health_rows`` flattens a ``service_health()`` tree into display rows, and ``axis_ceiling``
picks a round upper bound for a chart's value axis.
"""
from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from quarterdeck.core.resilience.breaker_types import BreakerEvent, State

if TYPE_CHECKING:
    import numpy as np

    from quarterdeck.core.monitor import Monitor
    from quarterdeck.core.resilience import BreakerRegistry

__all__ = ["BREAKER_GAUGE", "QUEUE_GAUGES", "Band", "FleetFeed", "HealthRow", "axis_ceiling",
           "health_rows"]

BREAKER_GAUGE = "agent_breaker_state"
QUEUE_GAUGES = {"queued": "outbox_queued", "sending": "outbox_sending", "waiting": "outbox_waiting"}


@dataclass(frozen=True, slots=True)
class Band:
    """One agent's breaker in one state from ``start`` to ``end`` (monitor clock seconds)."""

    agent: str
    state: State
    start: float
    end: float


class FleetFeed:
    """Feeds breaker states and queue depth into ``monitor`` (see the module docstring).

    ``history`` bounds the transitions kept per agent; ``clock`` must be the breakers' clock
    (``time.monotonic``, as the monitor's) so bands and chart series share one time axis.
    """

    def __init__(self, monitor: Monitor, *, history: int = 1024,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.monitor = monitor
        self.clock = clock
        self._history = history
        self._lock = threading.Lock()
        self._changes: dict[str, deque[tuple[float, State]]] = {}
        self._state_gauge = monitor.gauge(
            BREAKER_GAUGE, "Circuit breaker state: 0 closed, 1 open, 2 half-open, 3 disabled, "
            "4 forced open.", ("agent",))
        self._queue_gauges = {state: monitor.gauge(name, f"Outbox deliveries {state} now.")
                              for state, name in QUEUE_GAUGES.items()}

    # -- breakers ------------------------------------------------------------------------------
    def attach(self, breakers: BreakerRegistry) -> None:
        """Listen to every breaker of a ``BreakerRegistry`` (present and future) and record the
        current state of the present ones. Listening starts first, so no transition is lost."""
        breakers.add_listener(self.on_breaker_event)
        for breaker in breakers:
            self.track(breaker.name, breaker.state)

    def track(self, agent: str, state: State) -> None:
        """Start the agent's timeline at ``state`` now, unless it already has one."""
        now = self.clock()
        with self._lock:
            if agent in self._changes:
                return
            self._changes[agent] = deque([(now, state)], maxlen=self._history)
        self._state_gauge.labels(agent).set(int(state))

    def on_breaker_event(self, event: BreakerEvent) -> None:
        """The breaker listener: only state transitions matter here."""
        if event.kind != "state_transition" or event.to_state is None:
            return
        with self._lock:
            changes = self._changes.get(event.breaker)
            if changes is None:
                changes = self._changes[event.breaker] = deque(maxlen=self._history)
            changes.append((event.at, event.to_state))
        self._state_gauge.labels(event.breaker).set(int(event.to_state))

    def states(self) -> dict[str, State]:
        """Each tracked agent's latest state."""
        with self._lock:
            return {agent: changes[-1][1] for agent, changes in self._changes.items() if changes}

    def bands(self, agents: Iterable[str], start: float, end: float) -> list[Band]:
        """The stretches of each agent's states overlapping ``[start, end]``, clipped to it; an
        agent's last state lasts until ``end``. Agents never tracked have no bands."""
        with self._lock:
            logs = {agent: list(self._changes.get(agent, ())) for agent in agents}
        out: list[Band] = []
        for agent, changes in logs.items():
            for n, (at, state) in enumerate(changes):
                until = changes[n + 1][0] if n + 1 < len(changes) else end
                lo, hi = max(at, start), min(until, end)
                if hi > lo:
                    out.append(Band(agent, state, lo, hi))
        return out

    # -- outbox --------------------------------------------------------------------------------
    def record_outbox(self, counts: Mapping[str, int]) -> None:
        """Set the queue gauges from ``Store.counts_by_state()`` (missing states count 0)."""
        for state, gauge in self._queue_gauges.items():
            gauge.set(counts.get(state, 0))


def axis_ceiling(values: np.ndarray, minimum: float) -> float:
    """A round upper bound (1, 2, 2.5 or 5 times a power of ten) at least 10 % above the
    largest finite value, and never below ``minimum``: the axis keeps still while values wander
    under it, and a quiet chart still shows a sensible scale."""
    import numpy as np  # here: the fleet monitor runs in every process; only a chart's axis needs it

    finite = values[np.isfinite(values)] if len(values) else values
    top = float(finite.max()) * 1.1 if len(finite) else 0.0
    if top <= minimum:
        return minimum
    power = 10.0 ** math.floor(math.log10(top))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if top <= step * power:
            return step * power
    return 10.0 * power  # pragma: no cover (the loop always returns)


# -- health as rows ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class HealthRow:
    """One component of a health tree: where it sits, its status, why, and the rest."""

    path: tuple[str, ...]
    status: str
    reason: str
    details: str


_DETAIL_ORDER = ("breaker", "failure_rate", "retry_in_s", "delivered", "failed", "unverified", "last_error",
                 "error")
_NOT_SHOWN = ("reason", "window")


def _detail_text(details: Mapping[str, Any]) -> str:
    parts = []
    keys = [k for k in _DETAIL_ORDER if k in details]
    keys += sorted(k for k in details if k not in _DETAIL_ORDER and k not in _NOT_SHOWN)
    window = f" in the {details['window']}" if details.get("window") else ""
    for key in keys:
        value = details[key]
        if value is None or (key == "unverified" and not value):
            continue
        if key == "failure_rate":
            parts.append(f"failure rate {value:.0%}{window}")
        elif key == "retry_in_s":
            parts.append(f"trial in {value:.0f} s")
        elif key == "breaker":
            parts.append(f"breaker {str(value).lower().replace('_', '-')}")
        elif isinstance(value, float):
            parts.append(f"{key.replace('_', ' ')} {value:g}")
        else:
            parts.append(f"{key.replace('_', ' ')} {value}")
    return " · ".join(parts)


def health_rows(tree: Mapping[str, Any], path: tuple[str, ...] = ()) -> list[HealthRow]:
    """Depth first, parents before their children; the root itself is not a row."""
    rows: list[HealthRow] = []
    for name, part in tree.get("components", {}).items():
        here = (*path, name)
        details = part.get("details", {})
        rows.append(HealthRow(here, str(part.get("status", "UNKNOWN")),
                              str(details.get("reason", "")), _detail_text(details)))
        rows.extend(health_rows(part, here))
    return rows
