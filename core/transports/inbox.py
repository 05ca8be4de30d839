"""Deliver by dropping a markdown file into the agent's inbox folder.

Each message is one file, written atomically: a temp file in the same folder is written, flushed
and fsynced, then given its final name, and the folder itself is fsynced so the name survives a
crash. The final name is taken with a hard link (which, unlike a rename, never replaces an existing
file), falling back to ``os.replace`` where the file system has no hard links. A reader therefore
never sees a half-written message, no message overwrites another, and a receipt is confirmed only
after both fsyncs returned.

File name: ``<UTC time>-<priority>-<message id>.md``, e.g.
``20250901T142233.123456Z-urgent-msg_42.md``: names sort by arrival and urgent ones stand out.
Content: YAML front matter (sender, recipients, priority, id, time, type) between ``---`` lines,
then the message text exactly as given (UTF-8, no newline translation). The front matter is the
text PyYAML's ``safe_dump`` writes for that mapping; the usual header (names, words and hex ids a
YAML reader takes as strings) is put together directly, the same text without the dumper's cost.

The temp file is opened exclusively (``O_CREAT | O_EXCL``) under a name this process makes up
(``.incoming-<pid>-<n>.tmp``; another name is drawn if a dead process left that one). A delivery's
receipt says ``written to <folder>/<file name>``: :func:`split_written` tells the folder (the
roster's words) from the file name this transport made (a time, a priority word and an id).
"""
from __future__ import annotations

import contextlib
import errno
import functools
import itertools
import os
import re
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from quarterdeck.core.delivery.contract import DeliveryRequest, Receipt
from quarterdeck.core.delivery.errors import SUBMITTED, Cancelled, PermanentError, RetryableError
from quarterdeck.core.fileops import fsync_dir

__all__ = ["InboxDelivery", "message_type", "parse_message", "render", "split_written"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_PERMANENT_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG}
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}
_FENCE = b"---\n"
# libyaml's emitter where PyYAML has it (a quarter of a relay's time per inbox delivery went to the
# pure-Python one); the same text either way
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_RESOLVER = yaml.resolver.Resolver()
_STR = "tag:yaml.org,2002:str"
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")  # written bare by the dumper when read back as a string
_TIME = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+\+00:00")  # a UTC isoformat(): the dumper single-quotes it
_WRITTEN = "written to "
# a name ``_file_name`` gives (and ``_publish``'s suffix when it was taken): a time, a word, an id
_OUR_NAME = re.compile(r"/(\d{8}T\d{6}\.\d{6}Z-[a-z]+-[A-Za-z0-9._-]{1,90}\.md)")
_TEMP_NUMBERS = itertools.count()


def message_type(request: DeliveryRequest) -> str:
    """``onboarding``, ``broadcast`` (more than one recipient) or ``message``."""
    if request.onboarding:
        return "onboarding"
    return "broadcast" if len(request.recipients) > 1 else "message"


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def render(request: DeliveryRequest, now: datetime) -> bytes:
    """The file's bytes: front matter, then ``request.text`` unchanged."""
    header = {
        "sender": request.sender,
        "recipients": list(request.recipients),
        "priority": request.priority,
        "message_id": request.message_id,
        "time": _utc(request.created_at or now).isoformat(),
        "type": message_type(request),
    }
    front = _front(header)
    if front is None:
        front = yaml.dump(header, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return _FENCE + front.encode("utf-8") + _FENCE + request.text.encode("utf-8")


def _front(header: dict[str, Any]) -> str | None:
    """The dumper's text for the usual header, put together directly; None when a value is not one
    whose text is certain here (the dumper writes that header)."""
    sender, priority, message_id, kind = (_bare(header[k]) for k in ("sender", "priority", "message_id", "type"))
    recipients = [_bare(r) for r in header["recipients"]]
    time_text = header["time"]
    if None in (sender, priority, message_id, kind) or None in recipients or not recipients \
            or not _TIME.fullmatch(time_text):
        return None
    listed = "".join(f"- {r}\n" for r in recipients)
    return (f"sender: {sender}\nrecipients:\n{listed}priority: {priority}\nmessage_id: {message_id}\n"
            f"time: '{time_text}'\ntype: {kind}\n")


@functools.lru_cache(maxsize=512)  # names and words repeat in every header
def _bare(value: object) -> str | None:
    """``value`` as the dumper writes it bare (a plain scalar read back as the same string), else None."""
    if not isinstance(value, str) or not _PLAIN.fullmatch(value):
        return None
    tag = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return value if tag == _STR else None


def split_written(text: str) -> tuple[str, str] | None:
    """``written to <folder>/<name>`` (a receipt's detail) as (``written to <folder>/``, name) when the
    name is one this transport gives; else None."""
    if not text.startswith(_WRITTEN):
        return None
    found = _OUR_NAME.search(text)
    if found is None or found.end() != len(text):
        return None
    return text[: found.start(1)], found.group(1)


def parse_message(data: bytes) -> tuple[dict[str, Any], str]:
    """Split an inbox file's bytes into (header, text); the inverse of what ``deliver`` writes."""
    if not data.startswith(_FENCE):
        raise ValueError("not an inbox message: no front matter")
    end = data.find(b"\n" + _FENCE, len(_FENCE) - 1)
    if end < 0:
        raise ValueError("not an inbox message: front matter is not closed")
    header = yaml.safe_load(data[len(_FENCE) : end + 1].decode("utf-8")) or {}
    return header, data[end + 1 + len(_FENCE) :].decode("utf-8")


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
        return Receipt(self.kind, SUBMITTED, "written and fsynced", f"{_WRITTEN}{final}")

    def write(self, request: DeliveryRequest, now: datetime) -> Path:
        """Write ``request``'s file, named for ``now``, and fsync it; not the folder: the caller does
        (``deliver`` at once; a batch once per folder after its files). An error means no file of it
        was given its name."""
        data, name = render(request, now), self._file_name(request, now)
        try:
            try:
                return self._write_atomically(name, data)
            except (FileNotFoundError, NotADirectoryError):  # no folder yet, or not a folder: made, or said why
                self._ensure_folder()
                return self._write_atomically(name, data)
        except OSError as exc:
            raise self._classify(exc) from exc

    @staticmethod
    def _file_name(request: DeliveryRequest, now: datetime) -> str:
        ident = _UNSAFE.sub("_", request.message_id).strip("._")[:80] or uuid.uuid4().hex[:8]
        return f"{now.strftime('%Y%m%dT%H%M%S.%fZ')}-{request.priority}-{ident}.md"

    def _ensure_folder(self) -> None:
        folder = self.path
        if folder.is_dir():
            return
        if not folder.exists() and not folder.parent.is_dir():
            raise PermanentError(f"inbox {folder} is missing and so is its parent folder")
        try:
            folder.mkdir(mode=0o700, exist_ok=True)  # private, like the message files (0600)
            fsync_dir(folder.parent)  # the new folder's name survives a crash, with the files put in it
        except FileExistsError:
            raise PermanentError(f"inbox {folder} exists but is not a folder") from None
        except OSError as exc:
            raise self._classify(exc) from exc

    def _write_atomically(self, name: str, data: bytes) -> Path:
        folder = os.fspath(self.path)  # plain strings below: a Path per system call costs more than the call
        fd, temp = self._open_temp(folder)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            final = self._publish(temp, folder, name)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        return Path(final)

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
