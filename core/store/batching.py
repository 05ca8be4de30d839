"""Deliveries worked in batches by one process (issue 14: a relay's inbox agents): claimed in one
transaction, their outcomes recorded in one.

- :func:`claim` takes up to ``limit`` queued deliveries of some agents, in claim order (urgent first,
  then oldest: each agent's messages in order), skipping agents with a delivery ``sending``. They
  become ``sending`` and started (a durable commit: the files are written right after, so a crash
  from here on leaves them ``uncertain`` on recovery, never queued again). With ``durable=False``
  the commit is not flushed by itself: the caller flushes the outbox's files (:func:`files`)
  with its own before anything of the batch can be seen. A delivery sent "when
  idle" is taken only as its agent's first in the batch, ends that agent's run, and is left
  unstarted: the caller asks the idle gate before it starts it (:func:`start`).
- :func:`finish` records every outcome and its attempt in one durable transaction; ``queued`` hands
  a delivery back (nothing of it was written: a retry later, or the rest of an agent whose file
  failed).
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from quarterdeck.core.store import queueing
from quarterdeck.core.store.db import immediate
from quarterdeck.core.store.mapping import TASK_SELECT, task_from_row
from quarterdeck.core.store.rows import DeliveryTask, now_db

if TYPE_CHECKING:
    from quarterdeck.core.store.outbox import Store

__all__ = ["Claimed", "Claims", "Done", "claim", "files", "finish", "peek", "start"]


@dataclass(frozen=True)
class Claimed:
    task: DeliveryTask
    attempts: int  # tries made before this claim (a retry's)
    when_idle: bool  # left unstarted: the idle gate decides first


class Claims(list[Claimed]):
    """The deliveries a claim took, in order; ``more``: whether more may be claimable at once (its read
    filled ``limit``, or passed over some of an agent whose run in the batch ended)."""

    more = False


@dataclass(frozen=True)
class Done:
    """How delivery ``delivery`` ended: ``state`` delivered | failed | uncertain | queued (back to the
    queue, untyped); ``attempt`` (> 0) is logged as try number ``attempt`` from ``began`` to ``ended``."""

    delivery: int
    state: str
    reason: str | None = None
    verdict: str | None = None
    evidence: str | None = None
    latency_ms: float | None = None
    attempt: int = 0
    began: float = 0.0
    ended: float = 0.0
    error: str | None = None


def claim(store: Store, agents: Iterable[str], *, own_only: bool, limit: int, durable: bool = True) -> Claims:
    """Claim up to ``limit`` queued deliveries to ``agents`` (see the module docstring)."""
    names = json.dumps(sorted(set(agents)))
    conn = store.connection()
    if limit <= 0 or conn.execute("SELECT 1 FROM deliveries WHERE state = 'queued' AND agent_id IN "
                                  "(SELECT value FROM json_each(?)) LIMIT 1", (names,)).fetchone() is None:
        return Claims()  # a read, not the write lock, while there is nothing to do
    token = store._lease.token
    with immediate(conn, durable=durable) as conn:
        scope, params = queueing._scope(conn, store.path, token, own_only)
        rows = conn.execute(
            f"SELECT id, agent_id, when_idle, attempts FROM deliveries WHERE state = 'queued' AND agent_id IN "
            f"(SELECT value FROM json_each(?)) {scope} AND agent_id NOT IN "
            f"(SELECT agent_id FROM deliveries WHERE state = 'sending') ORDER BY prio, id LIMIT ?",
            [names, *params, limit]).fetchall()
        chosen: dict[int, tuple[int, bool]] = {}  # delivery -> (attempts, when idle)
        seen: set[str] = set()
        ended: set[str] = set()  # agents whose run in this batch is over
        for row in rows:
            agent, idle = str(row["agent_id"]), bool(row["when_idle"])
            if agent in ended or (idle and agent in seen):
                ended.add(agent)
                continue
            seen.add(agent)
            if idle:
                ended.add(agent)
            chosen[int(row["id"])] = (int(row["attempts"]), idle)
        if not chosen:
            return Claims()
        now = now_db()
        conn.executemany(
            "UPDATE deliveries SET state = 'sending', claimed_by = ?, started_at = ?, updated_at = ?, reason = NULL "
            "WHERE id = ? AND state = 'queued'",
            [(token, None if idle else now, now, delivery) for delivery, (_, idle) in chosen.items()])
        tasks = conn.execute(f"{TASK_SELECT} WHERE d.id IN (SELECT value FROM json_each(?)) ORDER BY d.prio, d.id",
                             (json.dumps(list(chosen)),)).fetchall()
    claims = Claims(Claimed(task_from_row(t), *chosen[int(t["delivery_id"])]) for t in tasks)
    claims.more = len(rows) >= limit or len(chosen) < len(rows)
    return claims


def files(store: Store) -> list[str]:
    """What to flush to make every commit so far durable: the outbox's write-ahead log, where a commit
    is (SQLite flushes the database file itself when it checkpoints). Never the database file: closing
    any descriptor of it releases every POSIX lock this process holds on it, SQLite's own among them,
    and the next process to open and close the file would take itself for its last user and delete
    the log and its index from under this one."""
    log = f"{store.path}-wal"
    return [log] if os.path.exists(log) else []


def start(store: Store, delivery: int) -> bool:
    """Typing (the file) of a when-idle delivery begins; False when it is no longer ``sending``."""
    with immediate(store.connection()) as conn:
        return queueing.mark_started(conn, delivery)


def finish(store: Store, done: Sequence[Done]) -> set[int]:
    """Record ``done`` in one transaction; returns the deliveries changed (still ``sending`` until now).
    A few statements for the whole batch: the attempts, which deliveries are still ``sending``, then
    the outcomes of those (a delivery twice in ``done``: one by one, in order)."""
    if not done:
        return set()
    if len({d.delivery for d in done}) < len(done):
        return _finish_each(store, done)
    with immediate(store.connection()) as conn:
        now = now_db()
        attempts = [d for d in done if d.attempt]
        if attempts:
            conn.executemany(_ATTEMPT, [_attempt_row(d) for d in attempts])
        changed = {int(row[0]) for row in conn.execute(
            "SELECT id FROM deliveries WHERE id IN (SELECT value FROM json_each(?)) AND state = 'sending'",
            (json.dumps([d.delivery for d in done]),)).fetchall()}
        back = [(d.reason, d.attempt, now, d.delivery) for d in done if d.delivery in changed and d.state == "queued"]
        ended = [(d.state, d.reason, d.verdict, d.evidence, d.latency_ms, d.attempt, now, now, d.delivery)
                 for d in done if d.delivery in changed and d.state != "queued"]
        if back:
            conn.executemany(_BACK, back)
        if ended:
            conn.executemany(_ENDED, ended)
    return changed


_ATTEMPT = ("INSERT OR IGNORE INTO attempts (delivery_id, n, started_at, finished_at, ok, error) "
            "VALUES (?, ?, ?, ?, ?, ?)")
_BACK = ("UPDATE deliveries SET state = 'queued', started_at = NULL, reason = ?, attempts = max(attempts, ?), "
         "updated_at = ? WHERE id = ? AND state = 'sending'")
_ENDED = ("UPDATE deliveries SET state = ?, reason = ?, verdict = ?, evidence = ?, latency_ms = ?, "
          "attempts = max(attempts, ?), updated_at = ?, finished_at = ? WHERE id = ? AND state = 'sending'")


def _attempt_row(d: Done) -> tuple[object, ...]:
    return d.delivery, d.attempt, d.began, d.ended, int(d.error is None), d.error


def _finish_each(store: Store, done: Sequence[Done]) -> set[int]:
    """``finish``, one outcome at a time (a delivery's later outcome in ``done`` finds the earlier recorded)."""
    changed: set[int] = set()
    with immediate(store.connection()) as conn:
        now = now_db()
        for d in done:
            if d.attempt:
                conn.execute(_ATTEMPT, _attempt_row(d))
            if d.state == "queued":
                cur = conn.execute(_BACK, (d.reason, d.attempt, now, d.delivery))
            else:
                cur = conn.execute(_ENDED, (d.state, d.reason, d.verdict, d.evidence, d.latency_ms, d.attempt, now,
                                            now, d.delivery))
            if cur.rowcount:
                changed.add(d.delivery)
    return changed


def peek(store: Store, agents: Iterable[str], *, own_only: bool) -> str | None:
    """The agent whose delivery :func:`claim` would take first now, or None; claims nothing."""
    conn = store.connection()
    scope, params = queueing._scope(conn, store.path, store._lease.token, own_only)
    row = conn.execute(
        f"SELECT agent_id FROM deliveries WHERE state = 'queued' AND agent_id IN (SELECT value FROM json_each(?)) "
        f"{scope} AND agent_id NOT IN (SELECT agent_id FROM deliveries WHERE state = 'sending') ORDER BY prio, id "
        "LIMIT 1", [json.dumps(sorted(set(agents))), *params]).fetchone()
    return None if row is None else str(row[0])
