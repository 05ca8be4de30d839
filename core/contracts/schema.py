"""The contract tables, kept in the outbox's file (``quarterdeck.sqlite3``) without touching its schema.

The outbox versions its own tables with ``PRAGMA user_version`` (core/store/schema.py); that
counter belongs to it alone. Contracts keep their own version in the one-row table
``contracts_schema`` and create everything with ``IF NOT EXISTS``, so opening contracts on any
file (new, old, or one another process is migrating right now) never changes what the outbox
sees, and the outbox's migrations never see a contract table. Names starting with ``contract``
are reserved for this module.

All of it runs in one ``BEGIN IMMEDIATE`` transaction, so two processes opening a new file at
once create the tables exactly once. The same transaction masks, once per file, credentials an
earlier Quarterdeck stored in the clear (see :mod:`quarterdeck.core.contracts.secrets`), with SQLite's
``secure_delete`` on so the old text is overwritten rather than left in free pages;
``contracts_scrubbed`` records that it was done.
"""
from __future__ import annotations

import sqlite3

from quarterdeck.core.contracts.model import ContractError
from quarterdeck.core.contracts.secrets import scrub

CONTRACTS_SCHEMA_VERSION = 1

_TABLES = (
    """
    CREATE TABLE IF NOT EXISTS contracts_schema (
        one     INTEGER PRIMARY KEY CHECK (one = 1),
        version INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS contracts (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        title           TEXT NOT NULL CHECK (length(title) > 0),
        description     TEXT NOT NULL DEFAULT '',
        points          INTEGER NOT NULL DEFAULT 1 CHECK (points >= 0),
        state           TEXT NOT NULL CHECK (state IN ('open', 'claimed', 'done', 'cancelled')),
        assignee        TEXT,
        note            TEXT NOT NULL DEFAULT '',
        created_at      REAL NOT NULL,
        updated_at      REAL NOT NULL,
        claimed_at      REAL,
        finished_at     REAL,
        sent_at         REAL,
        sent_message_id TEXT,
        CHECK (state = 'open' OR state = 'cancelled' OR assignee IS NOT NULL)
    )
    """,
    "CREATE TABLE IF NOT EXISTS contracts_scrubbed (one INTEGER PRIMARY KEY CHECK (one = 1))",
    "CREATE INDEX IF NOT EXISTS contracts_state ON contracts(state, id)",
    "CREATE INDEX IF NOT EXISTS contracts_assignee ON contracts(assignee, state)",
)


def ensure_schema(conn: sqlite3.Connection) -> int:
    """Create the contract tables if missing; return the version found (0 for a file without them).

    ``conn`` must be in autocommit mode. A file written by a newer Quarterdeck is refused rather
    than misread.
    """
    conn.execute("PRAGMA secure_delete = ON")  # text replaced or deleted is zeroed, not left behind
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _TABLES:
            conn.execute(statement)
        row = conn.execute("SELECT version FROM contracts_schema WHERE one = 1").fetchone()
        found = 0 if row is None else int(row[0])
        if found > CONTRACTS_SCHEMA_VERSION:
            raise ContractError(
                f"the contracts in this database are at schema version {found}, newer than this "
                f"Quarterdeck understands ({CONTRACTS_SCHEMA_VERSION}); upgrade Quarterdeck or use "
                "another --data-dir")
        if found < CONTRACTS_SCHEMA_VERSION:
            conn.execute("INSERT OR REPLACE INTO contracts_schema (one, version) VALUES (1, ?)",
                         (CONTRACTS_SCHEMA_VERSION,))
        masked = _scrub_once(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    if masked:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the clear text leaves the file, not only the WAL
    return found


def _scrub_once(conn: sqlite3.Connection) -> int:
    """Mask the credentials in contracts stored before they were masked on the way in; the rows changed."""
    if conn.execute("SELECT 1 FROM contracts_scrubbed").fetchone() is not None:
        return 0
    changed = 0
    for row in conn.execute("SELECT id, title, description, note FROM contracts").fetchall():
        values = [scrub(field, text)[0] for field, text in zip(("title", "description", "note"), row[1:],
                                                                strict=True)]
        if values != list(row[1:]):
            conn.execute("UPDATE contracts SET title = ?, description = ?, note = ? WHERE id = ?", (*values, row[0]))
            changed += 1
    conn.execute("INSERT INTO contracts_scrubbed (one) VALUES (1)")
    return changed
