"""Stopping: cancelling the queue, and the stop-all and resume-all generations every process sees.

A stop-all is recorded in the ``control`` row: ``request_stop`` raises the stop generation by one
and cancels every queued delivery (and every one waiting for its agent to be idle) in the
caller's write transaction, so a process that sees the
new generation also finds the queue already cancelled. ``request_resume`` raises the resume
generation. Processes that deliver compare the generations with the ones they last saw
(``quarterdeck.core.dispatch.stopwatch``): a moved stop generation halts them, a moved resume one lifts that.
"""
from __future__ import annotations

import sqlite3

from quarterdeck.core.store.rows import StopMark, from_db_time, now_db

CANCELLED = "cancelled"
STOPPED = "stopped: stop all"


def cancel_queued(conn: sqlite3.Connection, agent_id: str | None = None, reason: str = CANCELLED) -> int:
    """``queued`` or ``waiting`` -> ``cancelled`` (of one agent, or of all); return how many."""
    now = now_db()
    where = "state IN ('queued', 'waiting')" + (" AND agent_id = ?" if agent_id is not None else "")
    params = (reason, now, now) + ((agent_id,) if agent_id is not None else ())
    cur = conn.execute(
        f"UPDATE deliveries SET state = 'cancelled', reason = ?, updated_at = ?, finished_at = ? WHERE {where}",
        params,
    )
    return cur.rowcount


def request_stop(conn: sqlite3.Connection) -> StopMark:
    """Cancel the queue and raise the stop generation; call inside a write transaction."""
    cancelled = cancel_queued(conn, reason=STOPPED)
    conn.execute(
        "UPDATE control SET stop_generation = stop_generation + 1, stop_cancelled = ?, stopped_at = ? "
        "WHERE id = 1",
        (cancelled, now_db()),
    )
    return stop_mark(conn)


def request_resume(conn: sqlite3.Connection) -> StopMark:
    """Raise the resume generation; call inside a write transaction."""
    conn.execute("UPDATE control SET resume_generation = resume_generation + 1, resumed_after = stop_generation, "
                 "resumed_at = ? WHERE id = 1", (now_db(),))
    return stop_mark(conn)


def stop_mark(conn: sqlite3.Connection) -> StopMark:
    """The latest stop-all and resume-all; one short read (no transaction is left open)."""
    rows = conn.execute("SELECT stop_generation, stop_cancelled, stopped_at, resume_generation, resumed_after, "
                        "resumed_at FROM control WHERE id = 1").fetchall()
    if not rows:
        return StopMark(0)
    generation, cancelled, at, resumed, after, resumed_at = rows[0]
    return StopMark(int(generation), int(cancelled), from_db_time(at), int(resumed), int(after),
                    from_db_time(resumed_at))


def outbox_id(conn: sqlite3.Connection) -> str:
    """The file's own id (random, given when the file was made or moved to schema 7; "" without one)."""
    row = conn.execute("SELECT outbox_id FROM control WHERE id = 1").fetchone()
    return "" if row is None or row[0] is None else str(row[0])
