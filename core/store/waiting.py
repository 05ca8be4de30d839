"""Deliveries that wait for their agent to be free (``when_idle``): the rows and their moves.

A message sent "when idle" is stored with one ``waiting`` delivery per recipient (``when_idle`` =
1, ``expires_at`` = when it stops waiting; :meth:`Store.enqueue` with ``expires_at``). Whoever
runs a dispatcher looks at them every cycle (:mod:`quarterdeck.core.dispatch.idle_gate`):

    waiting -> queued    its agent is idle: it joins the queue where its priority and age put it
    waiting -> expired   ``expires_at`` passed first (final; the reason says what the agent did)
    waiting -> cancelled stop-all, or a cancel (:func:`quarterdeck.core.store.control.cancel_queued`)
    sending -> waiting   claimed, but the agent was busy again right before typing: nothing was
                         typed, so it is neither an attempt nor a failure

Every move is one ``UPDATE ... WHERE state = ...`` under the write lock, so two processes on the
same file moving the same row do it once.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from quarterdeck.core.store.db import immediate
from quarterdeck.core.store.rows import now_db

# the state and columns of a fresh row copying a delivery (a retry, a re-queue after stop-all): one
# sent "when idle" waits again, as long as it was allowed to the first time (binds one ``now``)
AGAIN = ("CASE when_idle WHEN 1 THEN 'waiting' ELSE 'queued' END, when_idle, "
         "CASE when_idle WHEN 1 THEN ? + (expires_at - created_at) END")

if TYPE_CHECKING:
    from quarterdeck.core.store.outbox import Store


@dataclass(frozen=True)
class Waiting:
    """One delivery waiting for its agent; times in epoch seconds."""

    delivery_id: int
    message_id: str
    agent_id: str
    reason: str | None
    created_at: float
    expires_at: float | None

    @property
    def ttl(self) -> float | None:
        """How long it was allowed to wait, in seconds."""
        return None if self.expires_at is None else self.expires_at - self.created_at


def waiting(store: Store) -> list[Waiting]:
    """Every waiting delivery, in claim order (urgent first, then oldest)."""
    rows = store.connection().execute(
        "SELECT id, message_id, agent_id, reason, created_at, expires_at FROM deliveries "
        "WHERE state = 'waiting' ORDER BY prio, id").fetchall()
    return [Waiting(int(r[0]), str(r[1]), str(r[2]), r[3], float(r[4]), r[5]) for r in rows]


def is_when_idle(store: Store, delivery_id: int) -> bool:
    """True when the delivery was sent to wait for its agent to be idle."""
    row = store.connection().execute("SELECT when_idle FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
    return bool(row and row[0])


def last_delivered(store: Store, agent_id: str) -> float | None:
    """When the latest delivery to ``agent_id`` was typed and submitted (epoch seconds), if ever."""
    row = store.connection().execute(
        "SELECT max(finished_at) FROM deliveries WHERE agent_id = ? AND state = 'delivered'", (agent_id,)).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def queue(store: Store, delivery_ids: Iterable[int]) -> list[int]:
    """``waiting`` -> ``queued``; the ids that moved (another process may have moved the rest)."""
    moved = []
    conn = store.connection()
    with immediate(conn):
        now = now_db()
        for delivery_id in delivery_ids:
            cur = conn.execute("UPDATE deliveries SET state = 'queued', reason = NULL, updated_at = ? "
                               "WHERE id = ? AND state = 'waiting'", (now, delivery_id))
            if cur.rowcount:
                moved.append(delivery_id)
    return moved


def expire(store: Store, delivery_id: int, reason: str) -> bool:
    """``waiting`` -> ``expired`` (final) with ``reason``; False when it was no longer waiting."""
    conn = store.connection()
    with immediate(conn):
        now = now_db()
        cur = conn.execute("UPDATE deliveries SET state = 'expired', reason = ?, updated_at = ?, finished_at = ? "
                           "WHERE id = ? AND state = 'waiting'", (reason, now, now, delivery_id))
    return cur.rowcount == 1


def note(store: Store, delivery_id: int, reason: str) -> bool:
    """Say why a waiting delivery still waits; False when that was said already (nothing written)."""
    conn = store.connection()
    with immediate(conn):
        cur = conn.execute("UPDATE deliveries SET reason = ?, updated_at = ? WHERE id = ? AND state = 'waiting' "
                           "AND reason IS NOT ?", (reason, now_db(), delivery_id, reason))
    return cur.rowcount == 1


def put_back(store: Store, delivery_id: int, reason: str) -> bool:
    """A claimed delivery whose typing never began waits again (``sending`` -> ``waiting``)."""
    conn = store.connection()
    with immediate(conn):
        cur = conn.execute("UPDATE deliveries SET state = 'waiting', reason = ?, started_at = NULL, updated_at = ? "
                           "WHERE id = ? AND state = 'sending' AND started_at IS NULL",
                           (reason, now_db(), delivery_id))
    return cur.rowcount == 1
