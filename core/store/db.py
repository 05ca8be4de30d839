"""Opening ``quarterdeck.sqlite3``: pragmas, one connection per thread, write transactions.

Durability choice: WAL with ``synchronous=FULL``. In WAL mode NORMAL already survives a killed
process; FULL also fsyncs the log on every commit, so a queued message or a state change
survives a power cut too. Commits here are a handful per message, so the fsync is affordable.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.paths import user_data_dir
from core.store.rows import StoreError

DB_FILE_NAME = "quarterdeck.sqlite3"
BUSY_TIMEOUT_S = 10.0

log = logging.getLogger(__name__)


def default_db_path(data_dir: Path | None = None) -> Path:
    """``<data dir>/quarterdeck.sqlite3``; the data dir defaults to :func:`core.paths.user_data_dir`."""
    return (data_dir if data_dir is not None else user_data_dir()) / DB_FILE_NAME


def connect(path: Path) -> sqlite3.Connection:
    """A new autocommit connection with the store's pragmas applied.

    ``check_same_thread`` is off only so :meth:`ThreadConnections.close_all` may close it from
    another thread; each thread still gets a connection of its own.
    """
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    try:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            log.warning("SQLite refused WAL for %s (journal mode %s); concurrent readers will wait", path, mode)
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction that takes the database write lock up front (``BEGIN IMMEDIATE``)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class _Holder:
    """Lives in a thread's local storage; when the thread ends it is dropped and closes its connection."""

    __slots__ = ("conn", "__weakref__")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn


class ThreadConnections:
    """Hands each thread its own connection to one database file."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._pid = os.getpid()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: dict[int, sqlite3.Connection] = {}
        self._closed = False

    def get(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError("the store is closed")
        if os.getpid() != self._pid:
            raise StoreError("a Store cannot cross a fork; open a new Store in the child process")
        holder = getattr(self._local, "holder", None)
        if holder is None:
            conn = connect(self._path)
            with self._lock:
                if self._closed:
                    conn.close()
                    raise StoreError("the store is closed")
                self._open[id(conn)] = conn
            holder = _Holder(conn)
            weakref.finalize(holder, self._forget, id(conn))
            self._local.holder = holder
        return holder.conn

    def _forget(self, key: int) -> None:
        with self._lock:
            conn = self._open.pop(key, None)
        if conn is not None:
            conn.close()

    def open_count(self) -> int:
        with self._lock:
            return len(self._open)

    def close_all(self) -> None:
        with self._lock:
            self._closed = True
            conns, self._open = list(self._open.values()), {}
        for conn in conns:
            conn.close()
