"""An inbox round's outcomes recorded together (``batching.finish``): a few statements for the whole
batch, with the same result as one outcome at a time: only deliveries still ``sending`` change,
every attempt is logged, a delivery named twice takes its first outcome."""
from __future__ import annotations

from quarterdeck.core.models import Message
from quarterdeck.core.store import batching
from quarterdeck.core.store.batching import Done
from quarterdeck.core.store.outbox import Store


def _claimed(store: Store, count: int) -> list[int]:
    message = Message(sender="Captain", recipients=[f"Agent-{i}" for i in range(count)], content="hello")
    ids = store.enqueue(message, [(f"Agent-{i}", "inbox") for i in range(count)])
    assert len(batching.claim(store, [f"Agent-{i}" for i in range(count)], own_only=False, limit=count)) == count
    return ids


def _rows(store: Store, ids: list[int]) -> list[tuple[object, ...]]:
    conn = store.connection()
    return [tuple(conn.execute("SELECT state, reason, verdict, attempts, finished_at IS NOT NULL FROM deliveries "
                               "WHERE id = ?", (d,)).fetchone()) for d in ids]


def _attempts(store: Store) -> list[tuple[object, ...]]:
    return [tuple(r) for r in store.connection().execute("SELECT delivery_id, n, ok, error FROM attempts "
                                                         "ORDER BY delivery_id, n").fetchall()]


def test_a_batch_records_each_outcome_of_a_delivery_still_sending(tmp_path) -> None:
    store = Store(tmp_path / "outbox.sqlite3")
    try:
        a, b, c, d = _claimed(store, 4)
        store.connection().execute("UPDATE deliveries SET state = 'cancelled' WHERE id = ?", (d,))  # a stop came
        changed = batching.finish(store, [
            Done(a, "delivered", None, "submitted", "written to x", 1.5, 1, 10.0, 10.1),
            Done(b, "queued", "retrying: disk full", attempt=1, began=10.0, ended=10.2, error="disk full"),
            Done(c, "failed", "breaker open"),
            Done(d, "delivered", None, "submitted", "written to y", 1.0, 1, 10.0, 10.1),
        ])
        assert changed == {a, b, c}
        assert _rows(store, [a, b, c, d]) == [("delivered", None, "submitted", 1, 1),
                                              ("queued", "retrying: disk full", None, 1, 0),
                                              ("failed", "breaker open", None, 0, 1),
                                              ("cancelled", None, None, 0, 0)]
        assert _attempts(store) == [(a, 1, 1, None), (b, 1, 0, "disk full"), (d, 1, 1, None)]
    finally:
        store.close()


def test_a_delivery_named_twice_takes_its_first_outcome(tmp_path) -> None:
    store = Store(tmp_path / "outbox.sqlite3")
    try:
        a, b = _claimed(store, 2)
        changed = batching.finish(store, [Done(a, "uncertain", "crashed", attempt=1, began=1.0, ended=2.0, error="x"),
                                          Done(b, "delivered", None, "submitted", "written", 1.0, 1, 1.0, 2.0),
                                          Done(a, "queued", "behind an earlier message")])
        assert changed == {a, b}
        assert _rows(store, [a, b]) == [("uncertain", "crashed", None, 1, 1), ("delivered", None, "submitted", 1, 1)]
        assert _attempts(store) == [(a, 1, 0, "x"), (b, 1, 1, None)]
    finally:
        store.close()


def test_the_batch_leaves_the_rows_one_outcome_at_a_time_leaves(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(batching, "now_db", lambda: 1234.5)  # both paths stamp the same time

    def recorded(folder: str, record) -> tuple[set[int], list[tuple[object, ...]], list[tuple[object, ...]]]:
        store = Store(tmp_path / folder / "outbox.sqlite3")
        try:
            ids = _claimed(store, 3)
            changed = record(store, [
                Done(ids[0], "delivered", None, "submitted", "written to /in/a.md", 2.5, 1, 1.0, 2.0),
                Done(ids[1], "uncertain", "its folder could not be flushed", None, None, None, 2, 1.0, 2.0, "EIO"),
                Done(ids[2], "queued", "behind an earlier message")])
            rows = [tuple(r) for r in store.connection().execute(
                "SELECT id, state, reason, verdict, evidence, latency_ms, attempts, started_at, updated_at, "
                "finished_at FROM deliveries ORDER BY id").fetchall()]
            return changed, rows, [tuple(r) for r in store.connection().execute("SELECT * FROM attempts ORDER BY "
                                                                                "delivery_id, n").fetchall()]
        finally:
            store.close()

    assert recorded("together", batching.finish) == recorded("each", batching._finish_each)
