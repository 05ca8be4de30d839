"""Small OS file primitives shared by the outbox, the screen lock, the inbox and the roster.

``write_atomically`` replaces a file in one rename, keeping a dated backup of the old one.

``try_lock``/``unlock`` are a non-blocking exclusive lock on an open file (``flock`` on POSIX,
``msvcrt.locking`` on Windows); the OS drops it when the holder dies. On Windows the locked byte
sits at ``offset`` so the rest of the file stays readable. ``fsync_dir`` makes a rename durable;
``fsync_path`` flushes a file or a folder.
"""
from __future__ import annotations

import os
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def try_lock(fd: int, offset: int = 0) -> bool:
        try:
            os.lseek(fd, offset, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def unlock(fd: int, offset: int = 0) -> None:
        os.lseek(fd, offset, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def try_lock(fd: int, offset: int = 0) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def unlock(fd: int, offset: int = 0) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (a new or renamed file in it) to disk; a no-op off POSIX."""
    fsync_path(folder)


def fsync_path(path: str | os.PathLike[str]) -> None:
    """Flush a file's contents, or a folder's entries, to disk (a folder: a no-op off POSIX, where it
    cannot be opened to be flushed)."""
    if os.name != "posix" and os.path.isdir(path):
        return
    fd = os.open(path, os.O_RDONLY if os.name == "posix" else os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, text: str, *, backup: bool = True) -> Path | None:
    """Replace ``path`` with ``text`` in one rename, copying any previous file aside first.

    The backup is ``<name>.bak-<UTC timestamp>`` next to the file. A crash leaves either the old
    or the new file in place, never a half-written one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    backup_path = None
    old_mode = None
    if path.exists():
        old_mode = path.stat().st_mode & 0o7777
        if backup:
            backup_path = _backup_name(path)
            backup_path.write_bytes(path.read_bytes())
            os.chmod(backup_path, old_mode)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if old_mode is not None:
            os.chmod(tmp, old_mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return backup_path


def _backup_name(path: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate = path.with_name(f"{path.name}.bak-{stamp}")
    number = 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}.bak-{stamp}-{number}")
    return candidate
