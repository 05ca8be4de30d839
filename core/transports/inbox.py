"""Deliver by dropping a markdown file into the agent's inbox folder.

Each message is one file, written atomically: a temp file in the same folder is written, flushed
and fsynced, then given its final name, and the folder itself is fsynced so the name survives a
crash. The final name is taken with a hard link (which, unlike a rename, never replaces an existing
file), falling back to ``os.replace`` where the file system has no hard links. A reader therefore
never sees a half-written message, no message overwrites another, and a receipt is confirmed only
after both fsyncs returned.

File name: ``<UTC time>-<priority>-<message id>.md``, e.g.
``20250901T142233.123456Z-urgent-msg_42.md``: names sort by arrival and urgent ones stand out.
Content: ``quarterdeck.core.transports.inbox_text`` (front matter, then the text as given).

A batch of files (``quarterdeck.core.batch``) goes the same way in steps: every file written under
its temp name (``stage``), all made durable together (``quarterdeck.core.flush``), then each named
(``name``), then the folders flushed together: whole files, a few flushes per batch.

The temp file is opened exclusively (``O_CREAT | O_EXCL``) under a name this process makes up
(``.incoming-<pid>-<n>.tmp``; another name is drawn if a dead process left that one). A delivery's
receipt says ``written to <folder>/<file name>``: :func:`split_written` tells the folder (the
roster's words) from the file name this transport made (a time, a priority word and an id).
"""
from __future__ import annotations

import contextlib
import errno
import itertools
import os
import re
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from quarterdeck.core.delivery.contract import DeliveryRequest, Receipt
from quarterdeck.core.delivery.errors import SUBMITTED, Cancelled, PermanentError, RetryableError
from quarterdeck.core.fileops import fsync_dir, fsync_path
from quarterdeck.core.transports.inbox_text import WRITTEN, message_type, parse_message, render, split_written

__all__ = ["InboxDelivery", "Staged", "message_type", "parse_message", "render", "split_written"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_PERMANENT_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG}
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}
_TEMP_NUMBERS = itertools.count()
_LEFT = re.compile(r"\.incoming-(\d+)-\d+\.tmp")  # a temp name ``_open_temp`` gives: the pid that wrote it


class Staged(NamedTuple):
    """A file written under its temp name (``InboxDelivery.stage``), and the name it is to get."""

    temp: str
    name: str


