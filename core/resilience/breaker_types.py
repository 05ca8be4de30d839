"""The circuit breaker's vocabulary: states, settings, events, snapshots and the refusal error."""
from __future__ import annotations

from enum import IntEnum
from typing import Any

from msgspec import Struct
from msgspec.structs import asdict

__all__ = ["BreakerConfig", "BreakerEvent", "BreakerSnapshot", "CallNotPermitted", "State"]


class State(IntEnum):
    """Breaker states; the value is the id exported on the state gauge."""

    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2
    DISABLED = 3
    FORCED_OPEN = 4


class BreakerConfig(Struct, frozen=True):
    """Thresholds shared by every breaker of a registry. Rates are percentages (0-100)."""

    failure_rate_threshold: float = 50.0
    window_size: int = 100
    minimum_calls: int = 100
    wait_duration: float = 60.0
    half_open_permits: int = 10
    max_half_open_wait: float = 0.0

    def __post_init__(self) -> None:
        if not 0 < self.failure_rate_threshold <= 100:
            raise ValueError("failure_rate_threshold must be in (0, 100]")
        if self.window_size < 1 or self.half_open_permits < 1:
            raise ValueError("window_size and half_open_permits must be at least 1")
        if not 1 <= self.minimum_calls <= self.window_size:
            raise ValueError("minimum_calls must be between 1 and window_size")
        if self.wait_duration < 0 or self.max_half_open_wait < 0:
            raise ValueError("wait_duration and max_half_open_wait must not be negative")

    @classmethod
    def from_threshold(cls, failures: int, *, wait_duration: float = 60.0,
                       half_open_permits: int = 1) -> BreakerConfig:
        """Open after ``failures`` failed deliveries in a row (the app's ``circuit_breaker_threshold``).

        A window of ``failures`` calls that must all fail: "n consecutive failures" and "n failures
        in the last n calls" are the same rule.
        """
        return cls(failure_rate_threshold=100.0, window_size=failures, minimum_calls=failures,
                   wait_duration=wait_duration, half_open_permits=half_open_permits)


class CallNotPermitted(Exception):
    """The breaker refused the call; the call was not run. Never worth retrying."""

    def __init__(self, name: str, state: State, remaining_wait: float) -> None:
        super().__init__(f"circuit breaker {name!r} is {state.name}; "
                         f"next trial in {remaining_wait:.1f}s")
        self.name = name
        self.state = state
        self.remaining_wait = remaining_wait


class BreakerEvent(Struct, frozen=True):
    """What listeners receive. ``kind`` is one of: success, error, ignored_error,
    call_not_permitted, failure_rate_exceeded, state_transition, reset."""

    kind: str
    breaker: str
    at: float
    from_state: State | None = None
    to_state: State | None = None
    error: BaseException | str | None = None
    duration: float | None = None
    failure_rate: float | None = None


class BreakerSnapshot(Struct, frozen=True):
    name: str
    state: State
    failure_rate: float  # percent over the live window; -1 below minimum_calls
    window_calls: int
    window_failures: int
    successes: int
    failures: int
    ignored: int
    not_permitted: int
    opened_at: float | None
    remaining_wait: float  # seconds until an OPEN breaker lets a trial through; 0 otherwise
    trial_permits_left: int

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["state"] = self.state.name
        out["state_id"] = int(self.state)
        return out
