"""Taking one delivery entry into the relay's local outbox, exactly once.

The entry's message is stored under the captain's message id, so an entry seen twice (redelivered
after a crash, claimed from a dead consumer, or duplicated) finds its delivery already there and
queues nothing. A message sent to two agents of one relay comes as two entries with one message
id: the second adds its agent's delivery to the stored message. The caller acknowledges the
entry only after ``take`` returned (the local enqueue is committed by then).
"""
from __future__ import annotations

import sqlite3

from quarterdeck.core.relay.ledger import Ledger
from quarterdeck.core.relay.protocol import DeliveryEntry
from quarterdeck.core.session import Session
from quarterdeck.core.store import StoreError
from quarterdeck.core.store.control import STOPPED
from quarterdeck.core.store.db import immediate, inserted_id
from quarterdeck.core.store.queueing import priority_rank
from quarterdeck.core.store.rows import now_db


def local_delivery(conn: sqlite3.Connection, message_id: str, agent: str) -> int | None:
    """The local delivery of ``message_id`` to ``agent`` (the first one), or None."""
    row = conn.execute("SELECT id FROM deliveries WHERE message_id = ? AND agent_id = ? ORDER BY id LIMIT 1",
                       (message_id, agent)).fetchone()
    return None if row is None else int(row[0])


def _transport(session: Session, agent: str) -> str:
    return session.roster.get(agent).transport.kind if agent in session.roster else "none"


def _add_recipient(session: Session, entry: DeliveryEntry) -> int:
    """A queued delivery of the stored message ``entry.message.id`` to ``entry.agent``."""
    now = now_db()
    priority = str(entry.message.priority)
    with immediate(session.store.connection()) as conn:
        existing = local_delivery(conn, entry.message.id, entry.agent)
        if existing is not None:
            return existing
        cur = conn.execute(
            "INSERT INTO deliveries (message_id, agent_id, transport, priority, prio, state, claimed_by, "
            "created_at, updated_at, when_idle, expires_at) VALUES (?, ?, ?, ?, ?, 'queued', NULL, ?, ?, 0, NULL)",
            (entry.message.id, entry.agent, _transport(session, entry.agent), priority, priority_rank(priority),
             now, now))
        conn.execute("UPDATE messages SET recipients = json_insert(recipients, '$[#]', ?) WHERE id = ? "
                     "AND NOT EXISTS (SELECT 1 FROM json_each(recipients) WHERE value = ?)",
                     (entry.agent, entry.message.id, entry.agent))
        return inserted_id(cur)


def take(session: Session, ledger: Ledger, entry: DeliveryEntry) -> tuple[int, bool]:
    """Queue ``entry`` in the local outbox unless it is there already; returns (local delivery id,
    whether it is new). While the relay is stopped (stop all) a new delivery is cancelled at once."""
    store = session.store
    ledger.record(entry.message.id, entry.agent, entry.delivery)  # first: the delivery's events find it
    existing = local_delivery(store.connection(), entry.message.id, entry.agent)
    if existing is not None:
        ledger.set_local(entry.message.id, entry.agent, existing)
        return existing, False
    message = entry.message.model_copy(update={"recipients": [entry.agent]})
    try:
        local = store.enqueue(message, [(entry.agent, _transport(session, entry.agent))])[0]
    except StoreError:
        if store.connection().execute("SELECT 1 FROM messages WHERE id = ?", (entry.message.id,)).fetchone() is None:
            raise
        local = _add_recipient(session, entry)
    ledger.set_local(entry.message.id, entry.agent, local)
    if session.dispatcher.stopped:
        try:
            store.mark_cancelled(local, STOPPED)
        except StoreError:
            pass  # claimed meanwhile by another process on this outbox: it reports its own outcome
    else:
        session.dispatcher.notify()
    return local, True
