"""The relay's own small file (``relay.sqlite`` in its data dir): which local deliveries came from the
captain, and the receipts not yet published.

``relayed`` maps a message id and agent (the relay's local delivery of them) to the captain's
delivery id; it is written before the local enqueue, so the delivery's first event finds it.
``final`` is set once the receipt of its final state is recorded. ``unpublished`` holds receipts
in order until the broker takes them, so an outage (or a crash) loses none: they go when it returns.
Thread-safe: one connection behind a lock (every call is short).
"""
from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from quarterdeck.core.relay.protocol import Receipt

FILE_NAME = "relay.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS relayed (
    message_id TEXT NOT NULL,
    agent TEXT NOT NULL,
    captain_delivery INTEGER NOT NULL,
    local_delivery INTEGER,
    final INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (message_id, agent)
);
CREATE INDEX IF NOT EXISTS relayed_open ON relayed (final) WHERE final = 0;
CREATE TABLE IF NOT EXISTS unpublished (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    fields TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Relayed:
    message_id: str
    agent: str
    captain_delivery: int
    local_delivery: int | None


_COLUMNS = "message_id, agent, captain_delivery, local_delivery"


def _relayed(row: tuple[object, ...]) -> Relayed:
    local = row[3]
    return Relayed(str(row[0]), str(row[1]), int(str(row[2])), None if local is None else int(str(local)))


class Ledger:
    """See the module docstring."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / FILE_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def record(self, message_id: str, agent: str, captain_delivery: int) -> None:
        """Remember that the delivery of ``message_id`` to ``agent`` is the captain's ``captain_delivery``."""
        with self._lock:
            self._conn.execute("INSERT OR IGNORE INTO relayed (message_id, agent, captain_delivery) VALUES (?, ?, ?)",
                               (message_id, agent, captain_delivery))

    def set_local(self, message_id: str, agent: str, local_delivery: int) -> None:
        with self._lock:
            self._conn.execute("UPDATE relayed SET local_delivery = ? WHERE message_id = ? AND agent = ?",
                               (local_delivery, message_id, agent))

    def relayed(self, message_id: str, agent: str) -> Relayed | None:
        with self._lock:
            row = self._conn.execute(f"SELECT {_COLUMNS} FROM relayed WHERE message_id = ? AND agent = ?",
                                     (message_id, agent)).fetchone()
        return None if row is None else _relayed(row)

    def open_deliveries(self) -> list[Relayed]:
        """Relayed deliveries whose final receipt is not recorded yet."""
        with self._lock:
            rows = self._conn.execute(f"SELECT {_COLUMNS} FROM relayed WHERE final = 0").fetchall()
        return [_relayed(row) for row in rows]

    def add_receipt(self, message_id: str, receipt: Receipt, *, final: bool) -> bool:
        """Queue ``receipt`` for publishing; ``final`` closes the delivery. False (nothing queued)
        when its final receipt was recorded already."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                key = (message_id, receipt.agent)
                row = self._conn.execute("SELECT final FROM relayed WHERE message_id = ? AND agent = ?",
                                         key).fetchone()
                if row is not None and int(row[0]):
                    self._conn.execute("ROLLBACK")
                    return False
                self._conn.execute("INSERT INTO unpublished (fields) VALUES (?)",
                                   (json.dumps(receipt.to_fields(), ensure_ascii=False, separators=(",", ":")),))
                if final:
                    self._conn.execute("UPDATE relayed SET final = 1 WHERE message_id = ? AND agent = ?", key)
                self._conn.execute("COMMIT")
                return True
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def unpublished(self, limit: int = 200) -> list[tuple[int, dict[str, str]]]:
        """The oldest receipts not yet published, as ``(seq, fields)``."""
        with self._lock:
            rows = self._conn.execute("SELECT seq, fields FROM unpublished ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [(int(seq), dict(json.loads(fields))) for seq, fields in rows]

    def published(self, up_to: int) -> None:
        """The receipts up to ``up_to`` (a seq) went out, in order."""
        with self._lock:
            self._conn.execute("DELETE FROM unpublished WHERE seq <= ?", (up_to,))

    def unpublished_count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM unpublished").fetchone()[0])
