"""Making many written files durable at once: one ``syncfs`` per file system, not an fsync per file.

Each fsync of a new file is a journal commit and a flush of the disk's cache, and a machine manages
only one or two thousand of those a second, whatever the files' size: an inbox round of seven
files made durable one fsync at a time took about 10 ms here, and three relays at 1,000 messages a
second spent the disk's whole flush budget on them. Linux's ``syncfs(2)`` makes everything written
to one file system durable with one commit and one flush. Python's ``os`` module has ``sync`` (every
file system on the machine) but no ``syncfs``, and no maintained package binds it, so it is called
here through ``ctypes``.

``durable(fds, paths)``: each of ``fds`` and ``paths`` (written files, or folders whose entries
changed) is on disk when it returns, or its error says why not. Those on one file system, when
there are at least ``SYNCFS_FROM`` of them, take one ``syncfs`` (which also reports a write-back
error of any file there since the descriptor was opened); the rest, and all of them where
``syncfs`` is missing (off Linux) or refused (a file system without it), an fsync each. A ``syncfs``
also flushes what other programs wrote to that file system and did not flush yet, so a lone file
is fsynced on its own.
"""
from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Callable, Sequence

__all__ = ["SYNCFS_FROM", "durable", "syncfs_available"]

SYNCFS_FROM = 2  # descriptors on one file system from which one syncfs serves them all
_UNSUPPORTED = {errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP}  # a file system that cannot: fsync each


def _load_syncfs() -> Callable[[int], int] | None:
    if os.name != "posix":
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        call = libc.syncfs
    except (OSError, AttributeError, TypeError):  # not Linux (or a libc without it)
        return None
    call.argtypes = [ctypes.c_int]
    call.restype = ctypes.c_int
    return call


_SYNCFS = _load_syncfs()


def syncfs_available() -> bool:
    return _SYNCFS is not None


def _syncfs(fd: int) -> None:
    assert _SYNCFS is not None
    if _SYNCFS(fd) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def durable(fds: Sequence[int], paths: Sequence[str | os.PathLike[str]] = ()) -> list[OSError | None]:
    """Flush each of ``fds``, and each file or folder of ``paths`` (opened read-only here), to disk; per
    descriptor then per path, None or the error that kept it from being flushed (or opened)."""
    opened: list[int] = []
    failed: dict[int, OSError] = {}  # index in ``paths`` -> why it could not be opened
    for i, path in enumerate(paths):
        try:
            opened.append(os.open(path, os.O_RDONLY))
        except OSError as exc:
            failed[i] = exc
    try:
        flushed = iter(_durable([*fds, *opened]))
    finally:
        for fd in opened:
            os.close(fd)
    return [*(next(flushed) for _ in fds), *(failed[i] if i in failed else next(flushed) for i in range(len(paths)))]


def _durable(fds: Sequence[int]) -> list[OSError | None]:
    errors: list[OSError | None] = [None] * len(fds)
    groups: dict[int, list[int]] = {}  # file system -> indexes of its descriptors
    if _SYNCFS is not None and len(fds) >= SYNCFS_FROM:
        for i, fd in enumerate(fds):
            try:
                groups.setdefault(os.fstat(fd).st_dev, []).append(i)
            except OSError as exc:
                errors[i] = exc
    else:
        groups = {i: [i] for i in range(len(fds))}
    for indexes in groups.values():
        if len(indexes) >= SYNCFS_FROM:
            try:
                _syncfs(fds[indexes[0]])
                continue
            except OSError as exc:
                if exc.errno not in _UNSUPPORTED:
                    for i in indexes:
                        errors[i] = exc
                    continue
        for i in indexes:  # alone on its file system, or one that cannot syncfs: each its own fsync
            try:
                os.fsync(fds[i])
            except OSError as exc:
                errors[i] = exc
    return errors
