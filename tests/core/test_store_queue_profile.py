"""A delivery queue's outbox (a relay's, ``Store(search=False)``) and the history's full open of it.

The queue leaves out the history's search index and its time indexes; every query the relay runs
still finds its rows through an index (checked on the statements the relay's own calls execute).
A full open of a queue's file adds what is missing, the search index filled from the messages
already stored; a queue open of a full file keeps all of it.
"""
from __future__ import annotations

import re
import sqlite3
from types import SimpleNamespace

from quarterdeck.core.models import Message
from quarterdeck.core.relay.intake import _local_deliveries
from quarterdeck.core.relay.ledger import Ledger
from quarterdeck.core.relay.prune import _OLD_CLOSED
from quarterdeck.core.store import Store, batching, search
from quarterdeck.core.store.schema import open_migrated

HISTORY_ONLY = {"messages_fts", "messages_fts_insert", "messages_fts_delete", "messages_fts_update",
                "deliveries_time", "deliveries_agent_time", "deliveries_agent_state_time"}
QUEUE_KEEPS = {"deliveries_queue", "deliveries_in_flight", "deliveries_message", "deliveries_state_time",
               "deliveries_retry", "deliveries_waiting", "agent_events_agent_time"}
AGENTS = ("A1", "A2", "A3")


def _names(path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_schema")}
    finally:
        conn.close()


def _enqueue(store: Store, words: str, n: int = 6) -> list[int]:
    return store.enqueue_many([(Message(sender="Captain", recipients=[AGENTS[i % 3]], content=f"{words} {i}"),
                                AGENTS[i % 3], "inbox") for i in range(n)])


def _found(store: Store, text: str) -> int:
    return len(search(store, text=text))


def test_a_queue_builds_none_of_the_history_s_objects_and_keeps_the_queue_s_indexes(tmp_path):
    path = tmp_path / "quarterdeck.sqlite3"
    with Store(path, search=False) as store:
        _enqueue(store, "queued")
    names = _names(path)
    assert not names & HISTORY_ONLY
    assert QUEUE_KEEPS <= names


def test_a_reader_beside_the_store_builds_none_of_them_either(tmp_path):
    path = tmp_path / "quarterdeck.sqlite3"
    open_migrated(path).close()
    assert not _names(path) & HISTORY_ONLY


def test_every_query_the_relay_runs_on_a_queue_uses_an_index(tmp_path):
    path = tmp_path / "quarterdeck.sqlite3"
    with Store(path, search=False) as store:
        for n in range(3):  # some history, some queued
            _enqueue(store, f"round{n}", 30)
        done = [batching.Done(c.task.delivery_id, "delivered", verdict="submitted", latency_ms=1.0, attempt=1)
                for c in batching.claim(store, AGENTS, own_only=False, limit=40)]
        batching.finish(store, done)
        statements: list[str] = []
        conn = store.connection()
        conn.set_trace_callback(statements.append)
        _enqueue(store, "traced")  # intake
        _local_deliveries(SimpleNamespace(store=store), {("x", "A1")})
        batching.peek(store, AGENTS, own_only=True)
        claimed = batching.claim(store, AGENTS, own_only=True, limit=5)  # inbox rounds
        batching.finish(store, [batching.Done(c.task.delivery_id, "failed", reason="r") for c in claimed])
        store.peek_next(own_only=True)
        task = store.claim_next(own_only=True, started=False)  # the dispatcher's (tmux, gui agents)
        assert task is not None
        store.mark_started(task.delivery_id)
        store.mark_delivered(task.delivery_id, 1.0)
        store.states_of([1, 2, 3])  # receipts' sweep
        store.delivery(1)
        store.recover()
        store.requeue([claimed[0].task.delivery_id])
        store.cancel_queued("A1")
        store.request_stop()  # a captain's stop-all
        store.pending_count()
        conn.set_trace_callback(None)
        queries = [s for s in statements if re.match(r"\s*(SELECT|UPDATE|DELETE)", s)]
        assert len(queries) > 15
        for sql in queries:
            plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
            assert not [step for step in plan if re.match(r"SCAN (deliveries|messages|d|m)$", step)], (sql, plan)
    ledger = Ledger(tmp_path)  # the hourly prune reads the outbox's deliveries by id
    ledger.close()
    conn = sqlite3.connect(tmp_path / "relay.sqlite")
    conn.execute("ATTACH DATABASE ? AS outbox", (str(path),))
    plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {_OLD_CLOSED}", (0.0, 10))]
    conn.close()
    assert any("SEARCH d USING INTEGER PRIMARY KEY" in step for step in plan), plan


def test_a_full_open_of_a_queue_s_file_adds_the_history_and_searches_what_was_queued_before(tmp_path):
    path = tmp_path / "quarterdeck.sqlite3"
    with Store(path, search=False) as queue:
        _enqueue(queue, "before-upgrade")
    with Store(path) as history:  # quarterdeck history --db, the panel, the doctor's reader
        assert HISTORY_ONLY <= _names(path)
        assert _found(history, "before-upgrade") == 6
        assert _found(history, "upgrade 4") == 1
        _enqueue(history, "after-upgrade")
        assert _found(history, "after-upgrade") == 6
    with Store(path, search=False) as queue:  # the relay again: it keeps them, and they stay in step
        _enqueue(queue, "queued-later")
        assert HISTORY_ONLY <= _names(path)
    with Store(path) as history:
        assert _found(history, "queued-later") == 6
        assert _found(history, "before-upgrade") == 6


def test_a_relay_outbox_made_with_the_full_schema_keeps_it_when_opened_as_a_queue(tmp_path):
    path = tmp_path / "quarterdeck.sqlite3"
    with Store(path) as full:
        _enqueue(full, "old-relay")
    with Store(path, search=False) as queue:
        _enqueue(queue, "new-relay")
    assert HISTORY_ONLY <= _names(path)
    with Store(path) as history:
        assert _found(history, "old-relay") == 6
        assert _found(history, "new-relay") == 6
        integrity = history.connection().execute(
            "INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)")
        assert integrity.rowcount in (0, -1, 1)  # raises when the index and the rows disagree
