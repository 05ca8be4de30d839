"""Re-queue cancelled: what the last Stop all cancelled goes back to the queue once; nothing that
was being typed, nothing from an earlier stop, nothing cancelled for another reason."""
from __future__ import annotations

import time

from quarterdeck.core.models import Message
from quarterdeck.core.store import Store
from quarterdeck.core.store.requeue import requeue_stopped, stopped_pending


def queue(store: Store, *agents: str) -> list[int]:
    return store.enqueue(Message(sender="Captain", content="x"), [(a, "dryrun") for a in agents])


def test_nothing_to_requeue_before_any_stop(tmp_path):
    with Store(tmp_path / "q.sqlite3") as store:
        queue(store, "Agent-1")
        done = requeue_stopped(store.connection())
        assert done.stop == 0 and done.ids == ()
        assert "no Stop all" in done.summary()
        assert store.counts_by_state()["queued"] == 1


def test_the_last_stops_queued_deliveries_come_back_once_and_the_typed_one_never(tmp_path):
    path = tmp_path / "q.sqlite3"
    with Store(path) as store, Store(path) as other:
        first = queue(store, "Agent-1", "Agent-2", "Agent-3")
        in_flight = store.claim_next()  # Agent-1: being typed when the stop came
        paused = store.claim_next()  # Agent-2: a GUI pause handed it back, untyped
        store.release(paused.delivery_id)
        store.mark_cancelled(queue(store, "Agent-4")[0], "skipped by the captain")  # not the stop's
        mark = other.request_stop()
        store.mark_cancelled(in_flight.delivery_id, "stopped: stop all")  # its process marks it
        assert mark.cancelled == 2
        assert stopped_pending(store.connection()) == 2

        done = requeue_stopped(other.connection())
        assert done.stop == mark.generation and done.agents == ("Agent-2", "Agent-3")
        assert done.summary() == "2 cancelled deliveries queued again (Agent-2, Agent-3)."
        rows = [store.delivery(i) for i in done.ids]
        assert [(r.state, r.retry_of, r.message_id) for r in rows] == [
            ("queued", first[1], rows[0].message_id), ("queued", first[2], rows[0].message_id)]
        assert store.delivery(first[0]).state == "cancelled", "the one being typed stays cancelled"

        again = requeue_stopped(store.connection())
        assert again.ids == () and "nothing that is not queued again" in again.summary()
        assert stopped_pending(store.connection()) == 0
        assert store.counts_by_state()["queued"] == 2


def test_only_the_last_stop_counts(tmp_path):
    with Store(tmp_path / "q.sqlite3") as store:
        queue(store, "Agent-1")
        store.request_stop()
        time.sleep(0.05)
        later = queue(store, "Agent-2")
        store.connection().execute(  # the first stop lies well in the past
            "UPDATE deliveries SET finished_at = finished_at - 3600 WHERE agent_id = 'Agent-1'")
        store.request_stop()
        done = requeue_stopped(store.connection())
        assert done.agents == ("Agent-2",) and store.delivery(done.ids[0]).retry_of == later[0]
