"""Which process owns an in-flight delivery, and whether that process is still running.

Every open ``Store`` holds an exclusive OS lock on its own lease file
``<db>-owners/<token>.lock`` and writes its token into each delivery it claims. The OS drops
the lock when the process ends, however it ends (kill -9 included). So another process can tell
a delivery left ``sending`` by a crash (lock free) from one that a live GUI or CLI is typing
right now (lock held), and ``recover`` flags only the first kind.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

from quarterdeck.core.fileops import try_lock, unlock


def lease_dir(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + "-owners")


class Lease:
    """This process's claim token, backed by a held lock on its lease file."""

    def __init__(self, db_path: Path) -> None:
        self._dir = lease_dir(db_path)
        self._dir.mkdir(parents=True, exist_ok=True)
        self.token = uuid.uuid4().hex
        self._path = self._dir / f"{self.token}.lock"
        self._fd: int | None = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        if not try_lock(self._fd):
            os.close(self._fd)
            raise OSError(f"could not lock the fresh lease file {self._path}")
        os.write(self._fd, f"{os.getpid()}\n".encode())

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        unlock(fd)
        os.close(fd)
        self._path.unlink(missing_ok=True)


def is_alive(db_path: Path, token: str | None) -> bool:
    """True while the process holding ``token`` runs. Dead leases are cleaned up on the way."""
    if not token or not token.isalnum():
        return False
    path = lease_dir(db_path) / f"{token}.lock"
    if lease_held(path):
        return True
    try:
        path.unlink()
    except OSError:
        pass
    return False


def lease_held(path: Path) -> bool:
    """True while a running process holds the lease file ``path`` (a missing one is not held)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        if not try_lock(fd):
            return True
        unlock(fd)
    finally:
        os.close(fd)
    return False


def any_lease_held(db_path: Path) -> bool:
    """True while any process holds a lease on the outbox ``db_path`` (it has the file open)."""
    folder = lease_dir(db_path)
    return folder.is_dir() and any(lease_held(lease) for lease in folder.glob("*.lock"))
