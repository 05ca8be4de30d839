"""Bounded buffers behind the monitor: chart series and windows of recent raw samples.

Neither class locks; the monitor that owns them does.
"""
from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np  # imported where an array is made: a command that only records never loads it

__all__ = ["UNVERIFIED", "RingSeries", "RollingWindow", "percentiles"]

UNVERIFIED = 2  # a RollingWindow success code: ended without error, but without evidence of arrival


class RingSeries:
    """The last ``capacity`` (t, v) points of a chart series.

    Every point is written twice, at ``i`` and ``i + capacity`` of arrays twice that size, so the
    newest ``n`` points always sit in one contiguous slice: reading them is a view, no reordering.
    """

    __slots__ = ("_next", "_size", "_t", "_v", "capacity")

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        import numpy as np

        self.capacity = capacity
        self._t = np.zeros(2 * capacity)
        self._v = np.zeros(2 * capacity)
        self._next = 0
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def append(self, t: float, v: float) -> None:
        i, cap = self._next, self.capacity
        self._t[i] = self._t[i + cap] = t
        self._v[i] = self._v[i + cap] = v
        self._next = (i + 1) % cap
        if self._size < cap:
            self._size += 1

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        """Read-only views of the points, oldest first; valid until the next ``append``."""
        end = self._next + self.capacity
        t, v = self._t[end - self._size:end], self._v[end - self._size:end]
        t.flags.writeable = v.flags.writeable = False
        return t, v


def percentiles(sorted_values: np.ndarray, qs: Sequence[float]) -> list[float | None]:
    """Percentiles (q in 0-100) of already sorted values, linear between closest ranks.

    Matches numpy's default ("linear") method; None for an empty input.
    """
    n = len(sorted_values)
    if n == 0:
        return [None for _ in qs]
    out: list[float | None] = []
    for q in qs:
        if not 0 <= q <= 100:
            raise ValueError("percentile must be within 0..100")
        rank = q / 100 * (n - 1)
        lo = math.floor(rank)
        hi = min(lo + 1, n - 1)
        low, high = float(sorted_values[lo]), float(sorted_values[hi])
        out.append(low + (high - low) * (rank - lo))
    return out


class RollingWindow:
    """The last ``capacity`` raw samples: time, value and a success flag.

    Samples go into preallocated ``array.array`` buffers (a write costs about what a list write
    does); copying them is a memcpy and numpy reads them without conversion.
    """

    __slots__ = ("_full", "_next", "_ok", "_t", "_v", "capacity")

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._t = array("d", bytes(8 * capacity))
        self._v = array("d", bytes(8 * capacity))
        self._ok = array("b", bytes(capacity))
        self._next = 0
        self._full = False

    def __len__(self) -> int:
        return self.capacity if self._full else self._next

    def add(self, t: float, v: float, ok: bool | int = True) -> None:
        """``ok``: True/1 a success, False/0 a failure, ``UNVERIFIED`` (2) ended without evidence."""
        i = self._next
        self._t[i] = t
        self._v[i] = v
        self._ok[i] = int(ok)
        i += 1
        if i == self.capacity:
            i = 0
            self._full = True
        self._next = i

    def copy(self) -> RollingWindow:
        """A detached copy (taken under the owner's lock, read after releasing it)."""
        twin = RollingWindow.__new__(RollingWindow)
        twin.capacity, twin._next, twin._full = self.capacity, self._next, self._full
        twin._t, twin._v, twin._ok = self._t[:], self._v[:], self._ok[:]
        return twin

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(t, v, ok) oldest first, as new arrays."""
        import numpy as np

        return (self._ordered(self._t, np.float64), self._ordered(self._v, np.float64),
                self._ordered(self._ok, np.int8).astype(bool))

    def _ordered(self, buffer: array[Any], dtype: type) -> np.ndarray:
        import numpy as np

        items: np.ndarray = np.frombuffer(buffer, dtype=dtype)
        i = self._next
        return np.concatenate((items[i:], items[:i])) if self._full else items[:i].copy()

    def figures(self, now: float, horizon: float) -> dict[str, float | int | None]:
        """Everything about the samples of the last ``horizon`` seconds only, so counts, the
        failure rate and the percentiles of one figure window agree: ``ok`` (with evidence),
        ``unverified`` (counted apart), ``failed``, ``failure_rate`` = failed / (ok + failed),
        ``success_rate`` its complement (None when neither), p50/p95/p99 over those samples."""
        if not len(self):  # nothing recorded yet (the panel's first paint asks): no numpy needed
            return {"seconds": horizon, "ok": 0, "failed": 0, "unverified": 0, "finished": 0, "failure_rate": None,
                    "success_rate": None, "p50": None, "p95": None, "p99": None, "full": False}
        import numpy as np

        t, v = self._ordered(self._t, np.float64), self._ordered(self._v, np.float64)
        codes = self._ordered(self._ok, np.int8)
        recent = t > now - horizon
        codes, values = codes[recent], v[recent]
        ok, failed = int((codes == 1).sum()), int((codes == 0).sum())
        decided = ok + failed
        p50, p95, p99 = percentiles(np.sort(values), (50, 95, 99))
        return {"seconds": horizon, "ok": ok, "failed": failed, "unverified": int((codes == UNVERIFIED).sum()),
                "finished": len(codes), "failure_rate": failed / decided if decided else None,
                "success_rate": ok / decided if decided else None, "p50": p50, "p95": p95, "p99": p99,
                "full": bool(self._full and len(codes) == len(t))}

    def stats(self, now: float, horizon: float) -> dict[str, float | int | None]:
        """Percentiles over every sample held; rates over the last ``horizon`` seconds.

        Throughput is events per second over ``horizon``, or over the span the window covers
        when it is full and that span is shorter (older events have been dropped). The failure
        rate is failures / (successes + failures) in that same span, 0-1, None without either:
        a delivery without evidence (``UNVERIFIED``) is counted apart, as in ``figures``.
        """
        import numpy as np

        t, v = self._ordered(self._t, np.float64), self._ordered(self._v, np.float64)
        codes = self._ordered(self._ok, np.int8)
        p50, p95, p99 = percentiles(np.sort(v), (50, 95, 99))
        recent = t > now - horizon
        count = int(recent.sum())
        span = horizon
        if self._full and count == len(t) and count:
            span = min(horizon, max(now - float(t[0]), 1e-9))
        failed = int((codes[recent] == 0).sum())
        decided = failed + int((codes[recent] == 1).sum())
        return {
            "samples": len(v),
            "recent": count,
            "throughput": count / span if span > 0 else None,
            "failed_throughput": failed / span if span > 0 else None,
            "failure_rate": failed / decided if decided else None,
            "mean": float(v.mean()) if len(v) else None,
            "p50": p50,
            "p95": p95,
            "p99": p99,
        }
