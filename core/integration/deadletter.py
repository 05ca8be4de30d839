"""The dead-letter store: events that could not be handled, kept in SQLite until replayed or purged.

One row per event. ``reason`` says why it landed here: ``failed`` (the handler raised, retries
spent or not worth trying), ``rejected`` (the handler's breaker was open), ``invalid`` (the
payload broke the handler's rules) or ``no_handler``. A replay that fails again updates the same
row (reason, error, attempts, ``replays`` + 1) instead of adding one; a replay that succeeds
deletes it.

Payloads are stored as JSON so any process can replay them; a value JSON cannot hold is stored
as its ``str()``. Error texts are redacted before they are written, payloads are not (a replay
needs them as they were). The file defaults to ``deadletters.sqlite3`` in the user data dir and
uses the store's connection settings (WAL, one connection per thread, ``quarterdeck.core.store.db``).
"""
from __future__ import annotations

import builtins
import json
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from quarterdeck.core.integration.defaults import default_dead_letter_path
from quarterdeck.core.paths import ensure_dir
from quarterdeck.core.store.db import ThreadConnections, immediate, inserted_id

__all__ = ["REASONS", "DeadLetter", "DeadLetterStore"]

REASONS = ("failed", "rejected", "invalid", "no_handler")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dead_letters (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_type  TEXT    NOT NULL,
    event_id    TEXT,
    payload     TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    error       TEXT    NOT NULL,
    attempts    INTEGER NOT NULL,
    replays     INTEGER NOT NULL DEFAULT 0,
    created_at  REAL    NOT NULL,
    updated_at  REAL    NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_by_type ON dead_letters (event_type, id);
"""
_COLUMNS = "id, event_type, event_id, payload, reason, error, attempts, replays, created_at, updated_at"


@dataclass(frozen=True)
class DeadLetter:
    id: int
    event_type: str
    event_id: str | None
    payload: Any
    reason: str
    error: str
    attempts: int
    replays: int
    created_at: float  # Unix time
    updated_at: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _row(row: sqlite3.Row) -> DeadLetter:
    values = dict(row)
    values["payload"] = json.loads(values["payload"])
    return DeadLetter(**values)


class DeadLetterStore:
    """Thread-safe: each thread uses its own connection. Close it when done (or use ``with``)."""

    def __init__(self, path: Path | str | None = None, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path) if path is not None else default_dead_letter_path()
        ensure_dir(self.path.parent)
        self._clock = clock
        self._conns = ThreadConnections(self.path)
        self._conns.get().executescript(_SCHEMA)

    def __enter__(self) -> DeadLetterStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._conns.close_all()

    def add(self, event_type: str, payload: Any, *, reason: str, error: str, attempts: int,
            event_id: str | None = None) -> int:
        """Keep one event; returns its id."""
        _check_reason(reason)
        now = self._clock()
        text = json.dumps(payload, ensure_ascii=False, default=str)
        with immediate(self._conns.get()) as conn:
            cursor = conn.execute(
                "INSERT INTO dead_letters (event_type, event_id, payload, reason, error, attempts,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (event_type, event_id, text, reason, error, attempts, now, now))
            return inserted_id(cursor)

    def failed_again(self, entry_id: int, *, reason: str, error: str, attempts: int) -> bool:
        """Record a replay that did not succeed; False when the entry is gone."""
        _check_reason(reason)
        with immediate(self._conns.get()) as conn:
            cursor = conn.execute(
                "UPDATE dead_letters SET reason = ?, error = ?, attempts = ?, replays = replays + 1,"
                " updated_at = ? WHERE id = ?", (reason, error, attempts, self._clock(), entry_id))
            return cursor.rowcount > 0

    def get(self, entry_id: int) -> DeadLetter | None:
        row = self._conns.get().execute(
            f"SELECT {_COLUMNS} FROM dead_letters WHERE id = ?", (entry_id,)).fetchone()
        return _row(row) if row is not None else None

    def list(self, *, event_type: str | None = None, limit: int | None = None) -> list[DeadLetter]:
        """Entries oldest first, optionally of one type and at most ``limit`` of them."""
        sql = f"SELECT {_COLUMNS} FROM dead_letters"
        args: list[str | int] = []
        if event_type is not None:
            sql, args = sql + " WHERE event_type = ?", [event_type]
        sql += " ORDER BY id"
        if limit is not None:
            sql, args = sql + " LIMIT ?", [*args, max(0, int(limit))]
        return [_row(row) for row in self._conns.get().execute(sql, args)]

    def ids(self, *, event_type: str | None = None) -> builtins.list[int]:
        sql = "SELECT id FROM dead_letters"
        args: tuple[str, ...] = ()
        if event_type is not None:
            sql, args = sql + " WHERE event_type = ?", (event_type,)
        return [row[0] for row in self._conns.get().execute(sql + " ORDER BY id", args)]

    def count(self, *, event_type: str | None = None) -> int:
        sql = "SELECT COUNT(*) FROM dead_letters"
        args: tuple[str, ...] = ()
        if event_type is not None:
            sql, args = sql + " WHERE event_type = ?", (event_type,)
        return int(self._conns.get().execute(sql, args).fetchone()[0])

    def counts(self) -> Mapping[str, int]:
        """Entries per event type."""
        rows = self._conns.get().execute(
            "SELECT event_type, COUNT(*) FROM dead_letters GROUP BY event_type")
        return {event_type: count for event_type, count in rows}

    def remove(self, entry_id: int) -> bool:
        with immediate(self._conns.get()) as conn:
            return conn.execute("DELETE FROM dead_letters WHERE id = ?", (entry_id,)).rowcount > 0

    def purge(self, *, event_type: str | None = None, older_than: float | None = None) -> int:
        """Delete entries (of one type, or last touched more than ``older_than`` seconds ago)."""
        clauses: builtins.list[str] = []
        args: builtins.list[str | float] = []
        if event_type is not None:
            clauses.append("event_type = ?")
            args.append(event_type)
        if older_than is not None:
            clauses.append("updated_at < ?")
            args.append(self._clock() - older_than)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with immediate(self._conns.get()) as conn:
            return conn.execute(f"DELETE FROM dead_letters{where}", args).rowcount


def _check_reason(reason: str) -> None:
    if reason not in REASONS:
        raise ValueError(f"reason must be one of {', '.join(REASONS)}, not {reason!r}")
