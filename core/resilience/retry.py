"""Delivering with retries, backoff and a per-agent breaker, stoppable at any moment.

Vocabulary: a *delivery* is one message to one agent; an *attempt* is one call of the transport.
``RetryPolicy.max_retries`` counts the retries after the first attempt, so ``max_retries=3`` allows
up to ``max_attempts == 4`` attempts.

Backoff before retry n (n = 1 for the first retry), additive jitter, capped after the jitter:

    delay(n) = min(max_delay, base_delay * multiplier ** (n - 1) + uniform(0, jitter))

With ``jitter=0`` this is a plain exponential. ``total_budget`` bounds a whole delivery: no retry is
started if the time spent so far plus the coming wait would reach it, so it is never overshot by a
wait (only by the last attempt itself).

Only ``DeliveryError``s whose ``retryable`` is true are retried. ``CallNotPermitted`` (the breaker
refused) and ``Cancelled`` (stop-all) never are, and nor is any other exception.
"""
from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from msgspec import Struct

from quarterdeck.core.delivery.errors import Cancelled, is_retryable
from quarterdeck.core.resilience.breaker import CircuitBreaker
from quarterdeck.core.resilience.breaker_types import CallNotPermitted

__all__ = ["DeliveryOutcome", "RetryPolicy", "run_with_resilience"]

T = TypeVar("T")


class RetryPolicy(Struct, frozen=True):
    max_retries: int = 3
    base_delay: float = 1.0
    multiplier: float = 2.0
    max_delay: float = 30.0
    jitter: float = 1.0
    total_budget: float | None = None

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must not be negative")
        if min(self.base_delay, self.max_delay, self.jitter) < 0 or self.multiplier < 1:
            raise ValueError("delays and jitter must not be negative, multiplier must be >= 1")
        if self.total_budget is not None and self.total_budget <= 0:
            raise ValueError("total_budget must be positive")

    @property
    def max_attempts(self) -> int:
        """Attempts per delivery, the first one included."""
        return self.max_retries + 1

    def delay(self, retry_number: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry ``retry_number`` (1 for the first retry)."""
        extra = (rng or random).uniform(0, self.jitter) if self.jitter else 0.0
        try:
            raw = self.base_delay * self.multiplier ** (retry_number - 1) + extra
        except OverflowError:
            raw = self.max_delay
        return max(0.0, min(raw, self.max_delay))


class DeliveryOutcome(Struct, Generic[T], frozen=True):
    ok: bool
    attempts: int
    error: BaseException | None
    elapsed: float
    delays: tuple[float, ...]
    value: T | None = None  # what the last attempt returned, when ``ok``


def run_with_resilience(
    fn: Callable[[], T],
    breaker: CircuitBreaker | None = None,
    policy: RetryPolicy | None = None,
    stop_event: threading.Event | None = None,
    sleep: Callable[[float], object] | None = None,
    on_attempt: Callable[[int, BaseException | None], object] | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
) -> DeliveryOutcome[T]:
    """Run one delivery: ``fn`` is one attempt, retried per ``policy``.

    The breaker sees the delivery, not the attempts: one permit is taken before the first attempt
    and one outcome reported at the end (the whole delivery's time as its duration). Before each
    retry the breaker is consulted again; if it has opened meanwhile (other deliveries failing, or
    forced open by hand) the delivery ends with ``CallNotPermitted`` and the breaker is told it
    failed. A refused delivery makes no attempt and reports nothing.

    Waits go through ``sleep(delay)``, by default ``stop_event.wait``, so setting ``stop_event``
    ends a wait at once. A ``sleep`` that returns true, or a set ``stop_event`` before an attempt
    or after a wait, raises ``Cancelled``; the permit is then handed back as neither outcome.

    ``on_attempt(n, error_or_None)`` is called after every attempt (n from 1).
    Errors of the delivery are returned in the outcome, not raised (``Cancelled`` excepted).
    """
    policy = policy or RetryPolicy()
    stop = stop_event or threading.Event()
    wait = sleep or stop.wait
    start = clock()
    delays: list[float] = []
    attempts = 0
    last_error: BaseException | None = None

    if stop.is_set():
        raise Cancelled("stop requested before the delivery started")
    try:
        permit = breaker.try_acquire() if breaker else None
    except CallNotPermitted as refused:
        return DeliveryOutcome(False, 0, refused, clock() - start, ())

    def pause(delay: float) -> None:
        delays.append(float(delay))
        if wait(float(delay)) or stop.is_set():
            raise Cancelled("stop requested during a retry wait")

    def attempt() -> T:
        nonlocal attempts, last_error
        if stop.is_set():
            raise Cancelled("stop requested before an attempt")
        if attempts and breaker and (refused := breaker.interruption()) is not None:
            raise refused
        attempts += 1
        try:
            value = fn()
        except Exception as exc:
            last_error = exc
            if on_attempt:
                on_attempt(attempts, exc)
            raise
        if on_attempt:
            on_attempt(attempts, None)
        return value

    def until_done() -> T:
        """Attempt until one succeeds; a retry waits first, its delay drawn before the policy decides
        whether there is one (attempts left, the budget); the error that ends it is raised."""
        while True:
            try:
                return attempt()
            except Exception as exc:
                if not is_retryable(exc):
                    raise
                delay = policy.delay(attempts, rng)
                if attempts >= policy.max_attempts or (
                        policy.total_budget is not None and clock() - start + delay >= policy.total_budget):
                    raise
                pause(delay)

    try:
        value = until_done()
    except Cancelled as cancelled:
        if breaker and permit:
            breaker.on_ignored(permit, cancelled)
        raise
    except Exception as exc:
        elapsed = clock() - start
        if breaker and permit:
            breaker.on_error(permit, last_error if last_error is not None else exc, elapsed)
        if isinstance(exc, CallNotPermitted) and last_error is not None:
            exc.__cause__ = last_error
        return DeliveryOutcome(False, attempts, exc, elapsed, tuple(delays))
    except BaseException:
        if breaker and permit:
            breaker.on_ignored(permit)
        raise
    elapsed = clock() - start
    if breaker and permit:
        breaker.on_success(permit, elapsed)
    return DeliveryOutcome(True, attempts, None, elapsed, tuple(delays), value)
