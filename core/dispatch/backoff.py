"""Backing off one agent without holding up the others.

Between two attempts of a delivery that failed in a retryable way (a GUI window not found, a
lock timed out) the dispatcher waits out a growing delay. That delivery stays ``sending`` and its
agent's other messages wait behind it, in order; but every other agent's queued deliveries are
delivered during the wait instead of behind it. So one failing agent never costs the rest of
the fleet its backoff (seconds per retry).

Deliveries made during a wait do not serve others in their own waits (one level only): theirs
are plain waits, and the first agent's retry may then come a little later than its delay.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from quarterdeck.core.dispatch.dispatcher import Dispatcher

_IDLE = 0.05


class Backoff:
    """``waiter(agent_id)``: the ``sleep`` for ``run_with_resilience`` of a delivery to that agent."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self._dispatcher = dispatcher
        self._waiting: str | None = None  # the agent whose backoff is being spent on others

    def waiter(self, agent_id: str) -> Callable[[float], bool]:
        def wait(delay: float) -> bool:
            return self._wait(agent_id, delay)

        return wait

    def _wait(self, agent_id: str, delay: float) -> bool:
        """Wait ``delay`` seconds; True when stopped. Others' deliveries go out meanwhile."""
        stop = self._dispatcher._stop
        if self._waiting is not None:
            return stop.wait(delay)
        deadline = time.monotonic() + delay
        self._waiting = agent_id
        try:
            while not stop.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                if self._dispatcher.process_next(also_skip=frozenset({agent_id})) is None:
                    stop.wait(min(_IDLE, remaining))
        finally:
            self._waiting = None
        return stop.is_set()
