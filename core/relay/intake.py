"""Taking one delivery entry into the relay's local outbox, exactly once.

The entry's message is stored under the captain's message id, and the ledger maps the captain's
delivery id to the local delivery, so an entry seen twice (redelivered after a crash, claimed
from a dead consumer, or duplicated) finds its delivery already there and queues nothing; one
queued just before a crash, before its id was written down, is found as the local delivery of that
message and agent that no captain delivery owns. A message sent to two agents of one relay comes
as two entries with one message id: the second adds its agent's delivery to the stored message;
so does the captain sending a message again (a new delivery id). The caller acknowledges the
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


def _transport(session: Session, agent: str) -> str:
    return session.roster.get(agent).transport.kind if agent in session.roster else "none"


def _local_deliveries(conn: sqlite3.Connection, message_id: str, agent: str) -> list[int]:
    rows = conn.execute("SELECT id FROM deliveries WHERE message_id = ? AND agent_id = ? ORDER BY id",
                        (message_id, agent)).fetchall()
    return [int(row[0]) for row in rows]


def _add_delivery(session: Session, entry: DeliveryEntry) -> int:
    """A new queued delivery of the stored message ``entry.message.id`` to ``entry.agent`` (a second
    agent of a message sent to two, or the captain sending it again)."""
    now = now_db()
    priority = str(entry.message.priority)
    with immediate(session.store.connection()) as conn:
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
    known = ledger.record(entry.delivery, entry.message.id, entry.agent)  # first: the delivery's events find it
    if known.local_delivery is not None:
        return known.local_delivery, False  # the same captain delivery again
    owned = ledger.mapped_locals(entry.message.id, entry.agent)
    unowned = [d for d in _local_deliveries(store.connection(), entry.message.id, entry.agent) if d not in owned]
    if unowned:  # queued before a crash kept its id from being written: it is this one
        ledger.set_local(entry.delivery, unowned[0])
        return unowned[0], False
    message = entry.message.model_copy(update={"recipients": [entry.agent]})
    try:
        local = store.enqueue(message, [(entry.agent, _transport(session, entry.agent))])[0]
    except StoreError:
        if store.connection().execute("SELECT 1 FROM messages WHERE id = ?", (entry.message.id,)).fetchone() is None:
            raise
        local = _add_delivery(session, entry)
    ledger.set_local(entry.delivery, local)
    if session.dispatcher.stopped:
        try:
            store.mark_cancelled(local, STOPPED)
        except StoreError:
            pass  # claimed meanwhile by another process on this outbox: it reports its own outcome
    else:
        session.dispatcher.notify()
    return local, True
