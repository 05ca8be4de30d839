"""Reading the X11 CLIPBOARD from whichever client owns it, on the selection thread's window.

``SelectionReader.convert(target)`` asks the owner to write ``target`` into a property of our
window; ``take(idle)`` waits for the answer: ``Reply(kind, data)`` (``kind`` the type the owner
gave, ``data`` bytes, or atom names for ATOM lists), ``REFUSED`` when the owner has no such target
or there is no owner, ``TIMEOUT`` when nothing arrived for ``idle`` seconds. Large content comes
by INCR: the owner sends chunks, each after we deleted the previous one, until an empty one.

Each conversion uses the next of a few properties, and a reply that does not match the pending
conversion (a late answer to one given up on) is deleted and ignored, so it can never be taken
for the answer to a later request.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from quarterdeck.core.desktop.clipboard.selection import SelectionOwner

__all__ = ["REFUSED", "TIMEOUT", "NoReply", "Reply", "SelectionReader"]


class NoReply(Enum):
    """Why ``take`` has no ``Reply``."""

    REFUSED = "refused"
    TIMEOUT = "timeout"


REFUSED: Final = NoReply.REFUSED
TIMEOUT: Final = NoReply.TIMEOUT
_PROPERTIES = 4
_MAX_LONGS = 1 << 24


@dataclass(frozen=True)
class Reply:
    kind: str  # the type the owner gave the data, e.g. UTF8_STRING, STRING, image/png, ATOM
    data: bytes | list[str]  # bytes, or a list of atom names for ATOM


@dataclass
class _Pending:
    target: int
    prop: int
    chunks: list[bytes] | None = None  # INCR in progress
    kind: int = 0


class SelectionReader:
    """Lives on an ``SelectionOwner``: ``owner`` gives atoms, the window and the display."""

    def __init__(self, owner: SelectionOwner) -> None:
        self._owner = owner
        self._props = [owner.atom(f"QUARTERDECK_SELECTION_{n}") for n in range(_PROPERTIES)]
        self._next = 0
        self._cond = threading.Condition()
        self._pending: _Pending | None = None
        self._result: Reply | NoReply | None = None
        self._progress = 0.0

    # -- caller side ------------------------------------------------------------------------------
    def take(self, idle: float) -> Reply | NoReply:
        """The answer to the last ``convert``; ``TIMEOUT`` after ``idle`` seconds without progress."""
        with self._cond:
            while self._result is None:
                left = self._progress + idle - time.monotonic()
                if left <= 0:
                    self._pending = None
                    return TIMEOUT
                self._cond.wait(left)
            result, self._result = self._result, None
            return result

    def end(self) -> None:
        """The connection is gone: nothing will answer."""
        with self._cond:
            self._pending = None
            self._result = self._result or TIMEOUT
            self._cond.notify_all()

    # -- on the selection thread ------------------------------------------------------------------
    def convert(self, target: str) -> None:
        owner = self._owner
        prop = self._props[self._next % _PROPERTIES]
        self._next += 1
        with self._cond:
            self._pending, self._result, self._progress = _Pending(owner.atom(target), prop), None, time.monotonic()
        owner.window.convert_selection(owner.clipboard, owner.atom(target), prop, owner.X.CurrentTime)

    def notified(self, ev: Any) -> None:
        """A SelectionNotify for our window."""
        X = self._owner.X
        pending = self._pending
        if pending is None or ev.target != pending.target or ev.property not in (X.NONE, pending.prop):
            if ev.property != X.NONE:
                self._owner.window.delete_property(ev.property)  # a late answer: never read again
            return
        if ev.property == X.NONE:
            self._finish(REFUSED)
            return
        reply = self._owner.window.get_property(pending.prop, X.AnyPropertyType, 0, _MAX_LONGS, delete=1)
        if reply is None:
            self._finish(REFUSED)
        elif reply.property_type == self._owner.atom("INCR"):
            pending.chunks = []  # deleting the property asked the owner for the first chunk
            self._touch()
        else:
            self._finish(self._reply(reply.property_type, reply.format, reply.value))

    def property_changed(self, ev: Any) -> None:
        """A PropertyNotify (new value) on our window: the next INCR chunk."""
        pending = self._pending
        if pending is None or pending.chunks is None or ev.atom != pending.prop:
            return
        X = self._owner.X
        reply = self._owner.window.get_property(pending.prop, X.AnyPropertyType, 0, _MAX_LONGS, delete=1)
        if reply is None:
            return
        data = _bytes(reply.value)
        if data:
            pending.chunks.append(data)
            pending.kind = reply.property_type
            self._touch()
        else:
            self._finish(Reply(self._owner.name(pending.kind) if pending.kind else "", b"".join(pending.chunks)))

    def _reply(self, kind: int, fmt: int, value: Any) -> Reply | NoReply:
        name = self._owner.name(kind)
        if fmt == 32:
            return Reply(name, [self._owner.name(a) for a in value]) if name == "ATOM" else REFUSED
        return Reply(name, _bytes(value)) if fmt == 8 else REFUSED

    def _touch(self) -> None:
        with self._cond:
            self._progress = time.monotonic()

    def _finish(self, result: Reply | NoReply) -> None:
        with self._cond:
            self._pending, self._result = None, result
            self._cond.notify_all()


def _bytes(value: Any) -> bytes:
    """python-xlib decodes format-8 data that is valid UTF-8 into str; this undoes it."""
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)
