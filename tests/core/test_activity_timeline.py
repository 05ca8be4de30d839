"""Time in each state per agent (quarterdeck.core.activity.timeline)."""
from __future__ import annotations

import pytest

from quarterdeck.core.activity.events import ActivityEvent
from quarterdeck.core.activity.timeline import time_in_state
from quarterdeck.core.activity.tracks import changes
from quarterdeck.core.store.schema import open_migrated

T = 1_780_000_000.0


def ev(kind: str, at: float, agent: str = "A", source: str = "claude-code", **kw: str) -> ActivityEvent:
    return ActivityEvent(agent_id=agent, source=source, kind=kind, name=kind, at=T + at, **kw)


def test_a_turn_is_measured_state_by_state_inside_the_window():
    events = [ev("prompt_submitted", 10), ev("needs_you", 40, waits_for="permission"), ev("tool_use", 70),
              ev("turn_ended", 100), ev("prompt_submitted", 30, agent="B")]
    assert changes(events, "A") == [(T + 10, "working"), (T + 40, "needs-you"), (T + 70, "working"),
                                    (T + 100, "idle")]
    totals = time_in_state(events, ["A", "B", "C"], T, T + 160)
    assert {k: v for k, v in totals["A"].items() if v} == {"unknown": 10, "working": 60, "needs-you": 30, "idle": 60}
    assert sum(totals["A"].values()) == pytest.approx(160)
    assert totals["B"]["unknown"] == 30 and totals["B"]["working"] == 130
    assert totals["C"]["unknown"] == 160
    # a window that starts mid-turn takes the state in force at its start
    later = time_in_state(events, ["A"], T + 50, T + 80)["A"]
    assert {k: v for k, v in later.items() if v} == {"needs-you": 20, "working": 10}


def test_a_long_working_stretch_counts_as_stalled_after_the_limit():
    events = [ev("prompt_submitted", 0), ev("turn_ended", 1000)]
    totals = time_in_state(events, ["A"], T, T + 1000, stall_after=600)["A"]
    assert (totals["working"], totals["stalled"]) == (600, 400)


def test_events_are_read_from_a_window_and_pruned_keeping_each_agents_latest(tmp_path):
    from quarterdeck.core.activity import journal, record
    from quarterdeck.core.store import Store

    with Store(tmp_path / "quarterdeck.sqlite3"):
        pass
    for n in range(8):
        record.record(tmp_path, ev("prompt_submitted" if n % 2 == 0 else "turn_ended", n * 86400.0))
    record.record(tmp_path, ev("turn_ended", 0, agent="Old"))
    window = journal.load_since(tmp_path, T + 5 * 86400, per_agent=2)
    assert [(e.agent_id, e.at - T) for e in window] == [
        ("Old", 0.0), ("A", 3 * 86400.0), ("A", 4 * 86400.0), ("A", 5 * 86400.0), ("A", 6 * 86400.0),
        ("A", 7 * 86400.0)]
    conn = open_migrated(tmp_path / "quarterdeck.sqlite3")
    try:
        assert journal.prune(conn, now=T + 8 * 86400, keep_days=2, per_agent=3) == 5  # A's days 0-4
    finally:
        conn.close()
    left = journal.load_events(tmp_path)
    assert [(e.agent_id, (e.at - T) / 86400) for e in left] == [
        ("Old", 0.0), *(("A", float(d)) for d in range(5, 8))]  # Old's only event stays: its state rests on it


def test_stretches_are_the_bands_the_charts_draw():
    from quarterdeck.core.activity.timeline import stretches

    events = [ev("prompt_submitted", 10), ev("turn_ended", 700)]
    assert [(s.state, s.start - T, s.end - T) for s in stretches(events, ["A"], T, T + 800, stall_after=600)] == [
        ("unknown", 0, 10), ("working", 10, 610), ("stalled", 610, 700), ("idle", 700, 800)]