class InboxDelivery:
    """Write each message as a file into ``path``.

    A missing inbox folder is created when its parent folder exists; a missing parent usually means
    a mistyped path, so that is a permanent error naming it.
    """

    kind = "inbox"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path).expanduser()

    def __repr__(self) -> str:
        return f"InboxDelivery({str(self.path)!r})"

    def check(self) -> str | None:
        folder = self.path
        if folder.exists() and not folder.is_dir():
            return f"inbox {folder} is not a folder"
        if not folder.exists():
            if not folder.parent.is_dir():
                return f"inbox {folder} is missing and so is its parent folder"
            folder = folder.parent
        if not os.access(folder, os.W_OK | os.X_OK):
            return f"inbox {folder} is not writable"
        return None

    def deliver(self, request: DeliveryRequest, stop: threading.Event) -> Receipt:
        if stop.is_set():
            raise Cancelled("stopped before writing to the inbox")
        final = self.write(request, datetime.now(UTC))
        self.sync_folder()
        return self.receipt(final)

    def sync_folder(self) -> None:
        """fsync the folder, so the names of the files written in it survive a crash."""
        try:
            fsync_dir(self.path)
        except OSError as exc:
            raise self._classify(exc) from exc

    def receipt(self, final: Path) -> Receipt:
        """What a delivery written to ``final`` (file and folder fsynced) vouches for."""
        return Receipt(self.kind, SUBMITTED, "written and fsynced", f"{WRITTEN}{final}")

    def write(self, request: DeliveryRequest, now: datetime) -> Path:
        """Write ``request``'s file, named for ``now``, and fsync it; not the folder: the caller does.
        An error means no file of it was given its name."""
        staged = self.stage(request, now)
        try:
            fsync_path(staged.temp)
        except OSError as exc:
            self.discard(staged)
            raise self._classify(exc) from exc
        return self.name(staged)

    # -- a file in steps: written, made durable (one at a time above, a batch's together), named --
    def stage(self, request: DeliveryRequest, now: datetime) -> Staged:
        """Write ``request``'s file under a temp name, not flushed: the caller makes the round's files
        durable together (``quarterdeck.core.flush``), then names each (``name``) or drops it
        (``discard``). An error means nothing of it is left."""
        data, name = render(request, now), self._file_name(request, now)
        try:
            try:
                fd, temp = self._open_temp(os.fspath(self.path))
            except (FileNotFoundError, NotADirectoryError):  # no folder yet, or not a folder: made, or said why
                self.ensure_folder()
                fd, temp = self._open_temp(os.fspath(self.path))
            try:
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view):]
                finally:
                    os.close(fd)
            except BaseException:
                self.discard(Staged(temp, name))
                raise
        except OSError as exc:
            raise self._classify(exc) from exc
        return Staged(temp, name)

    def name(self, staged: Staged) -> Path:
        """Give a staged file (made durable) its final name; the folder is the caller's to flush."""
        try:
            return Path(self._publish(staged.temp, os.fspath(self.path), staged.name))
        except OSError as exc:
            raise self._classify(exc) from exc
        finally:
            self.discard(staged)

    @staticmethod
    def discard(staged: Staged) -> None:
        """Remove a staged file's temp name (once named, the file keeps its final one)."""
        with contextlib.suppress(OSError):
            os.unlink(staged.temp)

    @staticmethod
    def _file_name(request: DeliveryRequest, now: datetime) -> str:
        ident = _UNSAFE.sub("_", request.message_id).strip("._")[:80] or uuid.uuid4().hex[:8]
        return f"{now.strftime('%Y%m%dT%H%M%S.%fZ')}-{request.priority}-{ident}.md"

    def ensure_folder(self) -> None:
        """Make the folder unless it is there (its parent flushed, so its name survives a crash); an
        error says why it cannot be."""
        folder = self.path
        try:  # a parent that cannot be entered: is_dir raises too
            if folder.is_dir():
                return
            if not folder.exists() and not folder.parent.is_dir():
                raise PermanentError(f"inbox {folder} is missing and so is its parent folder")
            folder.mkdir(mode=0o700, exist_ok=True)  # private, like the message files (0600)
        except FileExistsError:
            raise PermanentError(f"inbox {folder} exists but is not a folder") from None
        except OSError as exc:
            raise self._classify(exc) from exc
        try:
            fsync_dir(folder.parent)  # the new folder's name survives a crash, with the files put in it
        except OSError as exc:
            with contextlib.suppress(OSError):  # made again (and flushed) by the next try, not taken as it is
                folder.rmdir()
            raise self._classify(exc) from exc

    def sweep_leftovers(self) -> int:
        """Remove the temp files of processes that are gone (killed between writing a file and naming
        it: the message was never delivered from it); returns how many. A running process's file in
        progress, and any file whose writer cannot be told, are left alone. POSIX only (a pid is asked
        with signal 0)."""
        if os.name != "posix":
            return 0
        try:
            names = os.listdir(self.path)
        except OSError:
            return 0
        removed = 0
        for name in names:
            if (left := _LEFT.fullmatch(name)) is None or _running(int(left[1])):
                continue
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(self.path, name))
                removed += 1
        return removed

    @staticmethod
    def _open_temp(folder: str) -> tuple[int, str]:
        """A new temp file in the folder, private (0600), opened for writing only by this call."""
        temp = os.path.join(folder, f".incoming-{os.getpid()}-{next(_TEMP_NUMBERS)}.tmp")
        while True:
            try:
                return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600), temp
            except FileExistsError:  # left by a process that had this pid
                temp = os.path.join(folder, f".incoming-{uuid.uuid4().hex}.tmp")

    @staticmethod
    def _publish(temp: str, folder: str, name: str) -> str:
        """Give the finished temp file its final name without ever replacing another message."""
        final = os.path.join(folder, name)
        while True:
            try:
                os.link(temp, final)
                return final
            except FileExistsError:
                final = os.path.join(folder, f"{name[:-3]}-{uuid.uuid4().hex[:8]}.md")
            except OSError as exc:
                if exc.errno not in _NO_HARD_LINKS:
                    raise
                if os.path.exists(final):
                    final = os.path.join(folder, f"{name[:-3]}-{uuid.uuid4().hex[:8]}.md")
                os.replace(temp, final)
                return final

    def _classify(self, exc: OSError) -> PermanentError | RetryableError:
        reason = exc.strerror or str(exc)
        if exc.errno in _PERMANENT_ERRNOS:
            return PermanentError(f"inbox {self.path} is not writable: {reason}")
        return RetryableError(f"writing to inbox {self.path} failed: {reason}")


def _running(pid: int) -> bool:
    """Whether a process with ``pid`` runs (this one does; one of another user's counts)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, as another user's
        return True
    return True
