"""The durable outbox: every message and every delivery state change, committed before it matters.

Life of a delivery::

    queued -> sending -> delivered(verdict) | failed(reason, verdict) | cancelled
    queued -> cancelled;  sending -> uncertain  (the text may have arrived: a pane gone after the paste,
                                             or, by recover(), its process died mid-delivery)
    waiting -> queued (its agent is idle) | expired | cancelled   (see quarterdeck.core.store.waiting)

``uncertain``, like ``failed``, is final; only :meth:`Store.requeue` sends again, as a new row
pointing back through ``retry_of``: nothing is resent silently.

Claiming takes the write lock (``BEGIN IMMEDIATE``), so two processes never claim the same row,
and it skips agents that already have a delivery ``sending``: one delivery in flight per agent,
across processes, keeps each agent's messages in order. Who may claim what, and when typing
counts as begun, is :mod:`quarterdeck.core.store.queueing`.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from quarterdeck.core.store import control, owner, queueing, recovery
from quarterdeck.core.store.db import ThreadConnections, immediate
from quarterdeck.core.store.mapping import DELIVERY_COLUMNS, TASK_SELECT, delivery_from_row, task_from_row
from quarterdeck.core.store.queueing import priority_rank  # noqa: F401  (the claim order, for callers)
from quarterdeck.core.store.rows import (
    DeliveryRow,
    DeliveryTask,
    InvalidTransition,
    State,
    StopMark,
    StoreError,
    UnknownDelivery,
    now_db,
    to_db_time,
)
from quarterdeck.core.store.schema import migrate

_SOURCES: dict[State, tuple[State, ...]] = {
    State.DELIVERED: (State.SENDING,),
    State.FAILED: (State.SENDING,),
    State.CANCELLED: (State.QUEUED, State.SENDING, State.WAITING),
    State.UNCERTAIN: (State.SENDING,),
}


class Store:
    """The outbox and history in ``path``. Threads share one Store; every process opens its own
    (on the same file, if it likes). ``search=False``: a delivery queue (a relay's outbox), which
    builds no search index nor history listings' indexes (:mod:`quarterdeck.core.store.schema`)."""

    def __init__(self, path: Path, *, search: bool = True) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conns = ThreadConnections(self.path)
        try:
            migrate(self._conns.get(), search=search)
            self._lease = owner.Lease(self.path)
        except BaseException:
            self._conns.close_all()
            raise

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (autocommit, ``sqlite3.Row`` rows). For reads."""
        return self._conns.get()

    def close(self) -> None:
        """Close every connection and give up the lease; deliveries left ``sending`` become recoverable."""
        self._conns.close_all()
        self._lease.release()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def enqueue(
        self,
        message: Any,
        recipients: Sequence[tuple[str, str]],
        *,
        content_to_store: str | None = None,
        redacted: bool = False,
        expires_at: float | None = None,
    ) -> list[int]:
        """Record ``message`` and one ``queued`` delivery per ``(agent_id, transport)``, atomically.

        ``content_to_store`` replaces ``message.content`` in the file (the redacted form when a
        secret rule fired); ``redacted=True`` demands it, so a raw secret is never stored by mistake.
        ``expires_at`` (epoch seconds): the deliveries wait for their agent to be idle until then.
        """
        if not recipients:
            raise ValueError("a message needs at least one recipient")
        agents = [agent for agent, _ in recipients]
        if len(set(agents)) != len(agents):
            raise ValueError(f"a recipient appears twice: {agents}")
        if redacted and content_to_store is None:
            raise ValueError("redacted=True needs the redacted text in content_to_store")
        content = message.content if content_to_store is None else content_to_store
        with immediate(self._conns.get()) as conn:
            return queueing.enqueue(conn, self._lease.token, message, recipients, content, redacted, expires_at)

    def enqueue_many(self, batch: Sequence[tuple[Any, str, str]]) -> list[int]:
        """A queued delivery per ``(message, agent_id, transport)`` in one transaction (a relay's intake);
        a message stored already gets the delivery added (``queueing.enqueue_many``)."""
        with immediate(self._conns.get()) as conn:
            return queueing.enqueue_many(conn, self._lease.token, batch)

    def claim_next(self, *, exclude_agents: Iterable[str] = frozenset(), own_only: bool = False,
                   started: bool = True) -> DeliveryTask | None:
        """Mark the next queued delivery ``sending`` and return it; None when nothing is claimable.

        Order: urgent before normal, then oldest first. Agents in ``exclude_agents`` and agents
        with a delivery already ``sending`` are skipped. ``own_only``: only deliveries this Store
        queued, or orphans (see :mod:`quarterdeck.core.store.queueing`). ``started=False`` leaves the start
        of typing to :meth:`mark_started`, so a crash before it queues the delivery again.
        """
        if self.peek_next(exclude_agents=exclude_agents, own_only=own_only) is None:
            return None  # a read, not a write lock, while there is nothing to do
        with immediate(self._conns.get(), durable=started) as conn:  # unstarted: mark_started persists it
            row = queueing.next_claimable(conn, self.path, self._lease.token, exclude_agents, own_only)
            if row is None:
                return None
            queueing.claim(conn, row["id"], self._lease.token, started=started)
            task = conn.execute(f"{TASK_SELECT} WHERE d.id = ?", (row["id"],)).fetchone()
        return task_from_row(task)

    def peek_next(self, *, exclude_agents: Iterable[str] = frozenset(), own_only: bool = False) -> str | None:
        """The agent whose delivery :meth:`claim_next` would take now, or None; claims nothing."""
        row = queueing.next_claimable(self._conns.get(), self.path, self._lease.token, exclude_agents, own_only)
        return None if row is None else str(row["agent_id"])

    def mark_started(self, delivery_id: int) -> None:
        """Typing into the agent begins now: from here a crash leaves the delivery ``uncertain``."""
        with immediate(self._conns.get()) as conn:
            if not queueing.mark_started(conn, delivery_id):
                raise self._refusal(conn, delivery_id, State.SENDING)

    def release_unstarted(self, delivery_ids: Iterable[int]) -> list[int]:
        """Give back claimed deliveries nothing was typed for (the process is ending); return them."""
        with immediate(self._conns.get()) as conn:
            return queueing.release_unstarted(conn, delivery_ids)

    def states_of(self, delivery_ids: Iterable[int]) -> dict[int, str]:
        """The current state of each delivery (those that exist), from whichever process works it."""
        return queueing.states_of(self._conns.get(), delivery_ids)

    def mark_delivered(self, delivery_id: int, latency_ms: float, *, final_text_hash: str | None = None,
                       verdict: str = "unverified", evidence: str | None = None) -> None:
        """Finished without error: ``submitted`` (with its evidence) or ``unverified`` (and why)."""
        if verdict not in ("submitted", "unverified"):
            raise ValueError(f"delivered means submitted or unverified, not {verdict!r}")
        self._move(delivery_id, State.DELIVERED, latency_ms=float(latency_ms), final_text_hash=final_text_hash,
                   verdict=verdict, evidence=evidence)

    def mark_failed(self, delivery_id: int, reason: str, *, verdict: str | None = None,
                    evidence: str | None = None) -> None:
        """Failed for ``reason``; ``verdict``: ``not_typed`` / ``typed_not_submitted`` when known."""
        if not reason or not reason.strip() or verdict not in (None, "not_typed", "typed_not_submitted"):
            raise ValueError(f"a failed delivery needs a reason, and a verdict not_typed, typed_not_submitted "
                             f"or none (got {reason!r}, {verdict!r})")
        self._move(delivery_id, State.FAILED, reason=reason, verdict=verdict, evidence=evidence)

    def mark_uncertain(self, delivery_id: int, reason: str, *, evidence: str | None = None) -> None:
        """The text may have reached the agent, but whether it did cannot be told: never ``failed``
        (a retry could send it twice); only :meth:`requeue`, by a person's choice, sends again."""
        self._move(delivery_id, State.UNCERTAIN, reason=reason, evidence=evidence)

    def release(self, delivery_id: int) -> None:
        """Hand a ``sending`` delivery back to the queue untried (GUI delivery paused)."""
        conn = self._conns.get()
        with immediate(conn):
            cur = conn.execute(
                "UPDATE deliveries SET state = 'queued', claimed_by = NULL, started_at = NULL, "
                "updated_at = ? WHERE id = ? AND state = 'sending'", (now_db(), delivery_id))
            if cur.rowcount == 0:
                raise self._refusal(conn, delivery_id, State.QUEUED)

    def mark_cancelled(self, delivery_id: int, reason: str = "cancelled") -> None:
        self._move(delivery_id, State.CANCELLED, reason=reason)

    def _move(self, delivery_id: int, target: State, **fields: object) -> None:
        sources = _SOURCES[target]
        now = now_db()
        assignments = "".join(f", {name} = ?" for name in fields)
        conn = self._conns.get()
        with immediate(conn):
            cur = conn.execute(
                f"UPDATE deliveries SET state = ?, updated_at = ?, finished_at = ?{assignments} "
                f"WHERE id = ? AND state IN ({', '.join('?' * len(sources))})",
                (target.value, now, now, *fields.values(), delivery_id, *sources),
            )
            if cur.rowcount == 0:
                raise self._refusal(conn, delivery_id, target)

    @staticmethod
    def _refusal(conn: sqlite3.Connection, delivery_id: int, target: State) -> StoreError:
        row = conn.execute("SELECT state FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
        if row is None:
            return UnknownDelivery(f"no delivery with id {delivery_id}")
        return InvalidTransition(delivery_id, row["state"], target.value)

    def record_attempt(
        self,
        delivery_id: int,
        n: int,
        ok: bool,
        error: str | None,
        started_at: datetime,
        finished_at: datetime,
    ) -> None:
        """Log try number ``n`` (from 1) of a delivery that is ``sending``."""
        conn = self._conns.get()
        with immediate(conn, durable=False):  # the outcome's commit, which always follows, persists it
            row = conn.execute("SELECT state FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
            if row is None:
                raise UnknownDelivery(f"no delivery with id {delivery_id}")
            if row["state"] != State.SENDING:
                raise StoreError(f"delivery {delivery_id} is {row['state']}; attempts are recorded while sending")
            try:
                conn.execute(
                    "INSERT INTO attempts (delivery_id, n, started_at, finished_at, ok, error) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (delivery_id, n, to_db_time(started_at), to_db_time(finished_at), int(ok), error),
                )
            except sqlite3.IntegrityError as exc:
                raise StoreError(f"attempt {n} of delivery {delivery_id} is invalid or already recorded") from exc
            conn.execute(
                "UPDATE deliveries SET attempts = max(attempts, ?), updated_at = ? WHERE id = ?",
                (n, now_db(), delivery_id),
            )

    def cancel_queued(self, agent_id: str | None = None, reason: str = control.CANCELLED) -> int:
        """Cancel every queued delivery (of one agent, or of all); return how many."""
        conn = self._conns.get()
        with immediate(conn):
            return control.cancel_queued(conn, agent_id, reason)

    def request_stop(self) -> StopMark:
        """Stop-all for every process on this file: cancel every queued delivery and raise the stop
        generation, in one transaction. Returns the new mark (generation, how many were cancelled)."""
        conn = self._conns.get()
        with immediate(conn):
            return control.request_stop(conn)

    def request_resume(self) -> StopMark:
        """Resume-all: every process on this file halted by a stop-all delivers again."""
        conn = self._conns.get()
        with immediate(conn):
            return control.request_resume(conn)

    def stop_mark(self) -> StopMark:
        """The latest stop-all recorded in the file (generation 0 when there was none)."""
        return control.stop_mark(self._conns.get())

    def requeue(self, delivery_ids: Iterable[int]) -> list[int]:
        """Queue a fresh delivery for each failed or uncertain one; return the new ids.

        Others (queued, sending, delivered, cancelled) and ones already requeued are skipped, so
        a repeated "retry failed" never sends twice. The old rows stay as history.
        """
        conn = self._conns.get()
        with immediate(conn):
            return recovery.requeue(conn, delivery_ids, self._lease.token)

    def recover(self) -> list[DeliveryRow]:
        """Turn deliveries left ``sending`` by processes that no longer run into ``uncertain``.

        Deliveries that a live process (this one included) is sending are left alone. Returns
        the rows just changed. Safe to call at any time, from any process.
        """
        conn = self._conns.get()
        with immediate(conn):
            return recovery.recover(conn, self.path)

    def delivery(self, delivery_id: int) -> DeliveryRow:
        sql = f"SELECT {DELIVERY_COLUMNS} FROM deliveries d WHERE d.id = ?"
        row = self._conns.get().execute(sql, (delivery_id,)).fetchone()
        if row is None:
            raise UnknownDelivery(f"no delivery with id {delivery_id}")
        return delivery_from_row(row)

    def pending_count(self) -> int:
        """Deliveries not finished yet: queued or sending."""
        row = self._conns.get().execute(
            "SELECT count(*) FROM deliveries WHERE state IN ('queued', 'sending')"
        ).fetchone()
        return int(row[0])

    def counts_by_state(self) -> dict[str, int]:
        """Every state, zero included."""
        counts = dict.fromkeys((state.value for state in State), 0)
        for row in self._conns.get().execute("SELECT state, count(*) AS n FROM deliveries GROUP BY state"):
            counts[row["state"]] = int(row["n"])
        return counts
