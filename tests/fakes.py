"""Test doubles shared across the suite."""
from __future__ import annotations


class FakeClock:
    """A monotonic clock the test moves by hand: ``clock.t += 5``."""

    def __init__(self, start: float = 0.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t
