"""Making many written files durable at once: one ``syncfs`` per file system, not an fsync per file.

Each fsync of a new file is a journal commit and a flush of the disk's cache, and a machine manages
only one or two thousand of those a second, whatever the files' size: an inbox round of seven
files made durable one fsync at a time took about 10 ms here, and three relays at 1,000 messages a
second spent the disk's whole flush budget on them. Linux's ``syncfs(2)`` makes everything written
to one file system durable with one commit and one flush. Python's ``os`` module has ``sync`` (every
file system on the machine) but no ``syncfs``, and no maintained package binds it, so it is called
here through ``ctypes``.

``durable(paths, anchors)``: each of ``paths`` (files written, folders whose entries changed) is on
disk when it returns, or its error says why not. The paths on one file system, when there are at
least ``together`` of them, take one ``syncfs``, through the descriptor ``anchor`` keeps for that file
system; every other path an fsync of its own (opened read-only here). ``anchor`` keeps one only
where a ``syncfs`` can be trusted: this kernel's reports a failed write-back (Linux 5.8 and later;
before, it returned 0 whatever happened) and the file system is one whose ``syncfs`` flushes to the
disk (``SYNCFS_TYPES``: some, FUSE ones among them, return 0 and flush nothing). A ``syncfs`` also
flushes what other programs wrote to that file system and did not flush yet, so a lone file is
fsynced on its own. Off POSIX a folder cannot be opened to be flushed: it is left as it is.
"""
from __future__ import annotations

import ctypes
import os
import platform
import re
from collections.abc import Callable, Mapping, Sequence

from quarterdeck.core.fileops import fsync_path

__all__ = ["SYNCFS_FROM", "SYNCFS_TYPES", "anchor", "durable", "syncfs_available", "type_of"]

SYNCFS_FROM = 2  # paths on one file system from which one syncfs serves them all
SYNCFS_TYPES = frozenset({"ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs", "tmpfs"})


def _load_syncfs() -> Callable[[int], int] | None:
    if os.name != "posix":
        return None
    found = re.match(r"(\d+)\.(\d+)", platform.release())
    if platform.system() != "Linux" or found is None or (int(found[1]), int(found[2])) < (5, 8):
        return None  # before 5.8 a failed write-back was not reported by syncfs
    try:
        call = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError, TypeError):  # a libc without it
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


def type_of(device: int, mountinfo: str = "/proc/self/mountinfo") -> str:
    """The type of the file system mounted from ``device`` (by its major:minor in ``mountinfo``); "" when
    none is (a btrfs subvolume or an overlay reports a device no mount names: then no syncfs)."""
    wanted = f"{os.major(device)}:{os.minor(device)}"
    try:
        with open(mountinfo, encoding="utf-8", errors="surrogateescape") as mounts:
            for line in mounts:
                fields = line.split()
                if len(fields) > 2 and fields[2] == wanted and " - " in line:
                    return line.split(" - ", 1)[1].split()[0]
    except OSError:
        pass
    return ""


def anchor(anchors: dict[int, int], folder: str | os.PathLike[str]) -> bool:
    """Keep in ``anchors`` a descriptor of ``folder``'s file system when a ``syncfs`` can be trusted
    there (one per file system, open until the caller closes them: it keeps that file system mounted,
    and its device number is not reused meanwhile). A ``syncfs`` through it reports a failed write-back
    since it was opened or last flushed, even one another program's ``syncfs`` saw first. False when
    the folder could not be looked at (not there yet: ask again once it is); else True (also where
    no ``syncfs`` is trusted at all: there is nothing to keep)."""
    if _SYNCFS is None:
        return True
    try:
        device = os.stat(folder).st_dev
        if device not in anchors:  # -1: looked up, not trusted (mountinfo is read once per file system)
            anchors[device] = os.open(folder, os.O_RDONLY) if type_of(device) in SYNCFS_TYPES else -1
    except OSError:
        return False
    return True


def durable(paths: Sequence[str | os.PathLike[str]], anchors: Mapping[int, int],
            *, together: int = SYNCFS_FROM) -> list[OSError | None]:
    """Flush each of ``paths`` to disk (see the module docstring); per path, None or the error that kept
    it from being flushed. The paths of a file system in ``anchors`` (``anchor``), when at least
    ``together``, take one ``syncfs`` through its descriptor; every other path an fsync of its own."""
    errors: list[OSError | None] = [None] * len(paths)
    groups: dict[int, list[int]] = {}  # file system (or -1 - index: a path on its own) -> indexes
    for i, path in enumerate(paths):
        try:
            device = os.stat(path).st_dev if anchors and len(paths) >= together else -1 - i
        except OSError as exc:
            errors[i] = exc
            continue
        groups.setdefault(device if anchors.get(device, -1) >= 0 else -1 - i, []).append(i)
    for device, indexes in groups.items():
        if device >= 0 and len(indexes) >= together:
            try:
                _syncfs(anchors[device])
            except OSError as exc:
                for i in indexes:
                    errors[i] = exc
            continue
        for i in indexes:  # alone on its file system, or one whose syncfs cannot be trusted: each its own
            try:
                fsync_path(paths[i])
            except OSError as exc:
                errors[i] = exc
    return errors
