"""Getting deliveries moving again: flag interrupted ones ``uncertain`` (or queue them again when
their typing never began), queue retries of failed ones.

Both run inside the caller's write transaction.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from quarterdeck.core.store import owner
from quarterdeck.core.store.db import inserted_id
from quarterdeck.core.store.mapping import DELIVERY_COLUMNS, delivery_from_row
from quarterdeck.core.store.rows import RETRYABLE, DeliveryRow, UnknownDelivery, now_db
from quarterdeck.core.store.waiting import AGAIN

INTERRUPTED = "interrupted: the sending process ended before the outcome was recorded"


def recover(conn: sqlite3.Connection, db_path: Path) -> list[DeliveryRow]:
    """``sending`` -> ``uncertain`` for every delivery whose claiming process is gone after typing
    began; one it had claimed but not started typing goes back to the queue (nothing was typed).
    Returns the rows turned uncertain."""
    stuck = conn.execute("SELECT id, claimed_by, started_at FROM deliveries WHERE state = 'sending'").fetchall()
    gone = [row for row in stuck if not owner.is_alive(db_path, row["claimed_by"])]
    now = now_db()
    conn.executemany(
        "UPDATE deliveries SET state = 'queued', claimed_by = NULL, updated_at = ? WHERE id = ? AND state = 'sending'",
        [(now, row["id"]) for row in gone if row["started_at"] is None])
    dead = [row["id"] for row in gone if row["started_at"] is not None]
    if not dead:
        return []
    conn.executemany(
        "UPDATE deliveries SET state = 'uncertain', reason = ?, updated_at = ?, finished_at = ? "
        "WHERE id = ? AND state = 'sending'",
        [(INTERRUPTED, now, now, delivery_id) for delivery_id in dead],
    )
    rows = conn.execute(
        f"SELECT {DELIVERY_COLUMNS} FROM deliveries d WHERE d.id IN (SELECT value FROM json_each(?)) "
        "ORDER BY d.id",
        (json.dumps(dead),),
    ).fetchall()
    return [delivery_from_row(row) for row in rows]


def requeue(conn: sqlite3.Connection, delivery_ids: Iterable[int], token: str | None = None) -> list[int]:
    """A new ``queued`` row (``retry_of`` = old id, queued by ``token``) per failed/uncertain
    delivery not yet retried; one sent "when idle" waits again (``waiting``, its first wait's length)."""
    now = now_db()
    new_ids = []
    for delivery_id in dict.fromkeys(delivery_ids):
        row = conn.execute(
            "SELECT state, EXISTS (SELECT 1 FROM deliveries r WHERE r.retry_of = d.id) AS retried "
            "FROM deliveries d WHERE id = ?",
            (delivery_id,),
        ).fetchone()
        if row is None:
            raise UnknownDelivery(f"no delivery with id {delivery_id}")
        if row["state"] not in RETRYABLE or row["retried"]:
            continue
        cur = conn.execute(
            "INSERT INTO deliveries (message_id, agent_id, transport, priority, prio, state, when_idle, "
            "expires_at, retry_of, claimed_by, created_at, updated_at) SELECT message_id, agent_id, "
            f"transport, priority, prio, {AGAIN}, id, ?, ?, ? FROM deliveries WHERE id = ?",
            (now, token, now, now, delivery_id),  # AGAIN's now first
        )
        new_ids.append(inserted_id(cur))
    return new_ids
