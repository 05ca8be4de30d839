"""Queueing a batch (``queueing.enqueue_each``, ``Store.enqueue_many``): a few statements for the whole
batch, not some per message, with each delivery id given back for the row it names."""
from __future__ import annotations

import json

import pytest

from quarterdeck.core.models import Message
from quarterdeck.core.store import Store, db
from quarterdeck.core.store.queueing import enqueue_each
from quarterdeck.core.store.rows import StoreError


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "q.sqlite3") as s:
        yield s


def msg(n: int, *agents: str) -> Message:
    return Message(sender="Captain", content=f"message {n}", recipients=list(agents))


def rows(store: Store, ids: list[int]) -> list[tuple[object, ...]]:
    return [tuple(store.connection().execute("SELECT message_id, agent_id, state, when_idle FROM deliveries "
                                             "WHERE id = ?", (i,)).fetchone()) for i in ids]


@pytest.fixture
def statements(monkeypatch):
    """Run a call; returns what it returned and the SQL of each statement it executed (executemany once)."""
    seen: list[str] = []
    for name in ("execute", "executemany"):
        original = getattr(db._Cursor, name)
        monkeypatch.setattr(db._Cursor, name,
                            lambda self, sql, *a, _o=original: (seen.append(sql), _o(self, sql, *a))[1])

    def run(call):  # type: ignore[no-untyped-def]
        seen.clear()
        return call(), list(seen)
    return run


def test_each_id_is_the_row_of_its_message_and_agent_in_a_batch_of_few_statements(store, statements):
    batch = [msg(n, *[f"A{(n + k) % 5}" for k in range(n % 3 + 1)]) for n in range(40)]
    ids, seen = statements(lambda: enqueue_each(
        store, [(m, [(a, "relay") for a in m.recipients], None, 60.0 if n % 7 == 0 else None)
                for n, m in enumerate(batch)]))
    for n, (m, got) in enumerate(zip(batch, ids, strict=True)):
        waiting = n % 7 == 0
        assert rows(store, got) == [(m.id, a, "waiting" if waiting else "queued", int(waiting)) for a in m.recipients]
    flat = [i for got in ids for i in got]
    assert flat == sorted(flat) and len(set(flat)) == len(flat) == sum(len(m.recipients) for m in batch)
    assert len([s for s in seen if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))]) <= 6


def test_a_message_stored_already_or_twice_in_the_batch_is_named_and_nothing_is_stored(store):
    first = msg(1, "A1")
    enqueue_each(store, [(first, [("A1", "relay")], None, None)])
    for batch in ([msg(2, "A1"), first], [msg(3, "A1"), msg(4, "A2")] * 2):
        with pytest.raises(StoreError, match=f"message {batch[1 if batch[1] is first else 2].id!r} is already stored"):
            enqueue_each(store, [(m, [(m.recipients[0], "relay")], None, None) for m in batch])
    assert store.connection().execute("SELECT count(*) FROM messages").fetchone()[0] == 1
    assert store.connection().execute("SELECT count(*) FROM deliveries").fetchone()[0] == 1


def test_a_relay_batch_adds_later_agents_of_a_message_to_its_recipients(store, statements):
    one, two = msg(1, "A1"), msg(2, "A2")
    first = store.enqueue_many([(one, "A1", "inbox")])
    ids, seen = statements(lambda: store.enqueue_many(
        [(two, "A2", "inbox"), (one, "A3", "inbox"), (two, "A4", "inbox"), (one, "A1", "tmux")]))
    assert rows(store, first + ids) == [(one.id, "A1", "queued", 0), (two.id, "A2", "queued", 0),
                                        (one.id, "A3", "queued", 0), (two.id, "A4", "queued", 0),
                                        (one.id, "A1", "queued", 0)]
    recipients = {i: json.loads(r) for i, r in store.connection().execute("SELECT id, recipients FROM messages")}
    assert recipients == {one.id: ["A1", "A3"], two.id: ["A2", "A4"]}
    assert len([s for s in seen if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))]) <= 7
