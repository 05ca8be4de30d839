"""Rebuild a ``Monitor`` from the stored history, for processes that did not deliver themselves.

The CLI runs apart from the GUI, so its monitor starts empty; ``replay_history`` feeds it every
finished delivery recorded in ``quarterdeck.sqlite3`` through ``Monitor.record_delivery``, oldest
first. What counts matches what a dispatcher records live:

- ``delivered``: ok, with its stored ``latency_ms``; counted as ``unverified`` unless its verdict
  is ``submitted``;
- ``failed`` after at least one attempt: not ok, lasting from its first attempt's start to its last
  attempt's end. A delivery failed before any attempt (agent not on the roster, breaker open,
  stored redacted) was never tried and is left out, as the dispatcher leaves it out;
- ``queued``, ``sending``, ``cancelled`` and ``uncertain`` rows have no outcome and are skipped.

Time: a monitor built here runs on a ``HistoryClock`` (epoch seconds that advance monotonically).
Replay pins the clock to each delivery's ``finished_at``, so the monitor's rate window ("the last
60 s") covers the deliveries that really finished in the last 60 s, not the whole replay. A
monitor passed in without its ``HistoryClock`` records the replayed deliveries at its own "now".

``history_health`` turns such a monitor into per-agent health without breakers (those live in a
running dispatcher only): DOWN when the agent's last ``down_after`` deliveries in the window all
failed (the rule a dispatcher's breaker opens on), else from the window's failure rate.
"""
from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from quarterdeck.core.monitor import Monitor
from quarterdeck.core.monitor.health import CompositeHealth, Health, Status

if TYPE_CHECKING:
    from quarterdeck.core.store.outbox import Store

__all__ = ["BREAKER_UNKNOWN", "FinishedDelivery", "HistoryClock", "failure_streaks",
           "finished_deliveries", "history_health", "replay_history"]

BREAKER_UNKNOWN = "only known to a running dispatcher"

FinishedDelivery = tuple[str, bool, float, float, bool]  # agent, ok, seconds, finished_at (epoch s), verified

_COUNTED = "(d.state = 'delivered' OR (d.state = 'failed' AND d.attempts > 0)) AND d.finished_at IS NOT NULL"
_SECONDS = """
    CASE WHEN d.state = 'delivered' AND d.latency_ms IS NOT NULL THEN d.latency_ms / 1000.0
         ELSE coalesce((SELECT max(a.finished_at) - min(a.started_at) FROM attempts a
                        WHERE a.delivery_id = d.id),
                       d.finished_at - d.started_at, 0.0) END
"""


class HistoryClock:
    """Epoch seconds, advancing with ``time.monotonic``; ``pin`` holds it at a given moment."""

    def __init__(self) -> None:
        self._offset = time.time() - time.monotonic()
        self._pinned: float | None = None

    def __call__(self) -> float:
        pinned = self._pinned
        return pinned if pinned is not None else time.monotonic() + self._offset

    def pin(self, moment: float | None) -> None:
        """Hold the clock at ``moment`` (epoch seconds); None lets it run again."""
        self._pinned = moment


def _since_clause(since: datetime | None) -> tuple[str, tuple[Any, ...]]:
    return ("", ()) if since is None else (" AND d.finished_at >= ?", (since.timestamp(),))


def finished_deliveries(store: Store, *, since: datetime | None = None) -> Iterator[FinishedDelivery]:
    """``(agent, ok, seconds, finished_at)`` of every counted delivery, oldest first (see above).

    ``since`` keeps the deliveries finished at or after it (a naive datetime is local time).
    """
    where, params = _since_clause(since)
    cursor = store.connection().execute(
        f"SELECT d.agent_id, d.state = 'delivered' AS ok, {_SECONDS} AS seconds, d.finished_at, "
        f"coalesce(d.verdict = 'submitted', 0) AS verified "
        f"FROM deliveries d WHERE {_COUNTED}{where} ORDER BY d.finished_at, d.id", params)
    try:
        for agent, ok, seconds, finished, verified in cursor:
            yield str(agent), bool(ok), max(float(seconds), 0.0), float(finished), bool(verified)
    finally:
        cursor.close()


def replay_history(store: Store, monitor: Monitor | None = None, *, since: datetime | None = None,
                   clock: HistoryClock | None = None) -> Monitor:
    """Record every finished delivery of ``store`` into ``monitor`` (a new one when None).

    Pass ``clock`` when ``monitor`` was built with it (``Monitor(clock=clock)``): each delivery is
    then recorded at the moment it finished. Replay into a monitor before other threads use it.
    Returns the monitor.
    """
    if monitor is None:
        clock = clock or HistoryClock()
        monitor = Monitor(clock=clock)
    try:
        for agent, ok, seconds, finished, verified in finished_deliveries(store, since=since):
            if clock is not None:
                clock.pin(finished)
            monitor.record_delivery(agent, ok, seconds, verified=verified)
    finally:
        if clock is not None:
            clock.pin(None)
    return monitor


def failure_streaks(store: Store, *, since: datetime | None = None) -> dict[str, int]:
    """Per agent, how many of its newest counted deliveries failed in a row (agents at 0 omitted).

    With ``since``, only deliveries finished at or after it are looked at.
    """
    where, params = _since_clause(since)
    rows = store.connection().execute(
        "SELECT d.agent_id, count(*) AS n FROM deliveries d "
        f"WHERE d.state = 'failed' AND {_COUNTED}{where} AND d.finished_at > coalesce("
        "(SELECT max(e.finished_at) FROM deliveries e WHERE e.agent_id = d.agent_id "
        "AND e.state = 'delivered'), -1) GROUP BY d.agent_id", params).fetchall()
    return {str(agent): int(n) for agent, n in rows}


class _StoredAgentHealth:
    def __init__(self, monitor: Monitor, agent: str, streak: int, down_after: int,
                 degraded_at: float) -> None:
        self.monitor, self.agent, self.streak = monitor, agent, streak
        self.down_after, self.degraded_at = down_after, degraded_at

    def __call__(self) -> Health:
        stats = self.monitor.delivery_stats(self.agent)
        rate = stats["failure_rate"]
        details: dict[str, Any] = {
            "failure_rate": rate, "recent": stats["recent"], "failed_in_a_row": self.streak,
            "ok": stats["ok"], "failed": stats["failed"], "p95_seconds": stats["p95"],
            "breaker": BREAKER_UNKNOWN,
        }
        if self.streak >= self.down_after:
            return Health(Status.DOWN, {**details, "reason": (
                f"its last {self.streak} deliveries failed in a row; a dispatcher's breaker "
                f"opens after {self.down_after}")})
        if rate is None:
            return Health(Status.UNKNOWN, {**details, "reason": "no deliveries in the window"})
        if rate >= self.degraded_at:
            return Health(Status.DEGRADED, {**details, "reason": "many recent deliveries failed"})
        return Health(Status.UP, details)


def history_health(monitor: Monitor, agents: Iterable[str], streaks: Mapping[str, int], *,
                   down_after: int, degraded_at: float = 0.25) -> CompositeHealth:
    """One indicator per agent from a replayed ``monitor`` and ``failure_streaks`` of the same
    window (the monitor's ``rate_window``). ``down_after`` is the breaker threshold (>= 1)."""
    if down_after < 1:
        raise ValueError("down_after must be at least 1")
    return CompositeHealth({agent: _StoredAgentHealth(monitor, agent, streaks.get(agent, 0),
                                                      down_after, degraded_at)
                            for agent in agents})
