"""Opening ``quarterdeck.sqlite3``: pragmas, one connection per thread, write transactions.

Durability choice: WAL with ``synchronous=FULL``. In WAL mode NORMAL already survives a killed
process; FULL also fsyncs the log on every commit, so a queued message or a state change
survives a power cut too. Commits here are a handful per message, so the fsync is affordable.

Every connection made here explains its failures: a full disk, a damaged file, a lock held too
long, a read-only disk or a missing folder raises :class:`quarterdeck.core.store.faults.StorageFault` naming
the file, instead of SQLite's bare text. A new database file is created private (0600); SQLite
gives its ``-wal`` and ``-shm`` files the same mode.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Self, TypeVar, cast

from quarterdeck.core.paths import PRIVATE_FILE_MODE, user_data_dir
from quarterdeck.core.store.faults import StorageFault, from_os_error, from_sqlite
from quarterdeck.core.store.rows import StoreError

DB_FILE_NAME = "quarterdeck.sqlite3"
BUSY_TIMEOUT_S = 10.0
_T = TypeVar("_T")

if TYPE_CHECKING:
    from sqlite3 import _Parameters

log = logging.getLogger(__name__)


def default_db_path(data_dir: Path | None = None) -> Path:
    """``<data dir>/quarterdeck.sqlite3``; the data dir defaults to :func:`quarterdeck.core.paths.user_data_dir`."""
    return (data_dir if data_dir is not None else user_data_dir()) / DB_FILE_NAME


def _reraise(exc: sqlite3.Error, path: Path) -> NoReturn:
    fault = from_sqlite(exc, path)
    if fault is None or fault is exc:
        raise exc
    raise fault from exc


class _Cursor(sqlite3.Cursor):
    """A cursor whose storage failures name the database file (see the module docstring). Each call
    catches the error itself (:meth:`_named`): a context manager per statement costs more than some
    statements."""

    @property
    def _path(self) -> Path:
        # only _Connection hands out this cursor class (see _Connection.cursor calls below)
        return cast(_Connection, self.connection).path

    def _named(self, call: Callable[..., _T], *args: object) -> _T:
        """``call(*args)``; a SQLite storage failure re-raised as a StorageFault naming the file."""
        try:
            return call(*args)
        except sqlite3.Error as exc:
            _reraise(exc, self._path)

    def execute(self, sql: str, parameters: _Parameters = (), /) -> Self:
        return self._named(super().execute, sql, parameters)

    def executemany(self, sql: str, seq_of_parameters: Iterable[_Parameters], /) -> Self:
        return self._named(super().executemany, sql, seq_of_parameters)

    def executescript(self, script: str, /) -> Self:
        self._named(super().executescript, script)
        return self

    def fetchone(self) -> Any:
        return self._named(super().fetchone)

    def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._named(super().fetchmany) if size is None else self._named(super().fetchmany, size)

    def fetchall(self) -> list[Any]:
        return self._named(super().fetchall)

    def __next__(self) -> Any:
        return self._named(super().__next__)


class _Connection(sqlite3.Connection):
    """A connection that knows its file and hands out :class:`_Cursor` cursors."""

    path: Path

    def execute(self, sql: str, parameters: _Parameters = (), /) -> _Cursor:
        return self.cursor(_Cursor).execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[_Parameters], /) -> _Cursor:
        return self.cursor(_Cursor).executemany(sql, parameters)

    def executescript(self, sql_script: str, /) -> _Cursor:
        return self.cursor(_Cursor).executescript(sql_script)


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The rowid an INSERT through ``cursor`` just made."""
    if cursor.lastrowid is None:
        raise StoreError("the INSERT reported no row id")
    return cursor.lastrowid


def create_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (SQLite would make it 0644)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)


