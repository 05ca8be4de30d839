"""Circuit breaker: every transition on a fake clock, events, late outcomes, concurrency."""
from __future__ import annotations

import logging
import threading

import pytest
from fakes import FakeClock

from quarterdeck.core.resilience import BreakerConfig, BreakerRegistry, CallNotPermitted, CircuitBreaker, State


@pytest.fixture
def clock():
    return FakeClock(1000.0)


def make(clock, **config) -> CircuitBreaker:
    return CircuitBreaker("Agent-1", BreakerConfig(**config), clock=clock)


def fail(breaker, n=1):
    for _ in range(n):
        breaker.on_error(breaker.try_acquire(), RuntimeError("boom"), 0.1)


def succeed(breaker, n=1):
    for _ in range(n):
        breaker.on_success(breaker.try_acquire(), 0.1)


def kinds(events):
    return [(e.kind, e.from_state, e.to_state) if e.kind == "state_transition" else e.kind
            for e in events]


def test_state_ids_match_the_exported_gauge():
    assert [(s.name, int(s)) for s in State] == [
        ("CLOSED", 0), ("OPEN", 1), ("HALF_OPEN", 2), ("DISABLED", 3), ("FORCED_OPEN", 4)]


def test_from_threshold_is_n_failures_out_of_the_last_n():
    cfg = BreakerConfig.from_threshold(5, wait_duration=30)
    assert (cfg.window_size, cfg.minimum_calls, cfg.failure_rate_threshold) == (5, 5, 100.0)
    assert (cfg.wait_duration, cfg.half_open_permits) == (30, 1)


@pytest.mark.parametrize("bad", [
    {"failure_rate_threshold": 0}, {"failure_rate_threshold": 101}, {"window_size": 0},
    {"window_size": 10, "minimum_calls": 11}, {"minimum_calls": 0}, {"half_open_permits": 0},
    {"wait_duration": -1}, {"max_half_open_wait": -1},
])
def test_config_rejects_nonsense(bad):
    with pytest.raises(ValueError):
        BreakerConfig(**bad)


def test_opens_at_the_threshold_and_not_before(clock):
    b = CircuitBreaker("a", BreakerConfig.from_threshold(5), clock=clock)
    fail(b, 4)
    assert b.state is State.CLOSED
    assert b.snapshot().failure_rate == -1.0  # below minimum_calls the rate is undefined
    fail(b)
    snap = b.snapshot()
    assert (snap.state, snap.failure_rate, snap.failures, snap.opened_at) == (
        State.OPEN, 100.0, 5, 1000.0)


def test_the_window_slides_so_a_success_delays_opening(clock):
    b = CircuitBreaker("a", BreakerConfig.from_threshold(5), clock=clock)
    fail(b, 4)
    succeed(b)
    fail(b, 4)
    assert b.state is State.CLOSED  # the last five hold one success
    assert (b.snapshot().window_calls, b.snapshot().window_failures) == (5, 4)
    fail(b)
    assert b.state is State.OPEN


def test_a_rate_equal_to_the_threshold_opens(clock):
    b = make(clock, failure_rate_threshold=50, window_size=4, minimum_calls=4)
    for step in (fail, succeed, fail):
        step(b)
    assert b.state is State.CLOSED
    succeed(b)
    assert b.state is State.OPEN and b.snapshot().failure_rate == 50.0


def test_open_rejects_without_a_permit_and_says_how_long(clock):
    b = make(clock, window_size=2, minimum_calls=2, wait_duration=60)
    fail(b, 2)
    clock.t += 15
    with pytest.raises(CallNotPermitted) as err:
        b.try_acquire()
    assert err.value.state is State.OPEN and err.value.remaining_wait == pytest.approx(45)
    assert b.snapshot().not_permitted == 1


def test_half_open_is_entered_lazily_at_the_next_attempt(clock):
    b = make(clock, window_size=2, minimum_calls=2, wait_duration=60, half_open_permits=1)
    fail(b, 2)
    clock.t += 60
    assert b.state is State.OPEN  # reading the state moves nothing
    assert b.snapshot().remaining_wait == 0.0
    permit = b.try_acquire()
    assert b.state is State.HALF_OPEN and permit.state is State.HALF_OPEN


