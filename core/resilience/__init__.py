"""Resilience for deliveries: retries with backoff, and one circuit breaker per agent."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

from quarterdeck.core.resilience.breaker import CircuitBreaker, Listener, Permit, State
from quarterdeck.core.resilience.breaker_types import BreakerConfig, BreakerEvent, BreakerSnapshot, CallNotPermitted

__all__ = [
    "BreakerConfig",
    "BreakerEvent",
    "BreakerRegistry",
    "BreakerSnapshot",
    "CallNotPermitted",
    "CircuitBreaker",
    "Permit",
    "State",
]


class BreakerRegistry:
    """One breaker per agent, created on first use with the shared config and clock.

    Listeners added here are attached to every breaker, present and future.
    """

    def __init__(self, config: BreakerConfig | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config or BreakerConfig()
        self._clock = clock
        self._lock = threading.Lock()
        self._breakers: dict[str, CircuitBreaker] = {}
        self._listeners: list[Listener] = []

    def get(self, name: str) -> CircuitBreaker:
        breaker = self._breakers.get(name)
        if breaker is not None:
            return breaker
        with self._lock:
            breaker = self._breakers.get(name)
            if breaker is None:
                breaker = CircuitBreaker(name, self.config, clock=self._clock)
                for fn in self._listeners:
                    breaker.add_listener(fn)
                self._breakers[name] = breaker
            return breaker

    def add_listener(self, fn: Listener) -> None:
        with self._lock:
            self._listeners.append(fn)
            breakers = list(self._breakers.values())
        for breaker in breakers:
            breaker.add_listener(fn)

    def names(self) -> list[str]:
        with self._lock:
            return list(self._breakers)

    def __iter__(self) -> Iterator[CircuitBreaker]:
        with self._lock:
            return iter(list(self._breakers.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._breakers

    def __len__(self) -> int:
        return len(self._breakers)

    def snapshot(self) -> dict[str, BreakerSnapshot]:
        return {breaker.name: breaker.snapshot() for breaker in self}

    def reset_all(self) -> None:
        for breaker in self:
            breaker.reset()