def connect(path: Path) -> sqlite3.Connection:
    """A new autocommit connection with the store's pragmas applied; failures are StorageFaults.

    ``check_same_thread`` is off only so :meth:`ThreadConnections.close_all` may close it from
    another thread; each thread still gets a connection of its own.
    """
    path = Path(path)
    try:
        create_private(path)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False,
                               factory=_Connection)
    except OSError as exc:
        raise from_os_error(exc, path) from exc
    except sqlite3.Error as exc:
        fault = from_sqlite(exc, path)
        if fault is None:
            raise
        raise fault from exc
    conn.path = path
    conn.row_factory = sqlite3.Row
    try:
        mode = _into_wal(conn)
        if str(mode).lower() != "wal":
            log.warning("SQLite refused WAL for %s (journal mode %s); concurrent readers will wait", path, mode)
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        conn.close()
        raise
    return conn


def _into_wal(conn: sqlite3.Connection) -> str:
    """``PRAGMA journal_mode = WAL``, tried again while another connection makes the same switch.

    On a new file, connections opened together each read it and then want to write the switch;
    rather than let them wait on each other, SQLite answers one of them "locked" at once, without
    its busy handler. Its statement ended, that connection holds no lock, so a retry after a short
    sleep goes through once the other's switch is done (then the file is in WAL already). No try
    begins after ``BUSY_TIMEOUT_S``; a lock held that long is "locked", as anywhere else.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    pause = 0.001
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except StorageFault as fault:
            if fault.kind != "locked" or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


_writers_lock = threading.Lock()
_writers: dict[str, threading.RLock] = {}


def _writer_lock(conn: sqlite3.Connection) -> threading.RLock:
    """The lock this process's threads take, in turn, before a write transaction on ``conn``'s file."""
    key = str(getattr(conn, "path", "")) or str(id(conn))
    with _writers_lock:
        lock = _writers.get(key)
        if lock is None:
            lock = _writers[key] = threading.RLock()
        return lock


@contextmanager
def immediate(conn: sqlite3.Connection, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
    """A write transaction that takes the database write lock up front (``BEGIN IMMEDIATE``).

    Threads of one process on one file take turns on a lock of this process first: the next one
    goes as soon as a commit ends, where SQLite's busy handler would sleep a millisecond or more
    (a relay's intake and delivery threads write all the time). After ``BUSY_TIMEOUT_S`` without
    it, SQLite decides, as before. When the body fails the transaction is rolled back; a rollback
    that fails too (the disk went away) never hides the body's error.

    ``durable=False``: the commit is not fsynced itself (``synchronous=NORMAL``); the next durable
    commit on the file, from any connection, makes it durable with its own (the log is written in
    order, so after a power cut the file holds both, the first, or neither). Only for a change that
    a later durable one always follows before it matters, and whose loss alone is harmless (a
    claim before typing begins: lost, the delivery is queued again with nothing typed), or whose
    file the caller flushes itself before it matters (an inbox round's claim: its log is flushed
    with the files' contents, before any file has its name). A killed process loses nothing either way.
    """
    turn = _writer_lock(conn)
    taken = turn.acquire(timeout=BUSY_TIMEOUT_S)
    try:
        if not durable:
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            _roll_back(conn, "an error")
            raise
        try:
            conn.execute("COMMIT")
        except StorageFault:
            _roll_back(conn, "a failed commit")
            raise
    finally:
        if not durable:
            _fully_synchronous(conn)
        if taken:
            turn.release()


def _fully_synchronous(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("PRAGMA synchronous = FULL")
    except sqlite3.Error:
        log.warning("could not make commits durable again on %s", getattr(conn, "path", "?"), exc_info=True)


def _roll_back(conn: sqlite3.Connection, after: str) -> None:
    """Roll back what is still open; a rollback that fails too is logged, never raised."""
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            log.warning("rollback failed after %s", after, exc_info=True)


class _Holder:
    """Lives in a thread's local storage; when the thread ends it is dropped and closes its connection."""

    __slots__ = ("__weakref__", "conn")

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