def test_half_open_lets_exactly_the_permitted_trials_through(clock):
    b = make(clock, window_size=2, minimum_calls=2, wait_duration=1, half_open_permits=2)
    fail(b, 2)
    clock.t += 1
    first, second = b.try_acquire(), b.try_acquire()
    with pytest.raises(CallNotPermitted) as err:
        b.try_acquire()
    assert err.value.state is State.HALF_OPEN
    b.on_ignored(first)  # an ignored trial hands its slot back
    assert b.snapshot().trial_permits_left == 1
    third = b.try_acquire()
    b.on_success(second)
    assert b.state is State.HALF_OPEN  # waits for every trial
    b.on_success(third)
    assert b.state is State.CLOSED
    assert b.snapshot().window_calls == 0  # closed again with a fresh window


def test_half_open_reopens_when_the_trials_fail_enough(clock):
    b = make(clock, window_size=2, minimum_calls=2, wait_duration=1, half_open_permits=2)
    fail(b, 2)
    clock.t += 1
    ok, bad = b.try_acquire(), b.try_acquire()
    b.on_success(ok)
    b.on_error(bad, "timeout")
    assert b.state is State.OPEN and b.snapshot().opened_at == clock.t


def test_a_lost_trial_cannot_pin_half_open_when_bounded(clock):
    b = make(clock, window_size=1, minimum_calls=1, wait_duration=5, half_open_permits=1,
             max_half_open_wait=10)
    fail(b)
    clock.t += 5
    b.try_acquire()  # never reported
    clock.t += 10
    with pytest.raises(CallNotPermitted):
        b.try_acquire()
    assert b.state is State.OPEN


def test_forced_open_rejects_quietly_until_reset(clock):
    b = make(clock)
    events = []
    b.add_listener(events.append)
    b.force_open()
    clock.t += 10_000
    with pytest.raises(CallNotPermitted) as err:
        b.try_acquire()
    assert err.value.state is State.FORCED_OPEN
    assert b.snapshot().not_permitted == 0
    assert kinds(events) == [("state_transition", State.CLOSED, State.FORCED_OPEN)]
    b.reset()
    assert b.state is State.CLOSED
    b.try_acquire()


def test_reset_clears_every_count(clock):
    b = make(clock, window_size=3, minimum_calls=3)
    events = []
    b.add_listener(events.append)
    fail(b, 3)
    with pytest.raises(CallNotPermitted):
        b.try_acquire()
    b.reset()
    snap = b.snapshot()
    assert snap.state is State.CLOSED
    assert (snap.window_calls, snap.failures, snap.not_permitted, snap.opened_at) == (0, 0, 0, None)
    assert kinds(events)[-2:] == [("state_transition", State.OPEN, State.CLOSED), "reset"]


def test_disabled_permits_everything_and_records_nothing(clock):
    b = make(clock, window_size=1, minimum_calls=1)
    events = []
    b.add_listener(events.append)
    b.disable()
    fail(b, 50)
    snap = b.snapshot()
    assert snap.state is State.DISABLED and (snap.failures, snap.window_calls) == (0, 0)
    assert kinds(events) == [("state_transition", State.CLOSED, State.DISABLED)]


def test_ignored_outcomes_count_neither_way(clock):
    b = make(clock, window_size=2, minimum_calls=2)
    events = []
    b.add_listener(events.append)
    fail(b)
    b.on_ignored(b.try_acquire(), "cancelled by stop-all")
    snap = b.snapshot()
    assert (snap.window_calls, snap.failures, snap.successes, snap.ignored) == (1, 1, 0, 1)
    assert kinds(events) == ["error", "ignored_error"]
    assert b.state is State.CLOSED


def test_late_outcomes_of_closed_calls_still_count_while_open(clock):
    b = make(clock, window_size=10, minimum_calls=3, failure_rate_threshold=100)
    permits = [b.try_acquire() for _ in range(6)]
    for p in permits[:3]:
        b.on_error(p, "x")
    assert b.state is State.OPEN
    b.on_error(permits[3], "late")
    snap = b.snapshot()
    assert (snap.window_calls, snap.window_failures, snap.failures) == (4, 4, 4)
    clock.t += 60
    b.try_acquire()  # half-open now, one of ten trials taken
    b.on_success(permits[4])  # begun before the probe: counted, but takes no trial slot
    snap = b.snapshot()
    assert (snap.state, snap.window_calls, snap.trial_permits_left, snap.successes) == (
        State.HALF_OPEN, 0, 9, 1)
    b.on_ignored(permits[5])  # nor does handing such a permit back add a slot
    assert b.snapshot().trial_permits_left == 9


def test_an_outcome_is_reported_once(clock):
    b = make(clock)
    permit = b.try_acquire()
    b.on_success(permit)
    with pytest.raises(RuntimeError):
        b.on_error(permit, "again")


