"""Health: aggregation order, HTTP mapping, composites, per-agent rules and the fleet score."""
from __future__ import annotations

import logging

import pytest
from fakes import FakeClock

from quarterdeck.core.monitor import Monitor
from quarterdeck.core.monitor.health import (
    AgentHealth,
    CompositeHealth,
    Health,
    Status,
    agent_health,
    aggregate,
    fleet_health,
    health_score,
    http_status,
)
from quarterdeck.core.resilience import BreakerConfig, BreakerRegistry, CircuitBreaker, State

UP, DOWN, OOS, DEG, UNK = (Status.UP, Status.DOWN, Status.OUT_OF_SERVICE, Status.DEGRADED,
                           Status.UNKNOWN)


@pytest.mark.parametrize("statuses, expected", [
    ([], UNK),
    ([UNK], UNK),
    ([UP], UP),
    ([UP, UNK], UP),
    ([UNK, UP, UNK], UP),
    ([UP, DEG], DEG),
    ([UNK, DEG], DEG),
    ([DEG, OOS, UP], OOS),
    ([UP, DOWN], DOWN),
    ([OOS, DOWN, DEG, UP, UNK], DOWN),
])
def test_aggregate_takes_the_first_status_in_order(statuses, expected):
    assert aggregate(statuses) is expected


def test_a_custom_order_is_honoured():
    assert aggregate([UP, DEG], order=(DOWN, OOS, UP, DEG, UNK)) is UP


@pytest.mark.parametrize("status, code", [(UP, 200), (DEG, 200), (UNK, 200), (DOWN, 503),
                                          (OOS, 503)])
def test_http_codes(status, code):
    assert http_status(status) == code


def test_composite_shape_nesting_and_failures():
    def broken():
        raise ConnectionError("tmux gone")

    tree = CompositeHealth({
        "agents": CompositeHealth({"A": lambda: Health(UP, {"x": 1}), "B": lambda: Health(UNK)}),
        "store": lambda: Health(UP),
    })
    assert tree.check() == {"status": "UP", "components": {
        "agents": {"status": "UP", "components": {
            "A": {"status": "UP", "details": {"x": 1}},
            "B": {"status": "UNKNOWN", "details": {}}}},
        "store": {"status": "UP", "details": {}}}}
    tree.add("tmux", broken)
    report = tree.check()
    assert report["status"] == "DOWN"
    assert report["components"]["tmux"]["details"] == {"error": "ConnectionError: tmux gone"}
    tree.remove("tmux")
    assert CompositeHealth().check() == {"status": "UNKNOWN", "components": {}}


def test_slow_checks_are_logged(caplog):
    clock = FakeClock()

    def slow():
        clock.t += 11
        return Health(UP)

    with caplog.at_level(logging.WARNING):
        CompositeHealth({"slow": slow, "fast": lambda: Health(UP)}, clock=clock).check()
    assert "'slow' took 11.0s" in caplog.text and "fast" not in caplog.text


def breaker_in(state: State, clock: FakeClock) -> CircuitBreaker:
    b = CircuitBreaker("A", BreakerConfig.from_threshold(1, wait_duration=30), clock=clock)
    if state in (State.OPEN, State.HALF_OPEN):
        b.on_error(b.try_acquire(), "x")
    if state is State.HALF_OPEN:
        clock.t += 30
        b.try_acquire()
    if state is State.FORCED_OPEN:
        b.force_open()
    if state is State.DISABLED:
        b.disable()
    assert b.state is state
    return b


@pytest.mark.parametrize("state, rate, expected", [
    (State.FORCED_OPEN, 0.0, OOS),
    (State.OPEN, 0.0, DOWN),
    (State.HALF_OPEN, 0.0, DEG),
    (State.CLOSED, None, UNK),
    (State.CLOSED, 0.1, UP),
    (State.CLOSED, 0.25, DEG),
    (State.DISABLED, 0.9, DEG),
    (State.DISABLED, 0.0, UP),
])
def test_agent_health_rules(state, rate, expected):
    health = agent_health(breaker_in(state, FakeClock()).snapshot(), rate)
    assert health.status is expected
    assert health.details["breaker"] == state.name and health.details["failure_rate"] == rate
    assert ("reason" in health.details) is (expected is not UP)


def test_an_open_agent_says_when_it_will_be_tried_again():
    clock = FakeClock()
    b = breaker_in(State.OPEN, clock)
    clock.t += 12
    assert agent_health(b.snapshot()).details["retry_in_s"] == 18.0


def test_agent_indicator_reads_the_monitor_or_else_the_breaker_window():
    clock = FakeClock()
    b = CircuitBreaker("A", BreakerConfig(window_size=10, minimum_calls=10), clock=clock)
    for failed in (True, False, False, False):
        permit = b.try_acquire()
        if failed:
            b.on_error(permit, "x")
        else:
            b.on_success(permit)
    assert AgentHealth(b)().status is DEG  # 1 of 4 failed in its window
    monitor = Monitor(clock=clock)
    monitor.record_delivery("A", True, 0.1)
    from_monitor = AgentHealth(b, lambda: monitor.delivery_stats("A"))()
    assert from_monitor.status is UP and from_monitor.details["failure_rate"] == 0.0
    clock.t += 3600  # nothing recent in the monitor: the breaker's last calls decide
    assert AgentHealth(b, lambda: monitor.delivery_stats("A"))().details["failure_rate"] == 0.25
    assert AgentHealth(CircuitBreaker("fresh", clock=clock))().status is UNK


def test_fleet_health_over_a_registry():
    clock = FakeClock()
    reg = BreakerRegistry(BreakerConfig.from_threshold(1), clock=clock)
    monitor = Monitor(clock=clock)
    for agent, ok in (("A", True), ("B", True)):
        reg.get(agent)
        monitor.record_delivery(agent, ok, 0.1)
    reg.get("C").force_open()
    report = fleet_health(reg, monitor).check()
    assert report["status"] == "OUT_OF_SERVICE"
    assert {n: c["status"] for n, c in report["components"].items()} == {
        "A": "UP", "B": "UP", "C": "OUT_OF_SERVICE"}
    assert health_score(report["components"]) == 100


@pytest.mark.parametrize("parts, score", [
    ({}, None),
    ({"a": {"status": "UNKNOWN"}, "b": {"status": "OUT_OF_SERVICE"}}, None),
    ({"a": {"status": "UP", "details": {"failure_rate": 0.1}}}, 90),
    ({"a": {"status": "UP"}, "b": {"status": "DOWN"}}, 50),
    ({"a": {"status": "DEGRADED", "details": {"failure_rate": 0.5}},
      "b": {"status": "UP", "details": {"failure_rate": None}},
      "c": {"status": "UNKNOWN"}}, 63),  # (0.5 * 0.5 + 1) / 2, rounded half up
])
def test_health_score_formula(parts, score):
    assert health_score(parts) == score
