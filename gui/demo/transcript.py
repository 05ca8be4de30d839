"""What a demo agent received, as a file: one record per submission, durable at once.

The file is the proof a delivery arrived: the x11 tests compare it byte for byte with what was
sent, so each record is written whole, flushed and fsynced before the next. Format::

    --- message 1 · 2025-01-31T12:00:00 · normal ---
    <the submitted text exactly, newlines and all>
    --- new chat · 2025-01-31T12:00:05 ---

A header line starts each record; the text follows and one ``\\n`` ends it. A submitted line that
looks exactly like a header would be read back as one; real messages never do.

``FileWorker`` does the writing (records, and the swarm's roster) on its own thread, in the order
asked, so the chat windows' UI thread never waits for the disk. This module is Qt-free.
"""
from __future__ import annotations

import functools
import os
import queue
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

__all__ = ["Entry", "FileWorker", "message_record", "new_chat_record", "parse_transcript"]

NEW_CHAT = "new chat"
_HEADER = re.compile(r"^--- (?:message (?P<number>\d+)|new chat) · (?P<at>\S+)"
                     r"(?: · (?P<priority>normal|urgent))? ---$", re.MULTILINE)


@dataclass(frozen=True)
class Entry:
    """One record: a submission (``kind == "message"``) or a new-chat marker (empty ``text``)."""

    kind: str
    at: str
    text: str = ""
    number: int = 0
    urgent: bool = False


def _stamp(at: datetime | None) -> str:
    return (at or datetime.now()).isoformat(timespec="seconds")


def message_record(number: int, text: str, *, urgent: bool = False, at: datetime | None = None) -> str:
    """The bytes (as text) appended for the ``number``-th submission."""
    priority = "urgent" if urgent else "normal"
    return f"--- message {number} · {_stamp(at)} · {priority} ---\n{text}\n"


def new_chat_record(at: datetime | None = None) -> str:
    return f"--- {NEW_CHAT} · {_stamp(at)} ---\n"


def parse_transcript(text: str) -> list[Entry]:
    """The records of a transcript file, in order (text before the first header is ignored)."""
    headers = list(_HEADER.finditer(text))
    entries = []
    for index, match in enumerate(headers):
        end = headers[index + 1].start() if index + 1 < len(headers) else len(text)
        if match["number"] is None:
            entries.append(Entry(NEW_CHAT, match["at"]))
            continue
        body = text[match.end() + 1:end]
        entries.append(Entry("message", match["at"], body.removesuffix("\n"), int(match["number"]),
                             match["priority"] == "urgent"))
    return entries


class FileWorker:
    """Runs file writes on one background thread, in order; ``close()`` finishes what is queued."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Callable[[], object] | threading.Event | None] = queue.Queue()
        self._errors: list[str] = []
        self._thread = threading.Thread(target=self._run, name="demo-files", daemon=True)
        self._thread.start()

    @property
    def errors(self) -> list[str]:
        """Writes that failed (the demo keeps running; the file then lacks those records)."""
        return list(self._errors)

    def call(self, fn: Callable[[], object]) -> None:
        """Run ``fn`` on the worker thread after everything queued before it."""
        self._queue.put(fn)

    def append(self, path: Path, record: str) -> None:
        self.call(functools.partial(_write, Path(path), record, "a"))

    def reset(self, path: Path) -> None:
        """Empty ``path`` (queued like an append, so it lands before any later record)."""
        self.call(functools.partial(_write, Path(path), "", "w"))

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far is done; False if that took over ``timeout``."""
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if isinstance(item, threading.Event):
                item.set()
                continue
            try:
                item()
            except Exception as exc:  # kept, not raised: the thread must go on writing
                self._errors.append(f"{type(exc).__name__}: {exc}")


def _write(path: Path, record: str, mode: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, mode, encoding="utf-8", newline="") as handle:
        handle.write(record)
        handle.flush()
        os.fsync(handle.fileno())
