"""Getting deliveries moving again: flag interrupted ones ``uncertain``, queue retries of failed ones.

Both run inside the caller's write transaction.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from core.store import owner
from core.store.mapping import DELIVERY_COLUMNS, delivery_from_row
from core.store.rows import RETRYABLE, DeliveryRow, UnknownDelivery, now_db

INTERRUPTED = "interrupted: the sending process ended before the outcome was recorded"


def recover(conn: sqlite3.Connection, db_path: Path) -> list[DeliveryRow]:
    """``sending`` -> ``uncertain`` for every delivery whose claiming process is gone."""
    stuck = conn.execute("SELECT id, claimed_by FROM deliveries WHERE state = 'sending'").fetchall()
    dead = [row["id"] for row in stuck if not owner.is_alive(db_path, row["claimed_by"])]
    if not dead:
        return []
    now = now_db()
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


def requeue(conn: sqlite3.Connection, delivery_ids: Iterable[int]) -> list[int]:
    """A new ``queued`` row (``retry_of`` = old id) per failed/uncertain delivery not yet retried."""
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
            "INSERT INTO deliveries (message_id, agent_id, transport, priority, prio, state, "
            "retry_of, created_at, updated_at) SELECT message_id, agent_id, transport, priority, "
            "prio, 'queued', id, ?, ? FROM deliveries WHERE id = ?",
            (now, now, delivery_id),
        )
        new_ids.append(int(cur.lastrowid))
    return new_ids
