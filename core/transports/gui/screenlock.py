"""One GUI delivery at a time across every Quarterdeck process on this machine.

Screen, keyboard, mouse and clipboard are a single shared resource: two senders interleaving clicks
and pastes deliver text into the wrong pane. ``ScreenLock`` is an OS file lock (``flock`` on POSIX,
``msvcrt.locking`` on Windows) on one file, so it excludes other processes as well as other threads
(each ``hold`` opens its own file handle). The OS drops the lock when its holder dies, so a crashed
sender never wedges the screen.

Waiting polls a non-blocking lock attempt and sleeps on the caller's stop event between attempts,
so stop-all interrupts a waiter at once (``Cancelled``). The holder's pid is written into the
file for diagnostics (``holder()``).

    with ScreenLock().hold(stop, timeout=30):
        ...  # focus, paste, submit
"""
from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol, runtime_checkable

from quarterdeck.core.delivery.errors import Cancelled, RetryableError
from quarterdeck.core.fileops import try_lock, unlock

__all__ = ["Cancelled", "ScreenBusy", "ScreenHold", "ScreenLock"]

LOCK_FILE_NAME = "screen.lock"
_PID_WIDTH = 24

# On Windows the locked byte sits far past the pid text, so others can still read who holds it.
_LOCK_OFFSET = 1 << 20


def _try_lock(fd: int) -> bool:
    return try_lock(fd, _LOCK_OFFSET)


def _unlock(fd: int) -> None:
    unlock(fd, _LOCK_OFFSET)


def _overwrite(fd: int, text: str) -> None:
    """Replace the pid field in place (fixed width: no truncation while a lock is held)."""
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, f"{text:<{_PID_WIDTH - 1}}\n".encode("ascii"))


@runtime_checkable
class ScreenHold(Protocol):
    """What a GUI delivery holds the screen with: ``ScreenLock``, or a stand-in."""

    def hold(self, stop: threading.Event) -> AbstractContextManager[object]: ...


class ScreenBusy(RetryableError):
    """The screen stayed locked by another sender for the whole timeout."""


class ScreenLock:
    """The machine-wide screen lock. ``path`` defaults to ``<user data dir>/screen.lock``."""

    def __init__(self, path: Path | str | None = None, *, poll: float = 0.01) -> None:
        self._path = Path(path) if path is not None else None
        self.poll = poll

    @property
    def path(self) -> Path:
        if self._path is None:
            from quarterdeck.core.paths import user_data_dir

            self._path = user_data_dir() / LOCK_FILE_NAME
        return self._path

    def __repr__(self) -> str:
        return f"ScreenLock({str(self.path)!r})"

    def _open(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)

    @contextlib.contextmanager
    def hold(self, stop: threading.Event, timeout: float | None = None) -> Iterator[None]:
        """Hold the lock for the ``with`` body.

        Raises ``Cancelled`` when ``stop`` is set before the lock is won (also when it is set
        on entry), and ``ScreenBusy`` when ``timeout`` seconds pass first.
        """
        fd = self._acquire(stop, timeout)
        try:
            yield
        finally:
            self._release(fd)

    def _acquire(self, stop: threading.Event, timeout: float | None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        fd = self._open()
        try:
            while True:
                if stop.is_set():
                    raise Cancelled("stopped while waiting for the screen lock")
                if _try_lock(fd):
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    raise ScreenBusy(self._busy_reason(timeout))
                stop.wait(self.poll)
        except BaseException:
            os.close(fd)
            raise
        try:
            self._record_holder(fd)
        except OSError:
            self._release(fd)
            raise
        return fd

    def _busy_reason(self, timeout: float | None) -> str:
        pid = self.holder()
        who = f"process {pid}" if pid else "another process"
        return f"screen still locked by {who} after {timeout:g} s"

    @staticmethod
    def _record_holder(fd: int) -> None:
        _overwrite(fd, str(os.getpid()))

    @staticmethod
    def _release(fd: int) -> None:
        try:
            _overwrite(fd, "")
            _unlock(fd)
        finally:
            os.close(fd)

    def holder(self) -> int | None:
        """The pid holding the lock now, or None when it is free (or the holder is unknown)."""
        try:
            fd = self._open()
        except OSError:
            return None
        try:
            if _try_lock(fd):
                _unlock(fd)
                return None
            os.lseek(fd, 0, os.SEEK_SET)
            text = os.read(fd, _PID_WIDTH).decode("ascii", "replace").strip()
        finally:
            os.close(fd)
        return int(text) if text.isdigit() else None
