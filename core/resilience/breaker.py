"""A per-agent circuit breaker: stop hammering an agent that keeps failing, probe it again later.

The breaker never runs the protected call. A caller asks for a ``Permit`` with ``try_acquire()``,
runs the call itself, then reports exactly one outcome for that permit (``on_success``, ``on_error``
or ``on_ignored``; ``Permit.settled`` once it did). The lock only guards this bookkeeping.

States and the rules that move between them:

- CLOSED: calls are permitted and their outcomes fill a count-based sliding window of the last
  ``window_size`` calls. Once the window holds ``minimum_calls`` outcomes, the failure rate is
  ``100 * failures / calls``; when it is ``>= failure_rate_threshold`` the breaker opens.
- OPEN: calls are rejected with ``CallNotPermitted`` without being run. The move to HALF_OPEN is
  lazy: it happens at the first ``try_acquire()`` once ``wait_duration`` has passed. The ``state``
  property is a plain read and keeps saying OPEN until then; ``snapshot().remaining_wait`` reaching
  0 tells that the next attempt will be let through as a trial.
- HALF_OPEN: exactly ``half_open_permits`` trial calls are let through. When all of them have
  reported, the breaker opens again if their failure rate is ``>= failure_rate_threshold`` and
  closes (with a fresh window) otherwise. With ``max_half_open_wait > 0`` a trial that never
  reports cannot pin the breaker half-open: past that time the next ``try_acquire()`` reopens it.
- FORCED_OPEN / DISABLED: set by hand, left only by hand (``reset()``). FORCED_OPEN rejects
  everything, DISABLED permits everything; neither records outcomes nor publishes call events.

A permit remembers the window it was issued against. Its outcome is recorded only while that
window is still the live one, so a call begun while CLOSED still counts if it ends while OPEN,
but a call begun before a half-open probe never takes one of the probe's slots. Outcomes are
published as events (and counted in the totals) unless the breaker is DISABLED or FORCED_OPEN.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from quarterdeck.core.resilience.breaker_types import (
    BreakerConfig,
    BreakerEvent,
    BreakerSnapshot,
    CallNotPermitted,
    State,
)

__all__ = [
    "BreakerConfig",
    "BreakerEvent",
    "BreakerSnapshot",
    "CallNotPermitted",
    "CircuitBreaker",
    "Permit",
    "State",
]

log = logging.getLogger(__name__)

_QUIET = (State.DISABLED, State.FORCED_OPEN)


class _CountWindow:
    """The outcomes (failed or not) of the last ``size`` calls."""

    __slots__ = ("_pos", "_ring", "calls", "failures", "minimum", "size")

    def __init__(self, size: int, minimum: int) -> None:
        self.size, self.minimum = size, minimum
        self._ring = [False] * size
        self._pos = self.calls = self.failures = 0

    def record(self, failed: bool) -> None:
        if self.calls == self.size:
            self.failures -= self._ring[self._pos]
        else:
            self.calls += 1
        self._ring[self._pos] = failed
        self.failures += failed
        self._pos = (self._pos + 1) % self.size

    def failure_rate(self) -> float:
        return -1.0 if self.calls < self.minimum else 100.0 * self.failures / self.calls


class Permit:
    """The right to make one call; report its outcome exactly once."""

    __slots__ = ("_settled", "_window", "state")

    def __init__(self, state: State, window: _CountWindow | None) -> None:
        self.state = state
        self._window = window
        self._settled = False

    @property
    def settled(self) -> bool:
        return self._settled


Listener = Callable[[BreakerEvent], object]


class CircuitBreaker:
    def __init__(self, name: str, config: BreakerConfig | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.config = config or BreakerConfig()
        self._clock = clock
        self._lock = threading.Lock()
        self._dispatch_lock = threading.RLock()
        self._draining = False
        self._pending: deque[BreakerEvent] = deque()
        self._listeners: tuple[Listener, ...] = ()
        self._state = State.CLOSED
        self._window: _CountWindow | None = self._closed_window()
        self._opened_at: float | None = None
        self._half_open_at = 0.0
        self._trials_left = 0
        self._totals = [0, 0, 0, 0]  # successes, failures, ignored, not permitted

    @property
    def state(self) -> State:
        """The stored state; reading it never triggers the lazy OPEN -> HALF_OPEN move."""
        return self._state

    def add_listener(self, fn: Listener) -> None:
        """Call ``fn(event)`` for every event, in order, outside the bookkeeping lock."""
        with self._lock:
            self._listeners = (*self._listeners, fn)

    def try_acquire(self) -> Permit:
        """A permit for one call, or ``CallNotPermitted`` when the breaker refuses it."""
        with self._lock:
            now = self._clock()
            self._advance(now)
            state = self._state
            permit: Permit | None = None
            if state in (State.CLOSED, State.DISABLED):
                permit = Permit(state, self._window)
            elif state is State.HALF_OPEN and self._trials_left > 0:
                self._trials_left -= 1
                permit = Permit(state, self._window)
            rejection = None if permit is not None else self._reject(now)
        self._dispatch()
        if permit is None:
            assert rejection is not None
            raise rejection
        return permit

    def interruption(self) -> CallNotPermitted | None:
        """Between two attempts of one delivery: the error that ends it if the breaker is now open."""
        with self._lock:
            rejection = (self._reject(self._clock())
                         if self._state in (State.OPEN, State.FORCED_OPEN) else None)
        self._dispatch()
        return rejection

    def on_success(self, permit: Permit, duration: float = 0.0) -> None:
        self._settle(permit, "success", None, duration)

    def on_error(self, permit: Permit, error: BaseException | str, duration: float = 0.0) -> None:
        self._settle(permit, "error", error, duration)

    def on_ignored(self, permit: Permit, error: BaseException | str | None = None) -> None:
        """Neither success nor failure: the permit (and a half-open trial slot) is handed back."""
        self._settle(permit, "ignored_error", error, None)

    def force_open(self) -> None:
        self._manual(State.FORCED_OPEN)

    def disable(self) -> None:
        self._manual(State.DISABLED)

    def reset(self) -> None:
        """Back to CLOSED with every count cleared."""
        with self._lock:
            now = self._clock()
            self._transition(State.CLOSED, now)
            self._window = self._closed_window()  # also when it was CLOSED already
            self._totals = [0, 0, 0, 0]
            self._emit("reset", now)
        self._dispatch()

    def snapshot(self) -> BreakerSnapshot:
        with self._lock:
            now = self._clock()
            window = self._window
            remaining = 0.0
            if self._state is State.OPEN and self._opened_at is not None:
                remaining = max(0.0, self.config.wait_duration - (now - self._opened_at))
            successes, failures, ignored, not_permitted = self._totals
            return BreakerSnapshot(
                self.name, self._state,
                window.failure_rate() if window else -1.0,
                window.calls if window else 0, window.failures if window else 0,
                successes, failures, ignored, not_permitted, self._opened_at, remaining,
                self._trials_left if self._state is State.HALF_OPEN else 0)

    # -- internals; every method below runs with ``_lock`` held, except ``_dispatch`` ----------

    def _closed_window(self) -> _CountWindow:
        return _CountWindow(self.config.window_size, self.config.minimum_calls)

    def _advance(self, now: float) -> None:
        cfg = self.config
        if (self._state is State.OPEN and self._opened_at is not None
                and now - self._opened_at >= cfg.wait_duration):
            self._transition(State.HALF_OPEN, now)
        elif (self._state is State.HALF_OPEN and cfg.max_half_open_wait > 0
              and now - self._half_open_at >= cfg.max_half_open_wait):
            self._transition(State.OPEN, now)

    def _reject(self, now: float) -> CallNotPermitted:
        remaining = 0.0
        if self._state is State.OPEN and self._opened_at is not None:
            remaining = max(0.0, self.config.wait_duration - (now - self._opened_at))
        if self._state is not State.FORCED_OPEN:
            self._totals[3] += 1
            self._emit("call_not_permitted", now)
        return CallNotPermitted(self.name, self._state, remaining)

    def _settle(self, permit: Permit, kind: str, error: BaseException | str | None,
                duration: float | None) -> None:
        with self._lock:
            if permit._settled:
                raise RuntimeError("this permit's outcome was already reported")
            permit._settled = True
            now = self._clock()
            window = permit._window
            live = window is not None and window is self._window
            if self._state not in _QUIET:
                self._totals[("success", "error", "ignored_error").index(kind)] += 1
                self._emit(kind, now, error=error, duration=duration)
            if live and kind == "ignored_error":
                if self._state is State.HALF_OPEN:
                    self._trials_left += 1
            elif live and window is not None:
                window.record(kind == "error")
                self._evaluate(window, now)
        self._dispatch()

    def _evaluate(self, window: _CountWindow, now: float) -> None:
        threshold = self.config.failure_rate_threshold
        rate = window.failure_rate()
        if self._state is State.CLOSED and rate >= threshold:
            self._emit("failure_rate_exceeded", now, failure_rate=rate)
            self._transition(State.OPEN, now)
        elif self._state is State.HALF_OPEN and window.calls >= window.size:
            self._transition(State.OPEN if rate >= threshold else State.CLOSED, now)

    def _manual(self, to: State) -> None:
        with self._lock:
            self._transition(to, self._clock())
        self._dispatch()

    def _transition(self, to: State, now: float) -> None:
        before = self._state
        if before is to:
            return
        self._state = to
        self._opened_at = now if to in (State.OPEN, State.FORCED_OPEN) else None
        if to is State.CLOSED:
            self._window = self._closed_window()
        elif to is State.HALF_OPEN:
            permits = self.config.half_open_permits
            self._window = _CountWindow(permits, permits)
            self._trials_left, self._half_open_at = permits, now
        elif to in _QUIET:
            self._window = None
        self._emit("state_transition", now, from_state=before, to_state=to)

    def _emit(self, kind: str, now: float, *, from_state: State | None = None, to_state: State | None = None,
              error: BaseException | str | None = None, duration: float | None = None,
              failure_rate: float | None = None) -> None:
        if self._listeners:
            self._pending.append(BreakerEvent(kind, self.name, now, from_state, to_state, error, duration,
                                              failure_rate))

    def _dispatch(self) -> None:
        """Deliver queued events in the order they happened, one thread at a time.

        A listener that calls back into the breaker only queues its events; the loop already
        running delivers them after the current one.
        """
        if not self._pending:
            return
        with self._dispatch_lock:
            if self._draining:
                return
            self._draining = True
            try:
                while True:
                    with self._lock:
                        if not self._pending:
                            return
                        event, listeners = self._pending.popleft(), self._listeners
                    for fn in listeners:
                        try:
                            fn(event)
                        except Exception:
                            log.exception("breaker %r listener failed on %s", self.name, event.kind)
            finally:
                self._draining = False
