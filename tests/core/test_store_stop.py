"""The stop-all generation in the outbox: raised with the queue's cancel, all or nothing, seen by
every Store on the file."""
from __future__ import annotations

import sqlite3

import pytest

from quarterdeck.core.models import Message
from quarterdeck.core.store import SCHEMA_VERSION, StopMark, Store
from quarterdeck.core.store.schema import MIGRATIONS, migrate, user_version


def queue(store: Store, *agents: str) -> list[int]:
    return store.enqueue(Message(sender="Captain", content="x"), [(a, "dryrun") for a in agents])


def test_a_new_file_has_seen_no_stop(tmp_path):
    with Store(tmp_path / "q.sqlite3") as store:
        mark = store.stop_mark()
    assert mark == StopMark(0, 0, None)


def test_request_stop_cancels_the_queue_and_raises_the_generation_seen_by_another_store(tmp_path):
    path = tmp_path / "q.sqlite3"
    with Store(path) as first, Store(path) as second:
        queue(first, "Agent-1", "Agent-2", "Agent-3")
        sending = first.claim_next()
        mark = second.request_stop()
        assert (mark.generation, mark.cancelled) == (1, 2) and mark.at is not None
        assert first.stop_mark() == mark
        assert first.counts_by_state()["cancelled"] == 2
        assert first.delivery(sending.delivery_id).state == "sending", "in flight: its dispatcher marks it"
        again = first.request_stop()
        assert (again.generation, again.cancelled) == (2, 0)
        assert second.stop_mark().generation == 2


@pytest.mark.parametrize("refused", ["deliveries", "control"])
def test_the_cancel_and_the_generation_are_one_transaction(tmp_path, refused):
    with Store(tmp_path / "q.sqlite3") as store:
        queue(store, "Agent-1")
        conn = store.connection()
        conn.execute(f"CREATE TRIGGER refuse BEFORE UPDATE ON {refused} "
                     "BEGIN SELECT RAISE(ABORT, 'refused'); END")
        with pytest.raises(sqlite3.IntegrityError, match="refused"):
            store.request_stop()
        conn.execute("DROP TRIGGER refuse")
        assert store.stop_mark().generation == 0
        assert store.counts_by_state()["queued"] == 1


def test_a_version_1_file_gains_the_control_row_and_keeps_its_history(tmp_path):
    path = tmp_path / "q.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, MIGRATIONS[:1])
    conn.execute("INSERT INTO messages (id, sender, sender_kind, type, priority, content, created_at) "
                 "VALUES ('m1', 'Captain', 'captain', 'text', 'normal', 'from version 1', 0)")
    conn.execute("INSERT INTO deliveries (message_id, agent_id, transport, priority, prio, state, created_at, "
                 "updated_at) VALUES ('m1', 'Agent-1', 'dryrun', 'normal', 1, 'queued', 0, 0)")
    conn.close()
    with Store(path) as store:
        assert user_version(store.connection()) == SCHEMA_VERSION
        assert store.stop_mark().generation == 0
        assert store.request_stop() == store.stop_mark()
        assert (store.stop_mark().generation, store.stop_mark().cancelled) == (1, 1)
