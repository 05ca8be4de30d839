"""Tables, indexes and migrations of ``quarterdeck.sqlite3``, versioned by ``PRAGMA user_version``.

Each entry of ``MIGRATIONS`` moves the file from version ``i`` to ``i + 1``. They run inside one
``BEGIN IMMEDIATE`` transaction together with the ``user_version`` bump, so two processes opening
a new file at once cannot both apply them, and a crash mid-migration leaves the old version.

``messages`` has an explicit integer ``seq`` key because the full-text index refers to rows by
rowid, and VACUUM may renumber the implicit rowid of a table that lacks one.

Version 2 adds ``control``, one row shared by every process on the file: the stop-all generation
(raised by each stop-all, see ``quarterdeck.core.store.control``), how many queued deliveries that stop
cancelled and when, and the resume generation (raised by each resume-all), the stop generation
each resume-all came after, and when.

Version 3 adds each delivery's ``verdict`` (submitted, typed_not_submitted, not_typed,
unverified) and the ``evidence`` it rests on. Rows finished before it have neither: they count as
unverified.

Version 4 adds ``agent_events``: what the agents' own hooks reported (a prompt submitted, a turn
ended, a permission asked for), one row each, written by ``quarterdeck hook`` (see
``quarterdeck.core.activity``). ``key`` is random per event, so an event that reaches the table
twice (from the hook's spool file) is kept once.

Version 5 adds delivery that waits for its agent to be free: a delivery with ``when_idle`` starts
``waiting`` (not ``queued``), is queued once its agent is idle, and ends ``expired`` when
``expires_at`` passes first. A delivery's verdict can be ``confirmed_by_agent`` (the agent's own
prompt-submitted hook reported the text). ``agent_events`` takes what watching a pane or a window
saw (``seen_working``, ``seen_idle``, ``seen_needs_you``, ``seen_rate_limited``, ``seen_stalled``,
``seen_offline``). The widened CHECK lists are written into the schema text in place (a change
that leaves every stored row valid, so no table is copied); see :class:`Widen`.

Version 6 adds each delivery's ``machine``: the relay that typed it (issue 14; the captain's
forwarder sets it when it hands the delivery to that relay). NULL is this machine.

Version 7 adds the file's own id (``control.outbox_id``, 16 random hex digits): the captain's name
on the relays' streams (issue 14), so two outboxes on one broker, which number their deliveries
each on its own, never take each other's deliveries or receipts for their own.

Two profiles of one schema. A full open (``migrate(search=True)``, every ``Store`` but a relay's) makes the
file a history: with the objects only the history's queries use (:class:`HistoryOnly`: the messages'
full-text index and its triggers, the time indexes of the listings). A delivery queue (a relay's
outbox, ``search=False``; also the readers beside the Store, :func:`open_migrated`) leaves them out of
a new file: every store write then costs less (a third of an enqueue). A file keeps what it has:
a queue open never drops them (the same file may be this machine's own history), and a full open of
a queue's file adds the missing ones, the full-text index filled from the messages already stored,
so ``quarterdeck history --db`` a relay's outbox lists and searches all of it.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from quarterdeck.core.store.rows import StoreError
from quarterdeck.core.store.steps import HistoryOnly, Step, Widen, add_history, execute

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "HistoryOnly", "Step", "Widen", "migrate", "open_migrated",
           "user_version"]


_REBUILD = "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')"  # from the messages stored

_V1 = (
    """
    CREATE TABLE messages (
        seq         INTEGER PRIMARY KEY,
        id          TEXT NOT NULL UNIQUE,
        sender      TEXT NOT NULL,
        sender_kind TEXT NOT NULL,
        type        TEXT NOT NULL,
        priority    TEXT NOT NULL,
        tags        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
        recipients  TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(recipients)),
        content     TEXT NOT NULL,
        redacted    INTEGER NOT NULL DEFAULT 0 CHECK (redacted IN (0, 1)),
        created_at  REAL NOT NULL
    )
    """,
    """
    CREATE TABLE deliveries (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id      TEXT NOT NULL REFERENCES messages(id),
        agent_id        TEXT NOT NULL,
        transport       TEXT NOT NULL,
        priority        TEXT NOT NULL,
        prio            INTEGER NOT NULL,
        state           TEXT NOT NULL CHECK (state IN
                            ('queued', 'sending', 'delivered', 'failed', 'cancelled', 'uncertain')),
        reason          TEXT,
        attempts        INTEGER NOT NULL DEFAULT 0,
        claimed_by      TEXT,
        retry_of        INTEGER REFERENCES deliveries(id),
        created_at      REAL NOT NULL,
        updated_at      REAL NOT NULL,
        started_at      REAL,
        finished_at     REAL,
        latency_ms      REAL,
        final_text_hash TEXT
    )
    """,
    """
    CREATE TABLE attempts (
        delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
        n           INTEGER NOT NULL CHECK (n >= 1),
        started_at  REAL NOT NULL,
        finished_at REAL NOT NULL,
        ok          INTEGER NOT NULL CHECK (ok IN (0, 1)),
        error       TEXT,
        PRIMARY KEY (delivery_id, n)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX deliveries_queue ON deliveries(prio, id) WHERE state = 'queued'",
    "CREATE INDEX deliveries_in_flight ON deliveries(agent_id) WHERE state = 'sending'",
    "CREATE INDEX deliveries_message ON deliveries(message_id)",
    HistoryOnly("deliveries_time", "CREATE INDEX deliveries_time ON deliveries(created_at)"),
    HistoryOnly("deliveries_agent_time", "CREATE INDEX deliveries_agent_time ON deliveries(agent_id, created_at)"),
    "CREATE INDEX deliveries_state_time ON deliveries(state, created_at)",
    HistoryOnly("deliveries_agent_state_time",
                "CREATE INDEX deliveries_agent_state_time ON deliveries(agent_id, state, created_at)"),
    "CREATE UNIQUE INDEX deliveries_retry ON deliveries(retry_of) WHERE retry_of IS NOT NULL",
    HistoryOnly("messages_fts", """
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        content, content='messages', content_rowid='seq', tokenize='trigram'
    )
    """, _REBUILD),
    HistoryOnly("messages_fts_insert", """
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts(rowid, content) VALUES (new.seq, new.content);
    END
    """, _REBUILD),
    HistoryOnly("messages_fts_delete", """
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
    END
    """, _REBUILD),
    HistoryOnly("messages_fts_update", """
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
        INSERT INTO messages_fts(rowid, content) VALUES (new.seq, new.content);
    END
    """, _REBUILD),
)

