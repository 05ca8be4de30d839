"""Rebuilding a Monitor from a real SQLite history written through the Store API."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from quarterdeck.core.models import Message
from quarterdeck.core.monitor import Monitor
from quarterdeck.core.monitor.health import Status
from quarterdeck.core.monitor.replay import (
    BREAKER_UNKNOWN,
    HistoryClock,
    failure_streaks,
    finished_deliveries,
    history_health,
    replay_history,
)
from quarterdeck.core.store import Store


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "q.sqlite3") as s:
        yield s


def queue(store, *agents: str) -> list[int]:
    message = Message(sender="Captain", content="Run the suite.", recipients=list(agents))
    return store.enqueue(message, [(agent, "dryrun") for agent in agents])


def finish(store, agent: str, ok: bool, seconds: float, attempts: int = 1) -> int:
    """One delivery through enqueue, claim_next, record_attempt and mark_*; ``seconds`` long."""
    queue(store, agent)
    task = store.claim_next()
    assert task is not None and task.agent_id == agent
    end = datetime.now(UTC)
    start = end - timedelta(seconds=seconds)
    step = (end - start) / attempts
    for n in range(1, attempts + 1):
        last = n == attempts
        store.record_attempt(task.delivery_id, n, ok and last, None if ok and last else "boom",
                             start + step * (n - 1), start + step * n)
    if ok:
        store.mark_delivered(task.delivery_id, seconds * 1000.0, verdict="submitted")
    else:
        store.mark_failed(task.delivery_id, "boom")
    return task.delivery_id


def age(store, delivery_ids, seconds: float) -> None:
    """Move deliveries into the past, as if they had finished ``seconds`` earlier."""
    conn = store.connection()
    for delivery_id in delivery_ids:
        conn.execute("UPDATE deliveries SET finished_at = finished_at - ? WHERE id = ?",
                     (seconds, delivery_id))


def test_replay_counts_and_percentiles_match_the_recorded_latencies(store):
    ok_latencies = [0.05, 0.12, 0.3, 0.31, 0.9, 1.7, 2.2]
    for seconds in ok_latencies:
        finish(store, "Agent-1", True, seconds)
    finish(store, "Agent-1", False, 4.0, attempts=3)
    finish(store, "Agent-2", False, 0.5, attempts=2)

    monitor = replay_history(store)

    one = monitor.delivery_stats("Agent-1")
    assert (one["ok"], one["failed"]) == (7, 1)
    expected = np.percentile(np.array([*ok_latencies, 4.0]), [50, 95, 99])
    assert [one["p50"], one["p95"], one["p99"]] == pytest.approx(list(expected), abs=1e-5)
    assert one["failure_rate"] == pytest.approx(1 / 8)
    two = monitor.delivery_stats("Agent-2")
    assert (two["ok"], two["failed"], two["p50"]) == (0, 1, pytest.approx(0.5, abs=1e-5))
    assert sorted(monitor.agents()) == ["Agent-1", "Agent-2"]
    (a1,) = [s for s in monitor.delivery_seconds.samples() if s[0] == ("Agent-1",)]
    assert a1[1][2] == 8 and a1[1][1] == pytest.approx(sum(ok_latencies) + 4.0, abs=1e-5)


def test_only_finished_and_tried_deliveries_count(store):
    finish(store, "Agent-1", True, 0.2)
    queue(store, "Agent-1")
    queue(store, "Agent-2")
    sending = store.claim_next()                  # left sending
    queue(store, "Agent-3")                       # left queued
    never_tried = store.claim_next(exclude_agents=["Agent-1"])
    assert sending.agent_id == "Agent-1" and never_tried.agent_id == "Agent-2"
    store.mark_failed(never_tried.delivery_id, "Agent-2 is not an enabled agent on the roster")
    (cancel_id,) = queue(store, "Agent-4")
    store.mark_cancelled(cancel_id)

    rows = list(finished_deliveries(store))
    assert [(agent, ok) for agent, ok, _, _, _ in rows] == [("Agent-1", True)]
    assert replay_history(store).delivery_stats()["ok"] == 1


def test_since_keeps_only_later_deliveries(store):
    old = [finish(store, "Agent-1", False, 0.1) for _ in range(3)]
    finish(store, "Agent-1", True, 0.2)
    age(store, old, 7200)
    monitor = replay_history(store, since=datetime.now(UTC) - timedelta(hours=1))
    stats = monitor.delivery_stats("Agent-1")
    assert (stats["ok"], stats["failed"]) == (1, 0)


def test_history_clock_puts_replayed_deliveries_at_their_real_finish_time(store):
    old = [finish(store, "Agent-1", False, 0.1) for _ in range(4)]
    finish(store, "Agent-1", True, 0.2)
    finish(store, "Agent-1", True, 0.3)
    age(store, old, 3 * 3600)

    clock = HistoryClock()
    monitor = replay_history(store, Monitor(clock=clock, rate_window=3600), clock=clock)
    stats = monitor.delivery_stats("Agent-1")
    assert (stats["ok"], stats["failed"], stats["samples"]) == (2, 4, 6)
    assert stats["recent"] == 2 and stats["failure_rate"] == 0.0
    assert abs(clock() - time.time()) < 60  # unpinned again: reads the present


def test_replay_into_an_existing_monitor_adds_to_it(store):
    finish(store, "Agent-1", True, 0.2)
    monitor = Monitor()
    monitor.record_delivery("Agent-1", False, 1.0)
    assert replay_history(store, monitor) is monitor
    stats = monitor.delivery_stats("Agent-1")
    assert (stats["ok"], stats["failed"]) == (1, 1)


def test_failure_streaks_count_failures_since_the_last_success(store):
    for ok in (False, True, False, False):
        finish(store, "Agent-1", ok, 0.1)
    for ok in (True, True):
        finish(store, "Agent-2", ok, 0.1)
    old = [finish(store, "Agent-3", False, 0.1) for _ in range(2)]
    recent = finish(store, "Agent-3", False, 0.1)
    age(store, old, 7200)

    assert failure_streaks(store) == {"Agent-1": 2, "Agent-3": 3}
    since = datetime.now(UTC) - timedelta(hours=1)
    assert failure_streaks(store, since=since) == {"Agent-1": 2, "Agent-3": 1}
    assert recent > old[-1]


def history_statuses(store, agents, down_after=3):
    clock = HistoryClock()
    monitor = replay_history(store, Monitor(clock=clock, rate_window=3600), clock=clock)
    tree = history_health(monitor, agents, failure_streaks(store), down_after=down_after)
    return tree.check()


def test_history_health_per_agent(store):
    for _ in range(3):
        finish(store, "Down", False, 0.1)
        finish(store, "Up", True, 0.1)
    for ok in (True, True, True, False):
        finish(store, "Shaky", ok, 0.1)

    check = history_statuses(store, ["Down", "Up", "Shaky", "Idle"])
    parts = check["components"]
    assert {name: part["status"] for name, part in parts.items()} == {
        "Down": "DOWN", "Up": "UP", "Shaky": "DEGRADED", "Idle": "UNKNOWN"}
    assert check["status"] == Status.DOWN
    assert parts["Down"]["details"]["failed_in_a_row"] == 3
    assert parts["Down"]["details"]["breaker"] == BREAKER_UNKNOWN
    assert parts["Shaky"]["details"]["failure_rate"] == pytest.approx(0.25)
    assert parts["Idle"]["details"]["recent"] == 0


def test_fewer_failures_than_the_threshold_is_degraded_not_down(store):
    for _ in range(2):
        finish(store, "Agent-1", False, 0.1)
    check = history_statuses(store, ["Agent-1"], down_after=3)
    assert check["components"]["Agent-1"]["status"] == "DEGRADED"
    with pytest.raises(ValueError):
        history_health(Monitor(), ["Agent-1"], {}, down_after=0)
