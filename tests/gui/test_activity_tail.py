"""The feed's event tail gives the journal's answer while reading only what is new: the same
activities as journal.activities after each batch of real recorded events (late timestamps,
spooled events, more than the per-agent window, a rebuilt table), and a look at a big table costs
milliseconds, not the whole-table query."""
from __future__ import annotations

import sqlite3
import time

from quarterdeck.core.activity.events import NEEDS_YOU, PROMPT_SUBMITTED, TOOL_USE, TURN_ENDED, ActivityEvent
from quarterdeck.core.activity.journal import PER_AGENT, activities
from quarterdeck.core.activity.record import INSERT, SPOOL_NAME, append_spool, new_key, record, row
from quarterdeck.core.activity.tracks import reduce
from quarterdeck.core.store import Store
from quarterdeck.gui.activity.tail import EventTail

IDS = ["Agent-1", "Agent-2", "Agent-3"]


def hook(agent: str, kind: str, name: str, at: float, **fields) -> ActivityEvent:
    return ActivityEvent(agent_id=agent, source="claude-code", kind=kind, name=name, at=at, **fields)


def same_as_journal(tail: EventTail, store: Store, now: float) -> dict:
    tail.update(store.connection())
    mine = reduce(tail.events(), IDS, now=now)
    assert mine == activities(store.path.parent, IDS, now=now)
    return {agent: a.state for agent, a in mine.items()}


def test_the_tail_agrees_with_the_journal_batch_after_batch(tmp_path):
    store = Store(tmp_path / "quarterdeck.sqlite3")
    tail = EventTail(tmp_path)
    now = time.time()
    assert same_as_journal(tail, store, now) == {a: "unknown" for a in IDS}
    record(tmp_path, hook("Agent-1", PROMPT_SUBMITTED, "UserPromptSubmit", now - 200))
    record(tmp_path, hook("Agent-2", NEEDS_YOU, "Notification", now - 40, waits_for="permission"))
    assert same_as_journal(tail, store, now) == {"Agent-1": "working", "Agent-2": "needs-you", "Agent-3": "unknown"}
    # more events than the window keeps (PER_AGENT), and ones that arrive late with an older time
    for n in range(PER_AGENT + 5):
        record(tmp_path, hook("Agent-1", TOOL_USE, "PreToolUse", now - 150 + 2 * n, detail="Bash"))
    record(tmp_path, hook("Agent-1", TURN_ENDED, "Stop", now - 160))  # older than the window: left out
    record(tmp_path, hook("Agent-2", TURN_ENDED, "Stop", now - 45))  # before its Notification: still waiting
    assert same_as_journal(tail, store, now) == {"Agent-1": "working", "Agent-2": "needs-you", "Agent-3": "unknown"}
    assert len(tail.by_agent["Agent-1"]) == PER_AGENT
    # a spooled event (the hook found the database busy) is taken in by the tail's look
    append_spool(tmp_path, hook("Agent-3", NEEDS_YOU, "Notification", now - 5, waits_for="question").to_json())
    assert (tmp_path / SPOOL_NAME).exists()
    tail.update(store.connection())
    assert not (tmp_path / SPOOL_NAME).exists()
    assert same_as_journal(tail, store, now)["Agent-3"] == "needs-you"
    # stalled comes with the time alone: working, nothing heard for 11 minutes
    assert same_as_journal(tail, store, now + 660)["Agent-1"] == "stalled"
    assert tail.reads == 1  # one whole read; every later look read only the new rows
    # the table rebuilt with fewer rows: read afresh
    store.connection().execute("DELETE FROM agent_events")
    record(tmp_path, hook("Agent-1", TURN_ENDED, "Stop", now))
    assert same_as_journal(tail, store, now) == {"Agent-1": "idle", "Agent-2": "unknown", "Agent-3": "unknown"}
    assert tail.reads == 2
    store.close()


def test_a_look_at_a_big_table_reads_only_what_is_new(tmp_path):
    store = Store(tmp_path / "quarterdeck.sqlite3")
    now = time.time()
    agents = [f"Agent-{n}" for n in range(20)]
    conn = sqlite3.connect(tmp_path / "quarterdeck.sqlite3")
    conn.executemany(INSERT, [row(hook(agents[n % 20], TOOL_USE, "PreToolUse", now - 60_000 + n, detail="Bash"),
                                  new_key()) for n in range(60_000)])
    conn.commit()
    conn.close()
    tail = EventTail(tmp_path)
    tail.update(store.connection())
    record(tmp_path, hook("Agent-7", NEEDS_YOU, "Notification", now, waits_for="permission"))
    started = time.perf_counter()
    assert tail.update(store.connection())
    assert reduce(tail.events(), agents, now=now)["Agent-7"].state == "needs-you"
    took = time.perf_counter() - started
    started = time.perf_counter()
    assert not tail.update(store.connection())  # nothing new
    idle = time.perf_counter() - started
    print(f"look with a new event: {took * 1000:.1f} ms, without: {idle * 1000:.2f} ms (60 000 events)")
    assert took < 0.05 and idle < 0.01
    store.close()
