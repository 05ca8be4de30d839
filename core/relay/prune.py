"""Pruning the relay's ledger (``relay.sqlite``): closed deliveries older than two weeks go.

A row of ``relayed_deliveries`` is needed while its delivery is in flight (its events find it; a
repeated entry is recognised by it) and shortly after (an entry repeated late tells its final
receipt again). Once its final receipt is recorded and published and its local delivery ended
more than :data:`KEEP_DAYS` ago, nothing needs it. The ledger keeps no time of its own, so the age
is the local delivery's ``finished_at`` in the relay's outbox (attached read-only). Receipts
still unpublished are never touched, nor the rows they belong to. The relay runs this hourly, in
batches, on a connection of its own (WAL: the ledger's own connection goes on meanwhile).
"""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from quarterdeck.core.relay.ledger import FILE_NAME

KEEP_DAYS = 14.0
EVERY_S = 3600.0
BATCH = 5000
BUSY_TIMEOUT_S = 10.0

_OLD_CLOSED = """
    SELECT r.rowid FROM relayed_deliveries r
    WHERE r.final = 1 AND r.local_delivery IS NOT NULL
      AND EXISTS (SELECT 1 FROM outbox.deliveries d WHERE d.id = r.local_delivery AND d.finished_at < ?)
      AND NOT EXISTS (SELECT 1 FROM unpublished u
                      WHERE json_extract(u.fields, '$.delivery') = CAST(r.captain_delivery AS TEXT)
                        AND coalesce(json_extract(u.fields, '$.captain'), '') = r.captain)
    LIMIT ?
"""


def prune_ledger(data_dir: Path, outbox: Path, *, now: float | None = None, keep_days: float = KEEP_DAYS) -> int:
    """Delete the ledger rows of deliveries closed, published and ended more than ``keep_days`` ago;
    returns how many. ``data_dir`` holds ``relay.sqlite``; ``outbox`` is the relay's outbox file."""
    cutoff = (time.time() if now is None else now) - keep_days * 86400
    ledger = (Path(data_dir) / FILE_NAME).resolve()
    conn = sqlite3.connect(f"{ledger.as_uri()}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        conn.execute("ATTACH DATABASE ? AS outbox", (f"{Path(outbox).resolve().as_uri()}?mode=ro",))
        deleted = 0
        while True:
            conn.execute("BEGIN IMMEDIATE")
            try:
                cursor = conn.execute(f"DELETE FROM relayed_deliveries WHERE rowid IN ({_OLD_CLOSED})",
                                      (cutoff, BATCH))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            deleted += cursor.rowcount
            if cursor.rowcount < BATCH:
                return deleted
    finally:
        conn.close()
