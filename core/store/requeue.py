"""Re-queue what the last Stop all cancelled, so a stop in a hurry costs no message.

Stop all cancels every queued delivery (``quarterdeck.core.store.control.request_stop``, reason
``stopped: stop all``) in one write transaction and records when. The deliveries that stop
cancelled are the ones with that reason, finished in that transaction, never claimed
(``started_at`` is empty: a delivery handed back to the queue by a GUI pause has it cleared too),
so none of them was ever typed. One that waited for its agent to be idle waits again, as long as
it was allowed to the first time. A delivery that was being typed when the stop came is cancelled
by its own process with another reason and is never re-queued here: it may have arrived.

``requeue_stopped`` queues one fresh delivery per such row (``retry_of`` = the cancelled one, the
old row stays as history), skipping rows re-queued before, in one write transaction: pressing
Re-queue twice, or in two processes at once, queues each message once. ``stopped_pending`` counts
what it would re-queue, for the panel to offer it.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from quarterdeck.core.store.control import STOPPED, stop_mark
from quarterdeck.core.store.db import immediate, inserted_id
from quarterdeck.core.store.rows import now_db, to_db_time
from quarterdeck.core.store.waiting import AGAIN

# the cancel and the stop mark are written in one transaction, a few milliseconds apart at most
_SAME_STOP = 5.0

_CANDIDATES = (
    "SELECT d.id, d.agent_id FROM deliveries d WHERE d.state = 'cancelled' AND d.reason = ? "
    "AND d.started_at IS NULL AND d.finished_at BETWEEN ? AND ? "
    "AND NOT EXISTS (SELECT 1 FROM deliveries r WHERE r.retry_of = d.id) ORDER BY d.prio, d.id"
)


@dataclass(frozen=True)
class Requeued:
    """What re-queueing the last stop's deliveries did."""

    stop: int  # which stop-all (its generation; 0: there was none)
    ids: tuple[int, ...] = ()  # the new queued deliveries
    agents: tuple[str, ...] = ()  # who they go to, in queue order

    def summary(self) -> str:
        if not self.stop:
            return "Nothing to re-queue: no Stop all was recorded."
        if not self.ids:
            return "Nothing to re-queue: the last Stop all cancelled nothing that is not queued again."
        who = sorted(set(self.agents))
        shown = ", ".join(who[:4]) + (f" +{len(who) - 4} more" if len(who) > 4 else "")
        return f"{len(self.ids)} cancelled deliver{'y' if len(self.ids) == 1 else 'ies'} queued again ({shown})."


def _window(conn: sqlite3.Connection) -> tuple[int, float, float] | None:
    mark = stop_mark(conn)
    if not mark.generation or mark.at is None:
        return None
    at = to_db_time(mark.at)
    return mark.generation, at - _SAME_STOP, at


def stopped_pending(conn: sqlite3.Connection) -> int:
    """How many deliveries the last stop-all cancelled that are not queued again yet."""
    window = _window(conn)
    if window is None:
        return 0
    return len(conn.execute(_CANDIDATES, (STOPPED, window[1], window[2])).fetchall())


def requeue_stopped(conn: sqlite3.Connection) -> Requeued:
    """Queue again every delivery the last stop-all cancelled (see the module docstring)."""
    with immediate(conn):
        window = _window(conn)
        if window is None:
            return Requeued(0)
        generation, start, end = window
        rows = conn.execute(_CANDIDATES, (STOPPED, start, end)).fetchall()
        now = now_db()
        ids, agents = [], []
        for row in rows:
            cur = conn.execute(
                "INSERT INTO deliveries (message_id, agent_id, transport, priority, prio, state, when_idle, "
                "expires_at, retry_of, created_at, updated_at) SELECT message_id, agent_id, "
                f"transport, priority, prio, {AGAIN}, id, ?, ? FROM deliveries WHERE id = ?",
                (now, now, now, row["id"]),
            )
            ids.append(inserted_id(cur))
            agents.append(str(row["agent_id"]))
    return Requeued(generation, tuple(ids), tuple(agents))
