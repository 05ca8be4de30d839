"""The queue: recording a message's deliveries, and which process takes which one, and when.

A queued delivery's ``claimed_by`` holds the lease token of the process that queued it: the
process it is kept for. A worker
that serves everyone (the panel, ``quarterdeck serve``) claims any queued delivery; a command
that sends its own message (``quarterdeck send``, ``onboard``) claims only its own, plus orphans:
deliveries whose queuing process no longer runs, or kept for nobody (queued before this
rule, handed back by a GUI pause or by recovery). Once claimed, ``claimed_by`` names the claimer. So two commands on one
outbox never type each other's messages, yet nothing a dead process queued is left behind.

A claim marks a delivery ``sending`` under the write lock, so no two processes take the same row,
and skips agents with a delivery already ``sending`` (one in flight per agent keeps each agent's
messages in order). A claim may leave ``started_at`` empty until typing really begins
(:func:`mark_started`): a delivery whose process died before that is queued again by recovery,
because nothing of it was typed.

Functions take a connection; those that write run inside the caller's write transaction.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quarterdeck.core.store import owner
from quarterdeck.core.store.db import immediate, inserted_id
from quarterdeck.core.store.rows import StoreError, now_db, to_db_time

if TYPE_CHECKING:
    from quarterdeck.core.store.outbox import Store

Queued = tuple[Any, Sequence[tuple[str, str]], str | None, float | None]  # message, recipients, redacted text, expiry


_JSON = json.JSONEncoder(ensure_ascii=False).encode  # as json.dumps(..., ensure_ascii=False), built once
_INSERT_MESSAGE = ("INSERT INTO messages (id, sender, sender_kind, type, priority, tags, recipients, content, "
                   "redacted, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_INSERT_DELIVERY = ("INSERT INTO deliveries (message_id, agent_id, transport, priority, prio, state, claimed_by, "
                    "created_at, updated_at, when_idle, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
Stored = tuple[Any, Sequence[str], str, bool]  # message, its recipients' ids, the text to store, redacted


def priority_rank(priority: str) -> int:
    """Claim order: urgent first, then everything else."""
    return 0 if priority == "urgent" else 1


def enqueue(conn: sqlite3.Connection, token: str, message: Any, recipients: Sequence[tuple[str, str]],
            content: str, redacted: bool, expires_at: float | None = None) -> list[int]:
    """Insert the message and one ``queued`` delivery per ``(agent_id, transport)``; with
    ``expires_at`` each one is ``waiting`` for its agent to be idle until then (``when_idle``)."""
    return _enqueue(conn, token, [(message, recipients, content, redacted, expires_at)])[0]


def _enqueue(conn: sqlite3.Connection, token: str,
             batch: Sequence[tuple[Any, Sequence[tuple[str, str]], str, bool, float | None]]) -> list[list[int]]:
    """:func:`enqueue` for each of ``batch`` (message, recipients, text to store, redacted, expiry): one
    statement for the messages, one for the deliveries; per message its delivery ids."""
    _store_messages(conn, [(message, [agent for agent, _ in recipients], content, redacted)
                           for message, recipients, content, redacted, _ in batch])
    now = now_db()
    rows = []
    for message, recipients, _, _, expires_at in batch:
        mid, priority = str(message.id), str(message.priority)
        state, idle = ("queued", 0) if expires_at is None else ("waiting", 1)
        rows += [(mid, agent, transport, priority, priority_rank(priority), state, token, now, now, idle, expires_at)
                 for agent, transport in recipients]
    ids = iter(_insert_deliveries(conn, rows))
    return [[next(ids) for _ in recipients] for _, recipients, _, _, _ in batch]


def _store_messages(conn: sqlite3.Connection, batch: Sequence[Stored]) -> None:
    """INSERT the messages of ``batch``; one whose id is stored already (or twice in ``batch``) is refused
    by name (:class:`StoreError`), before anything is written."""
    given = [str(message.id) for message, _, _, _ in batch]
    stored = {str(row[0]) for row in conn.execute(
        "SELECT id FROM messages WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(given),)).fetchall()}
    seen: set[str] = set()
    for mid in given:
        if mid in stored or mid in seen:
            raise StoreError(f"message {mid!r} is already stored")
        seen.add(mid)
    conn.executemany(_INSERT_MESSAGE, [
        (str(message.id), str(message.sender), str(message.sender_kind), str(message.type), str(message.priority),
         _JSON([str(tag) for tag in message.tags]), _JSON(list(agents)), content, int(redacted),
         to_db_time(message.created_at)) for message, agents, content, redacted in batch])


def _insert_deliveries(conn: sqlite3.Connection, rows: Sequence[tuple[object, ...]]) -> list[int]:
    """INSERT ``rows`` (``_INSERT_DELIVERY``'s parameters) in order; their ids, in the same order. Inside
    the caller's write transaction, the ids of rows inserted after the largest one before are
    this statement's (``AUTOINCREMENT`` ids only grow), in the order they were inserted."""
    if len(rows) == 1:
        return [inserted_id(conn.execute(_INSERT_DELIVERY, rows[0]))]
    before = conn.execute("SELECT coalesce(max(id), 0) FROM deliveries").fetchone()[0]
    conn.executemany(_INSERT_DELIVERY, rows)
    ids = [int(row[0]) for row in conn.execute("SELECT id FROM deliveries WHERE id > ? ORDER BY id",
                                               (before,)).fetchall()]
    if len(ids) != len(rows):
        raise StoreError(f"{len(rows)} deliveries were inserted but {len(ids)} new rows were found")
    return ids


def enqueue_each(store: Store, batch: Sequence[Queued]) -> list[list[int]]:
    """Many messages as :meth:`Store.enqueue` records one, in ONE write transaction (one fsync): per
    ``(message, recipients, content to store or None, expires_at)`` its delivery ids. All or nothing:
    a message that cannot be stored (its id is stored already) rolls the whole batch back."""
    for message, recipients, _, _ in batch:
        agents = [agent for agent, _ in recipients]
        if not agents or len(set(agents)) != len(agents):
            raise ValueError(f"message {message.id}: a message needs distinct recipients, not {agents}")
    if not batch:
        return []
    with immediate(store.connection()) as conn:
        return _enqueue(conn, store._lease.token, [
            (message, recipients, message.content if stored is None else stored, stored is not None, expires_at)
            for message, recipients, stored, expires_at in batch])


def enqueue_many(conn: sqlite3.Connection, token: str, batch: Sequence[tuple[Any, str, str]]) -> list[int]:
    """One ``queued`` delivery per ``(message, agent_id, transport)``, in order; the first of a message
    not stored yet stores it, a later one adds its agent to the stored message's recipients (a
    message sent to two agents, or sent again)."""
    if not batch:
        return []
    given = json.dumps(sorted({str(message.id) for message, _, _ in batch}))
    stored = {str(row[0]) for row in conn.execute(
        "SELECT id FROM messages WHERE id IN (SELECT value FROM json_each(?))", (given,)).fetchall()}
    new: dict[str, Stored] = {}
    added = []  # (agent, message id, agent): a recipient added to a message stored before it
    for message, agent, _ in batch:
        mid = str(message.id)
        if mid in stored:
            added.append((agent, mid, agent))
        else:
            stored.add(mid)
            new[mid] = (message, [agent], message.content, False)
    if new:
        _store_messages(conn, list(new.values()))
    if added:
        conn.executemany("UPDATE messages SET recipients = json_insert(recipients, '$[#]', ?) WHERE id = ? "
                         "AND NOT EXISTS (SELECT 1 FROM json_each(recipients) WHERE value = ?)", added)
    now = now_db()
    return _insert_deliveries(conn, [
        (str(message.id), agent, transport, str(message.priority), priority_rank(str(message.priority)), "queued",
         token, now, now, 0, None) for message, agent, transport in batch])


def _scope(conn: sqlite3.Connection, db_path: Path, token: str, own_only: bool) -> tuple[str, list[str]]:
    """The SQL condition (and its parameters) for the deliveries this process may claim."""
    if not own_only:
        return "", []
    queuers = {row[0] for row in conn.execute(
        "SELECT DISTINCT claimed_by FROM deliveries WHERE state = 'queued' AND claimed_by IS NOT NULL")}
    mine = [token, *sorted(q for q in queuers if q != token and not owner.is_alive(db_path, q))]
    return f"AND (claimed_by IS NULL OR claimed_by IN ({', '.join('?' * len(mine))}))", mine


def next_claimable(conn: sqlite3.Connection, db_path: Path, token: str, exclude: Iterable[str],
                   own_only: bool) -> sqlite3.Row | None:
    """The queued delivery a claim would take now (``id``, ``agent_id``), or None."""
    excluded = sorted(set(exclude))
    skip = f"AND agent_id NOT IN ({', '.join('?' * len(excluded))})" if excluded else ""
    scope, params = _scope(conn, db_path, token, own_only)
    row: sqlite3.Row | None = conn.execute(
        f"SELECT id, agent_id FROM deliveries WHERE state = 'queued' {skip} {scope} "
        "AND agent_id NOT IN (SELECT agent_id FROM deliveries WHERE state = 'sending') "
        "ORDER BY prio, id LIMIT 1",
        [*excluded, *params],
    ).fetchone()
    return row


def claim(conn: sqlite3.Connection, delivery_id: int, token: str, *, started: bool) -> None:
    """``queued`` -> ``sending`` for this process; ``started``: typing begins at once."""
    now = now_db()
    conn.execute(
        "UPDATE deliveries SET state = 'sending', claimed_by = ?, started_at = ?, updated_at = ? "
        "WHERE id = ? AND state = 'queued'",
        (token, now if started else None, now, delivery_id),
    )


def mark_started(conn: sqlite3.Connection, delivery_id: int) -> bool:
    """Typing begins: record when (once). False when the delivery is not ``sending``."""
    now = now_db()
    cur = conn.execute(
        "UPDATE deliveries SET started_at = coalesce(started_at, ?), updated_at = ? "
        "WHERE id = ? AND state = 'sending'", (now, now, delivery_id))
    return cur.rowcount == 1


def release_unstarted(conn: sqlite3.Connection, delivery_ids: Iterable[int]) -> list[int]:
    """Hand claimed deliveries whose typing never began back to the queue; return those released."""
    released = []
    now = now_db()
    for delivery_id in delivery_ids:
        cur = conn.execute(
            "UPDATE deliveries SET state = 'queued', claimed_by = NULL, updated_at = ? "
            "WHERE id = ? AND state = 'sending' AND started_at IS NULL", (now, delivery_id))
        if cur.rowcount:
            released.append(delivery_id)
    return released


def states_of(conn: sqlite3.Connection, delivery_ids: Iterable[int]) -> dict[int, str]:
    """Each delivery's current state (one short read)."""
    ids = list(delivery_ids)
    rows = conn.execute("SELECT id, state FROM deliveries WHERE id IN (SELECT value FROM json_each(?))",
                        (json.dumps(ids),)).fetchall()
    return {int(row[0]): str(row[1]) for row in rows}
