"""Recording one hook event without ever holding the agent up.

The hook runs inside the agent's turn, so it must be quick and must not fail. It opens the
store's file (``quarterdeck.sqlite3``; never creating it) with a 0.2 s lock wait and inserts one
row into ``agent_events``. When the file is missing, busy, locked, read-only, damaged or older
than the table, the event is appended as one JSON line to ``agent-events.spool.jsonl`` in the
data folder instead; :func:`quarterdeck.core.activity.journal.ingest_spool` moves those lines into
the table the next time the events are read.

Every event gets a random ``key`` (unique in the table), so a spool file ingested twice (after a
crash between the insert and the file's removal) adds nothing twice. A writer holds an exclusive
``flock`` on the spool file while appending and checks it still writes the file the name points
at, so an ingest that renames the file between the writer's open and its write loses nothing.

This module imports only the standard library and the light :mod:`quarterdeck.core.paths`: the
store package costs a hook process ~0.1 s to import.
"""
from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import asdict
from pathlib import Path

from quarterdeck.core.activity.events import ActivityEvent
from quarterdeck.core.paths import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE

try:
    import fcntl
except ImportError:  # Windows: appends of one line are still whole; the rename race is not covered
    fcntl = None  # type: ignore[assignment]

DB_FILE_NAME = "quarterdeck.sqlite3"  # quarterdeck.core.store.db.DB_FILE_NAME (a test checks they agree)
SPOOL_NAME = "agent-events.spool.jsonl"
HOOK_TIMEOUT_S = 0.2
STORED, SPOOLED = "stored", "spooled"

INSERT = ("INSERT OR IGNORE INTO agent_events (key, agent_id, source, kind, name, waits_for, detail, text, "
          "session, at) VALUES (:key, :agent_id, :source, :kind, :name, :waits_for, :detail, :text, :session, :at)")


def new_key() -> str:
    return os.urandom(12).hex()


def row(event: ActivityEvent, key: str) -> dict[str, object]:
    """The event's columns; a text with half of a surrogate pair (a prompt cut short inside an emoji)
    has it replaced, so that the table and the spool file can take it (neither writes such text)."""
    return {**{name: _writable(value) for name, value in asdict(event).items()}, "key": key}


def _writable(value: object) -> object:
    """``value`` with each half of a surrogate pair made U+FFFD (other text as it is)."""
    if isinstance(value, str) and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return value


def record(data_dir: Path, event: ActivityEvent, timeout: float = HOOK_TIMEOUT_S) -> tuple[str, str | None]:
    """Store ``event``, in the table or else in the spool file; returns ``(STORED or SPOOLED,
    why it was spooled)``. Raises OSError only when the spool file cannot be written either."""
    key = new_key()
    why = insert_now(data_dir / DB_FILE_NAME, row(event, key), timeout)
    if why is None:
        return STORED, None
    append_spool(data_dir, json.dumps(row(event, key), ensure_ascii=False, separators=(",", ":")))
    return SPOOLED, why


def insert_now(db: Path, values: dict[str, object], timeout: float) -> str | None:
    """Insert one row into ``db``'s ``agent_events``; None when done, else why not (in words)."""
    if not db.is_file():
        return f"{db} does not exist"
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=rw", uri=True, timeout=timeout,
                               isolation_level=None)
    except (sqlite3.Error, OSError, ValueError) as exc:
        return f"{db} cannot be opened: {exc}"
    try:
        # in WAL mode NORMAL survives a killed process; the hook skips the fsync FULL would cost
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(INSERT, values)
    except sqlite3.Error as exc:
        return f"{db}: {exc}"
    finally:
        conn.close()
    return None


def append_spool(data_dir: Path, line: str) -> Path:
    """Append ``line`` and a newline to the spool file (created 0600, its folder 0700)."""
    data_dir.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    path = data_dir / SPOOL_NAME
    payload = (line.rstrip("\n") + "\n").encode("utf-8")
    for _ in range(5):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE_MODE)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
                if not _same_file(fd, path):  # an ingest renamed it away meanwhile: write the new one
                    continue
            os.write(fd, payload)
            return path
        finally:
            os.close(fd)
    raise OSError(f"{path} kept being replaced while the event was appended")


def _same_file(fd: int, path: Path) -> bool:
    try:
        named = path.stat()
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino)
