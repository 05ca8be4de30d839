"""Retries: which errors, how long between, when to stop, and what the breaker is told."""
from __future__ import annotations

import random
import threading
import time

import pytest
from fakes import FakeClock

from quarterdeck.core.delivery.errors import Cancelled, DeliveryError, PermanentError, RetryableError, is_retryable
from quarterdeck.core.resilience import BreakerConfig, CallNotPermitted, CircuitBreaker, State
from quarterdeck.core.resilience.retry import RetryPolicy, run_with_resilience


class FakeSleep:
    """Records each wait and moves the fake clock on by it."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock, self.calls = clock, []

    def __call__(self, delay: float) -> None:
        self.calls.append(delay)
        self.clock.t += delay


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def sleep(clock):
    return FakeSleep(clock)


def flaky(failures: int, error=RetryableError, then="ok"):
    state = {"calls": 0}

    def attempt():
        state["calls"] += 1
        if state["calls"] <= failures:
            raise error(f"attempt {state['calls']} failed")
        return then

    attempt.state = state
    return attempt


NO_JITTER = RetryPolicy(max_retries=3, base_delay=1, multiplier=2, max_delay=30, jitter=0)


def test_error_classes_say_whether_retrying_helps():
    assert RetryableError().retryable and not PermanentError().retryable
    assert not DeliveryError("x").retryable and DeliveryError("x", retryable=True).retryable
    assert not is_retryable(CallNotPermitted("a", State.OPEN, 1.0))
    assert not is_retryable(Cancelled()) and not is_retryable(OSError())


def test_max_retries_counts_after_the_first_attempt():
    assert RetryPolicy(max_retries=3).max_attempts == 4
    assert RetryPolicy(max_retries=0).max_attempts == 1


@pytest.mark.parametrize("bad", [{"max_retries": -1}, {"base_delay": -1}, {"multiplier": 0.5},
                                 {"jitter": -1}, {"total_budget": 0}])
def test_policy_rejects_nonsense(bad):
    with pytest.raises(ValueError):
        RetryPolicy(**bad)


@pytest.mark.parametrize("base, mult, cap, expected", [
    (1, 2, 30, [1, 2, 4, 8, 16, 30, 30]),
    (0.5, 3, 10, [0.5, 1.5, 4.5, 10, 10, 10, 10]),
    (2, 1, 5, [2, 2, 2, 2, 2, 2, 2]),
])
def test_delays_without_jitter_are_a_capped_exponential(base, mult, cap, expected):
    policy = RetryPolicy(base_delay=base, multiplier=mult, max_delay=cap, jitter=0)
    assert [policy.delay(n) for n in range(1, 8)] == pytest.approx(expected)


def test_jitter_is_added_before_the_cap():
    policy = RetryPolicy(base_delay=1, multiplier=2, max_delay=6, jitter=1)
    draws, rng = random.Random(7), random.Random(7)
    for n in range(1, 6):
        expected = min(6.0, 2 ** (n - 1) + draws.uniform(0, 1))
        assert policy.delay(n, rng) == pytest.approx(expected)
    assert max(policy.delay(3, random.Random(s)) for s in range(200)) <= 6.0
    assert policy.delay(10_000) == 6.0  # no overflow


def test_retryable_errors_are_retried_with_the_expected_delays(clock, sleep):
    attempt = flaky(10)
    seen = []
    out = run_with_resilience(attempt, policy=NO_JITTER, sleep=sleep, clock=clock,
                              on_attempt=lambda n, e: seen.append((n, type(e).__name__)))
    assert (out.ok, out.attempts, out.delays) == (False, 4, (1.0, 2.0, 4.0))
    assert sleep.calls == [1.0, 2.0, 4.0] and out.elapsed == 7.0
    assert str(out.error) == "attempt 4 failed"
    assert seen == [(n, "RetryableError") for n in (1, 2, 3, 4)]


def test_success_after_retries_returns_the_value(clock, sleep):
    seen = []
    out = run_with_resilience(flaky(2, then="receipt"), policy=NO_JITTER, sleep=sleep,
                              clock=clock, on_attempt=lambda n, e: seen.append((n, e is None)))
    assert (out.ok, out.attempts, out.value, out.error, out.delays) == (
        True, 3, "receipt", None, (1.0, 2.0))
    assert seen == [(1, False), (2, False), (3, True)]


@pytest.mark.parametrize("error", [PermanentError, ValueError,
                                   lambda m: DeliveryError(m, retryable=False)])
def test_other_errors_are_not_retried(sleep, error):
    attempt = flaky(5, error)
    out = run_with_resilience(attempt, policy=NO_JITTER, sleep=sleep)
    assert (out.ok, out.attempts, attempt.state["calls"], sleep.calls) == (False, 1, 1, [])


def test_an_open_breaker_means_no_attempt_at_all(clock, sleep):
    breaker = CircuitBreaker("a", BreakerConfig.from_threshold(1), clock=clock)
    breaker.force_open()
    attempt = flaky(0)
    out = run_with_resilience(attempt, breaker, NO_JITTER, sleep=sleep, clock=clock)
    assert isinstance(out.error, CallNotPermitted)
    assert (out.ok, out.attempts, attempt.state["calls"], sleep.calls) == (False, 0, 0, [])


def test_the_breaker_sees_one_outcome_per_delivery(clock, sleep):
    breaker = CircuitBreaker("a", BreakerConfig.from_threshold(5), clock=clock)
    for _ in range(3):
        run_with_resilience(flaky(10), breaker, NO_JITTER, sleep=sleep, clock=clock)
    run_with_resilience(flaky(1), breaker, NO_JITTER, sleep=sleep, clock=clock)
    snap = breaker.snapshot()
    assert (snap.failures, snap.successes, snap.state) == (3, 1, State.CLOSED)


def test_a_breaker_opened_by_others_ends_the_delivery_before_its_next_attempt(clock):
    breaker = CircuitBreaker("a", BreakerConfig.from_threshold(2), clock=clock)

    def others_fail_meanwhile(delay):
        for _ in range(2):
            breaker.on_error(breaker.try_acquire(), "other delivery")

    attempt = flaky(10)
    out = run_with_resilience(attempt, breaker, NO_JITTER, sleep=others_fail_meanwhile,
                              clock=clock)
    assert isinstance(out.error, CallNotPermitted)
    assert isinstance(out.error.__cause__, RetryableError)
    assert (out.attempts, attempt.state["calls"]) == (1, 1)
    snap = breaker.snapshot()
    assert snap.state is State.OPEN and snap.failures == 3  # our late failure still counts


def test_the_budget_is_never_overshot_by_a_wait(clock, sleep):
    def slow_failure():
        clock.t += 1.0
        raise RetryableError("slow")

    policy = RetryPolicy(max_retries=10, base_delay=1, multiplier=2, jitter=0, total_budget=5)
    out = run_with_resilience(slow_failure, policy=policy, sleep=sleep, clock=clock)
    # attempt 1 ends at 1s, wait 1 -> 2s; attempt 2 ends at 3s; 3s + the next wait (2s) >= 5s
    assert (out.attempts, out.delays, out.elapsed) == (2, (1.0,), 3.0)


def test_stop_all_interrupts_a_long_wait_promptly():
    breaker = CircuitBreaker("a", BreakerConfig.from_threshold(3))
    stop = threading.Event()
    policy = RetryPolicy(max_retries=3, base_delay=30, jitter=0)
    threading.Timer(0.05, stop.set).start()
    began = time.monotonic()
    with pytest.raises(Cancelled):
        run_with_resilience(flaky(10), breaker, policy, stop_event=stop)
    assert time.monotonic() - began < 2.0  # generous: the wait was 30 s
    snap = breaker.snapshot()
    assert (snap.ignored, snap.failures, snap.successes) == (1, 0, 0)


def test_stop_set_beforehand_means_no_attempt_and_no_permit():
    breaker = CircuitBreaker("a")
    stop = threading.Event()
    stop.set()
    attempt = flaky(0)
    with pytest.raises(Cancelled):
        run_with_resilience(attempt, breaker, stop_event=stop)
    assert attempt.state["calls"] == 0 and breaker.snapshot().ignored == 0


def test_a_sleep_reporting_stop_cancels_and_returns_a_half_open_trial(clock):
    breaker = CircuitBreaker("a", BreakerConfig.from_threshold(1, wait_duration=1), clock=clock)
    breaker.on_error(breaker.try_acquire(), "x")
    clock.t += 1
    with pytest.raises(Cancelled):
        run_with_resilience(flaky(10), breaker, NO_JITTER, sleep=lambda d: True, clock=clock)
    snap = breaker.snapshot()
    assert (snap.state, snap.trial_permits_left) == (State.HALF_OPEN, 1)


def test_an_escaping_base_exception_still_settles_the_permit(clock):
    class Abort(BaseException):
        pass

    def attempt():
        raise Abort

    breaker = CircuitBreaker("a", BreakerConfig.from_threshold(1, wait_duration=1), clock=clock)
    breaker.on_error(breaker.try_acquire(), "x")
    clock.t += 1
    with pytest.raises(Abort):
        run_with_resilience(attempt, breaker, NO_JITTER, clock=clock)
    assert breaker.snapshot().trial_permits_left == 1


def test_calls_through_one_breaker_run_side_by_side():
    breaker = CircuitBreaker("a")
    both_inside = threading.Barrier(2, timeout=5)
    results = []

    def attempt():
        both_inside.wait()  # breaks (BrokenBarrierError) if the calls were serialised
        return "ok"

    def deliver():
        results.append(run_with_resilience(attempt, breaker, NO_JITTER).ok)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True, True] and breaker.snapshot().successes == 2