_V2 = (
    """
    CREATE TABLE control (
        id              INTEGER PRIMARY KEY CHECK (id = 1),
        stop_generation INTEGER NOT NULL DEFAULT 0 CHECK (stop_generation >= 0),
        stop_cancelled  INTEGER NOT NULL DEFAULT 0,
        stopped_at      REAL,
        resume_generation INTEGER NOT NULL DEFAULT 0 CHECK (resume_generation >= 0),
        resumed_after   INTEGER NOT NULL DEFAULT 0,
        resumed_at      REAL
    )
    """,
    "INSERT INTO control (id) VALUES (1)",
)

_V3 = (
    "ALTER TABLE deliveries ADD COLUMN verdict TEXT CHECK (verdict IS NULL OR verdict IN "
    "('submitted', 'typed_not_submitted', 'not_typed', 'unverified'))",
    "ALTER TABLE deliveries ADD COLUMN evidence TEXT",
)

_V4 = (
    """
    CREATE TABLE agent_events (
        seq       INTEGER PRIMARY KEY,
        key       TEXT NOT NULL UNIQUE,
        agent_id  TEXT NOT NULL,
        source    TEXT NOT NULL,
        kind      TEXT NOT NULL CHECK (kind IN ('prompt_submitted', 'turn_ended', 'needs_you', 'tool_use',
                                                'session_start', 'session_ended', 'other')),
        name      TEXT NOT NULL,
        waits_for TEXT,
        detail    TEXT,
        text      TEXT,
        session   TEXT,
        at        REAL NOT NULL
    )
    """,
    "CREATE INDEX agent_events_agent_time ON agent_events(agent_id, at)",
)

_V5: tuple[Step, ...] = (
    Widen("deliveries", "'cancelled', 'uncertain')", "'cancelled', 'uncertain', 'waiting', 'expired')"),
    Widen("deliveries", "'not_typed', 'unverified')", "'not_typed', 'unverified', 'confirmed_by_agent')"),
    Widen("agent_events", "'session_start', 'session_ended', 'other')",
          "'session_start', 'session_ended', 'other', 'seen_working', 'seen_idle', 'seen_needs_you', "
          "'seen_rate_limited', 'seen_stalled', 'seen_offline')"),
    "ALTER TABLE deliveries ADD COLUMN when_idle INTEGER NOT NULL DEFAULT 0 CHECK (when_idle IN (0, 1))",
    "ALTER TABLE deliveries ADD COLUMN expires_at REAL",
    "CREATE INDEX deliveries_waiting ON deliveries(agent_id, id) WHERE state = 'waiting'",
)

_V6 = ("ALTER TABLE deliveries ADD COLUMN machine TEXT",)

_V7 = ("ALTER TABLE control ADD COLUMN outbox_id TEXT",
       "UPDATE control SET outbox_id = lower(hex(randomblob(8))) WHERE id = 1")

MIGRATIONS: tuple[tuple[Step, ...], ...] = (_V1, _V2, _V3, _V4, _V5, _V6, _V7)
SCHEMA_VERSION = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def open_migrated(path: Path) -> sqlite3.Connection:
    """A connection to the database at ``path``, its schema brought up to date (closed again if
    that fails): for readers beside the ``Store`` (the agents' events, the relay's publishers). It
    builds no history objects (a hook must not index a relay's outbox): the next full open does."""
    from quarterdeck.core.store.db import connect

    conn = connect(path)
    try:
        migrate(conn, search=False)
    except BaseException:
        conn.close()
        raise
    return conn


def migrate(conn: sqlite3.Connection, migrations: tuple[tuple[Step, ...], ...] = MIGRATIONS, *,
            search: bool = True) -> int:
    """Bring the file up to ``len(migrations)``; return the version found before migrating.
    ``search=False``: a delivery queue's open, :class:`HistoryOnly` steps left out; ``True``: those
    missing are added (see the module docstring).

    ``conn`` must be in autocommit mode (``isolation_level=None``).
    """
    target = len(migrations)
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = user_version(conn)
        if found > target:
            raise StoreError(
                f"the history database is at schema version {found}, newer than this "
                f"Quarterdeck understands ({target}); upgrade Quarterdeck or use another --data-dir"
            )
        for version in range(found, target):
            for statement in migrations[version]:
                if search or not isinstance(statement, HistoryOnly):
                    execute(conn, statement)
        if search:
            add_history(conn, migrations)
        if found != target:
            conn.execute(f"PRAGMA user_version = {target:d}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return found
