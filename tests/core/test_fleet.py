"""FleetFeed: breaker states and queue depth into the monitor; health trees as rows."""
from __future__ import annotations

import math

import numpy as np
import pytest

from quarterdeck.core.monitor import Monitor
from quarterdeck.core.monitor.fleet import (
    BREAKER_GAUGE,
    QUEUE_GAUGES,
    Band,
    FleetFeed,
    HealthRow,
    axis_ceiling,
    health_rows,
)
from quarterdeck.core.monitor.prometheus import export_text
from quarterdeck.core.resilience import BreakerConfig, BreakerEvent, BreakerRegistry, State


class Clock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _trip(breaker, failures: int) -> None:
    for _ in range(failures):
        breaker.on_error(breaker.try_acquire(), "boom")


def test_breaker_transitions_set_the_gauge_and_are_sampled():
    clock = Clock()
    monitor = Monitor(clock=clock)
    registry = BreakerRegistry(BreakerConfig.from_threshold(2, wait_duration=10), clock=clock)
    feed = FleetFeed(monitor, clock=clock)
    feed.attach(registry)
    breaker = registry.get("Agent-1")  # made after attaching: still heard
    feed.track("Agent-1", breaker.state)
    monitor.sample(100.0)
    clock.now = 101.0
    _trip(breaker, 2)
    monitor.sample(102.0)
    clock.now = 103.0
    breaker.force_open()
    monitor.sample(104.0)
    t, v = monitor.series(BREAKER_GAUGE, {"agent": "Agent-1"})
    assert t.tolist() == [100.0, 102.0, 104.0]
    assert v.tolist() == [State.CLOSED, State.OPEN, State.FORCED_OPEN]
    assert feed.states() == {"Agent-1": State.FORCED_OPEN}


def test_attach_records_existing_breakers_and_track_never_overwrites():
    clock = Clock(50.0)
    registry = BreakerRegistry(BreakerConfig.from_threshold(1), clock=clock)
    registry.get("A").force_open()
    registry.get("B")
    feed = FleetFeed(Monitor(clock=clock), clock=clock)
    feed.attach(registry)
    assert feed.states() == {"A": State.FORCED_OPEN, "B": State.CLOSED}
    feed.track("A", State.CLOSED)  # already known: the real state stays
    assert feed.states()["A"] is State.FORCED_OPEN


def test_bands_are_exact_clipped_and_end_at_the_given_time():
    clock = Clock(0.0)
    feed = FleetFeed(Monitor(clock=clock), clock=clock)
    feed.track("A", State.CLOSED)
    for at, to in ((10.0, State.OPEN), (40.0, State.HALF_OPEN), (40.2, State.CLOSED)):
        feed.on_breaker_event(BreakerEvent("state_transition", "A", at, to_state=to))
    feed.on_breaker_event(BreakerEvent("error", "A", 41.0))  # not a transition: ignored
    assert feed.bands(["A", "never-seen"], 5.0, 60.0) == [
        Band("A", State.CLOSED, 5.0, 10.0), Band("A", State.OPEN, 10.0, 40.0),
        Band("A", State.HALF_OPEN, 40.0, 40.2), Band("A", State.CLOSED, 40.2, 60.0)]
    assert feed.bands(["A"], 20.0, 30.0) == [Band("A", State.OPEN, 20.0, 30.0)]
    assert feed.bands(["A"], -math.inf, 5.0) == [Band("A", State.CLOSED, 0.0, 5.0)]


def test_an_agent_first_heard_of_through_an_event_starts_there():
    feed = FleetFeed(Monitor(), history=2)
    for at, to in ((1.0, State.OPEN), (2.0, State.HALF_OPEN), (3.0, State.OPEN)):
        feed.on_breaker_event(BreakerEvent("state_transition", "Z", at, to_state=to))
    # only the last two transitions are kept
    assert feed.bands(["Z"], 0.0, 4.0) == [Band("Z", State.HALF_OPEN, 2.0, 3.0),
                                           Band("Z", State.OPEN, 3.0, 4.0)]


def test_outbox_counts_become_gauges_and_export_without_clashing_with_breakers():
    monitor = Monitor()
    registry = BreakerRegistry(BreakerConfig.from_threshold(1))
    registry.get("A")
    feed = FleetFeed(monitor)
    feed.attach(registry)
    feed.record_outbox({"queued": 7, "sending": 1, "delivered": 99})
    monitor.sample(1.0)
    feed.record_outbox({"delivered": 100})
    monitor.sample(2.0)
    assert monitor.series(QUEUE_GAUGES["queued"])[1].tolist() == [7.0, 0.0]
    assert monitor.series(QUEUE_GAUGES["sending"])[1].tolist() == [1.0, 0.0]
    text = export_text(monitor, registry).decode()  # a duplicate family name would raise
    assert "quarterdeck_outbox_queued 0.0" in text
    assert 'quarterdeck_agent_breaker_state{agent="A"} 0.0' in text


@pytest.mark.parametrize(("values", "minimum", "expected"), [
    ([], 5.0, 5.0), ([np.nan], 0.1, 0.1), ([0.3], 0.1, 0.5), ([0.95], 0.1, 2.0),
    ([1.7, np.nan, 3.0], 1.0, 5.0), ([2.2], 1.0, 2.5), ([9.5], 1.0, 20.0), ([0.04], 0.1, 0.1),
    ([0.0], 0.1, 0.1), ([800.0], 5.0, 1000.0),
])
def test_axis_ceiling_is_round_and_leaves_headroom(values, minimum, expected):
    top = axis_ceiling(np.array(values, dtype=float), minimum)
    assert top == pytest.approx(expected)
    finite = [v for v in values if not math.isnan(v)]
    assert not finite or top >= max(finite) * 1.1 - 1e-12


def test_health_rows_flatten_depth_first_with_readable_details():
    tree = {"status": "DOWN", "score": 50, "components": {
        "dispatcher": {"status": "UP", "details": {"delivered": 3, "failed": 1}},
        "agents": {"status": "DOWN", "components": {
            "A": {"status": "DOWN", "details": {"breaker": "OPEN", "failure_rate": 1.0, "retry_in_s": 12.4,
                                               "reason": "circuit open"}},
            "B": {"status": "UNKNOWN", "details": {"breaker": "HALF_OPEN", "failure_rate": None,
                                                  "zeta": 0.5, "reason": "no recent deliveries"}},
        }},
    }}
    assert health_rows(tree) == [
        HealthRow(("dispatcher",), "UP", "", "delivered 3 · failed 1"),
        HealthRow(("agents",), "DOWN", "", ""),
        HealthRow(("agents", "A"), "DOWN", "circuit open", "breaker open · failure rate 100% · trial in 12 s"),
        HealthRow(("agents", "B"), "UNKNOWN", "no recent deliveries", "breaker half-open · zeta 0.5"),
    ]
