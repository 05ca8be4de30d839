"""One coordinated operation: validate the input, run with retries behind a breaker, record it.

An ``Operation`` is named; the name picks its breaker in the registry (so every caller of one
operation shares a breaker) and labels its metrics. ``run`` and ``arun`` take a zero-argument
callable that makes one attempt, and return an ``Outcome`` instead of raising, so callers decide
(the decorator re-raises, the event processor dead-letters).

The breaker sees calls, not attempts: one permit before the first attempt, one outcome after the
last, as ``quarterdeck.core.resilience.run_with_resilience`` does. The synchronous path is that function; the
asynchronous one follows the same rules but waits with ``asyncio.sleep``, so the event loop keeps
running during backoff. A call that is cancelled (``asyncio.CancelledError``) hands its permit
back as neither success nor failure.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from quarterdeck.core.delivery.errors import RetryableError
from quarterdeck.core.integration.defaults import default_breakers, default_monitor
from quarterdeck.core.integration.policy import ErrorConfig
from quarterdeck.core.integration.rules import FieldRules, ValidationError
from quarterdeck.core.integration.tracking import describe_error, tracker_for
from quarterdeck.core.monitor import Monitor
from quarterdeck.core.resilience import BreakerRegistry, CallNotPermitted, CircuitBreaker
from quarterdeck.core.resilience.retry import run_with_resilience

__all__ = ["Operation", "Outcome"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """How one call ended. ``kind`` is ok, failed, rejected (breaker) or invalid (rules)."""

    kind: str
    value: Any = None
    error: BaseException | None = None
    attempts: int = 0
    seconds: float = 0.0
    delays: tuple[float, ...] = ()

    @property
    def ok(self) -> bool:
        return self.kind == "ok"

    def unwrap(self) -> Any:
        """The value, or the error raised (the function's own exception, not a wrapper)."""
        if self.error is not None:
            raise self.error
        return self.value


class _Retry(RetryableError):
    """Carries an error that ``retry_on`` marks retryable through core's retry loop."""

    def __init__(self, original: Exception) -> None:
        super().__init__(str(original))
        self.original = original


def _unwrap(error: BaseException | None) -> BaseException | None:
    if isinstance(error, _Retry):
        return error.original
    if isinstance(error, CallNotPermitted) and isinstance(error.__cause__, _Retry):
        error.__cause__ = error.__cause__.original
    return error


def _pause(delay: float) -> bool:
    time.sleep(delay)
    return False  # never a stop request: run_with_resilience cancels on a true return


class Operation:
    def __init__(self, name: str, *, rules: FieldRules | Mapping[str, Any] | None = None,
                 error_config: ErrorConfig | Mapping[str, Any] | None = None,
                 monitor: Monitor | None = None, breakers: BreakerRegistry | None = None) -> None:
        if not name or not isinstance(name, str):
            raise ValueError("an operation needs a non-empty name")
        self.name = name
        self.rules = FieldRules.of(rules)
        self.config = ErrorConfig.of(error_config)
        self.monitor = monitor if monitor is not None else default_monitor()
        self.breakers = breakers if breakers is not None else default_breakers()
        self.tracker = tracker_for(self.monitor)

    @property
    def breaker(self) -> CircuitBreaker:
        return self.breakers.get(self.name)

    def __repr__(self) -> str:
        return f"Operation({self.name!r})"

    # -- synchronous --------------------------------------------------------------------------

    def run(self, attempt: Callable[[], Any], values: Mapping[str, Any] | None = None) -> Outcome:
        """Validate ``values`` (when given), then call ``attempt`` under the error policy."""
        invalid = self._check(values)
        if invalid is not None:
            return invalid

        def guarded() -> Any:
            try:
                return attempt()
            except RetryableError:
                raise
            except Exception as exc:
                if self.config.retryable(exc):
                    raise _Retry(exc) from exc
                raise

        done = run_with_resilience(guarded, self.breaker, self.config.policy, sleep=_pause,
                                   on_attempt=self._attempted)
        if done.ok:
            return self._finish(Outcome("ok", done.value, None, done.attempts, done.elapsed, done.delays))
        kind = "rejected" if done.attempts == 0 else "failed"
        return self._finish(Outcome(kind, None, _unwrap(done.error), done.attempts,
                                    done.elapsed, done.delays))

    # -- asynchronous -------------------------------------------------------------------------

    async def arun(self, attempt: Callable[[], Awaitable[Any]],
                   values: Mapping[str, Any] | None = None) -> Outcome:
        """``run`` for coroutines: each attempt is awaited, each backoff is ``asyncio.sleep``."""
        invalid = self._check(values)
        if invalid is not None:
            return invalid
        breaker, policy = self.breaker, self.config.policy
        try:
            permit = breaker.try_acquire()
        except CallNotPermitted as refused:
            return self._finish(Outcome("rejected", error=refused))
        start = time.monotonic()
        attempts, delays, last = 0, [], None
        try:
            while True:
                if attempts and (interrupted := breaker.interruption()) is not None:
                    raise interrupted from last
                attempts += 1
                try:
                    value = await attempt()
                except Exception as exc:
                    last = exc
                    self._attempted(attempts, exc)
                    if not self.config.retryable(exc) or attempts >= policy.max_attempts:
                        raise
                    delay = policy.delay(attempts)
                    budget = policy.total_budget
                    if budget is not None and time.monotonic() - start + delay >= budget:
                        raise
                    delays.append(delay)
                    await asyncio.sleep(delay)
                else:
                    break
        except Exception as exc:
            elapsed = time.monotonic() - start
            breaker.on_error(permit, last if last is not None else exc, elapsed)
            return self._finish(Outcome("failed", None, exc, attempts, elapsed, tuple(delays)))
        except BaseException:
            breaker.on_ignored(permit)
            raise
        elapsed = time.monotonic() - start
        breaker.on_success(permit, elapsed)
        return self._finish(Outcome("ok", value, None, attempts, elapsed, tuple(delays)))

    # -- shared -------------------------------------------------------------------------------

    def _check(self, values: Mapping[str, Any] | None) -> Outcome | None:
        if values is None or not self.rules:
            return None
        try:
            self.rules.validate(values, self.name)
        except ValidationError as invalid:
            return self._finish(Outcome("invalid", error=invalid))
        return None

    def _attempted(self, number: int, error: BaseException | None) -> None:
        if error is not None:
            log.debug("%s: attempt %d failed: %s", self.name, number,
                      describe_error(_unwrap(error) or error))

    def _finish(self, outcome: Outcome) -> Outcome:
        ran = outcome.attempts > 0
        self.tracker.record(self.name, outcome.kind, attempts=outcome.attempts,
                            seconds=outcome.seconds if ran else None, error=outcome.error,
                            severity=self.config.error_severity)
        if outcome.kind == "failed":
            log.log(self.config.log_level, "%s failed after %d attempt(s): %s", self.name,
                    outcome.attempts, describe_error(outcome.error))
        elif outcome.error is not None:
            log.info("%s %s: %s", self.name, outcome.kind, describe_error(outcome.error))
        return outcome