def test_listeners_see_every_event_in_order(clock):
    b = make(clock, window_size=2, minimum_calls=2, wait_duration=5, half_open_permits=1)
    events = []
    b.add_listener(events.append)
    succeed(b)
    fail(b)
    with pytest.raises(CallNotPermitted):
        b.try_acquire()
    clock.t += 5
    succeed(b)
    assert kinds(events) == [
        "success", "error", "failure_rate_exceeded",
        ("state_transition", State.CLOSED, State.OPEN), "call_not_permitted",
        ("state_transition", State.OPEN, State.HALF_OPEN), "success",
        ("state_transition", State.HALF_OPEN, State.CLOSED)]
    assert events[2].failure_rate == 50.0 and events[1].error.args == ("boom",)
    assert {e.breaker for e in events} == {"Agent-1"}


def test_a_listener_may_call_back_into_the_breaker(clock):
    b = make(clock, window_size=1, minimum_calls=1)
    events = []

    def on_event(event):
        events.append(event)
        if event.kind == "state_transition" and event.to_state is State.OPEN:
            b.reset()  # would deadlock if listeners ran under the bookkeeping lock

    b.add_listener(on_event)
    worker = threading.Thread(target=fail, args=(b,))
    worker.start()
    worker.join(5)
    assert not worker.is_alive()
    assert kinds(events) == ["error", "failure_rate_exceeded",
                             ("state_transition", State.CLOSED, State.OPEN),
                             ("state_transition", State.OPEN, State.CLOSED), "reset"]


def test_a_failing_listener_is_logged_and_the_rest_still_run(clock, caplog):
    b = make(clock)
    seen = []
    b.add_listener(lambda e: 1 / 0)
    b.add_listener(seen.append)
    with caplog.at_level(logging.ERROR):
        succeed(b)
    assert [e.kind for e in seen] == ["success"]
    assert "listener failed" in caplog.text


def test_many_threads_never_corrupt_the_counts(clock):
    b = make(clock, window_size=50, minimum_calls=50, failure_rate_threshold=100)
    permitted, refused = [], []
    start = threading.Barrier(8)

    def hammer():
        mine = refusals = 0
        start.wait()
        for _ in range(2000):
            try:
                permit = b.try_acquire()
            except CallNotPermitted:
                refusals += 1
                continue
            mine += 1
            b.on_error(permit, "x")
        permitted.append(mine)
        refused.append(refusals)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    snap = b.snapshot()
    assert sum(permitted) + sum(refused) == 16_000
    assert (snap.failures, snap.not_permitted) == (sum(permitted), sum(refused))
    assert snap.state is State.OPEN and snap.window_calls == snap.window_failures == 50


def test_half_open_trials_are_taken_atomically(clock):
    b = make(clock, window_size=1, minimum_calls=1, wait_duration=1, half_open_permits=3)
    fail(b)
    clock.t += 1
    granted = []
    start = threading.Barrier(16)

    def grab():
        start.wait()
        for _ in range(100):
            try:
                granted.append(b.try_acquire())
            except CallNotPermitted:
                pass

    threads = [threading.Thread(target=grab) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 3
    assert b.snapshot().not_permitted == 16 * 100 - 3


def test_registry_makes_one_breaker_per_agent_with_shared_settings(clock):
    reg = BreakerRegistry(BreakerConfig.from_threshold(2), clock=clock)
    events = []
    first = reg.get("Agent-1")
    reg.add_listener(events.append)
    second = reg.get("Agent-2")
    assert reg.get("Agent-1") is first and second.config is first.config
    assert reg.names() == ["Agent-1", "Agent-2"] and "Agent-2" in reg and len(reg) == 2
    fail(first, 2)
    fail(second)
    assert [(e.breaker, e.kind) for e in events][-1] == ("Agent-2", "error")
    assert {n: s.state for n, s in reg.snapshot().items()} == {
        "Agent-1": State.OPEN, "Agent-2": State.CLOSED}
    reg.reset_all()
    assert [b.state for b in reg] == [State.CLOSED, State.CLOSED]


def test_snapshot_is_plain_data(clock):
    b = make(clock, window_size=1, minimum_calls=1, wait_duration=30)
    fail(b)
    clock.t += 10
    d = b.snapshot().to_dict()
    assert d["state"] == "OPEN" and d["state_id"] == 1
    assert d["remaining_wait"] == pytest.approx(20) and d["failure_rate"] == 100.0
