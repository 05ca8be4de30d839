"""The X11 CLIPBOARD selection, owned and read through this process's own X connection.

On X11 a clipboard holds nothing: the owner answers each paste. ``SelectionOwner`` is such an
owner, with an unmapped window on a private connection that an ``XThread`` drives (other
threads hand it work with ``call``). It knows what each paste took:

- a request for a text target is answered by writing the property the requestor named and
  sending it the notification; the requestor then reads the property and deletes it (ICCCM).
  Watching for that deletion tells ``wait_taken`` that the window *has* the text, so the
  submit key never overtakes it. A requestor that never deletes counts as served after
  ``unconfirmed`` seconds. Text larger than one request goes out in INCR chunks, each sent once
  the previous one was deleted.
- ``SelectionClear`` (someone copied something else) marks the contents ``lost``.
- ``convert`` asks the current owner for a target, for saving the user's clipboard. A reply by
  INCR is reported as such (the caller reads it another way).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.delivery.xthread import XThread

__all__ = ["INCR_REPLY", "Contents", "SelectionOwner"]

CHUNK = 64 * 1024
INCR_REPLY = object()  # take_converted(): the owner answered with INCR
_REFUSED = object()
_MAX_LONGS = 1 << 24


@dataclass
class _Transfer:
    requestor: int
    prop: int
    served_at: float
    kind: int  # the type atom of the data
    rest: bytes | None = None  # INCR: still to send (b"" sends the closing empty chunk)
    taken: bool = False


@dataclass
class Contents:
    """What this process offers: ``targets`` maps a target name to (type name, bytes)."""

    targets: dict[str, tuple[str, bytes]]
    text: bool = True  # pastes of it are watched until read (False: a snapshot handed back)
    lost: bool = False
    transfers: list[_Transfer] = field(default_factory=list)


class SelectionOwner:
    """See the module docstring. ``unconfirmed``: how long a never-deleted reply counts as unread."""

    def __init__(self, *, display_name: str | None = None, unconfirmed: float = 0.05) -> None:
        from Xlib import X

        self._X = X
        self.x = XThread(self._handle, display_name=display_name, name="x11-clipboard", on_end=self._ended)
        self._d = self.x.display
        root = self._d.screen().root
        self._win = root.create_window(-10, -10, 1, 1, 0, X.CopyFromParent, X.InputOnly,
                                       X.CopyFromParent, event_mask=X.PropertyChangeMask)
        self._atoms: dict[str, int] = {}
        self._names: dict[int, str] = {}
        self.clipboard = self.atom("CLIPBOARD")
        self._prop = self.atom("QUARTERDECK_SELECTION")
        self.unconfirmed = unconfirmed
        self.cond = threading.Condition()
        self.contents: Contents | None = None
        self._converted: Any = None
        self._converting = 0  # the target asked for by the last convert()
        self.x.start()

    def call(self, fn: Callable[[], Any], timeout: float = 5.0) -> Any:
        return self.x.call(fn, timeout)

    def _ended(self) -> None:
        with self.cond:
            if self.contents is not None:
                self.contents.lost = True
            self.cond.notify_all()

    def wait_taken(self, contents: Contents, mark: int, timeout: float) -> bool:
        """True once a text transfer numbered ``mark`` or later was read (see the module docstring)."""
        deadline = time.monotonic() + timeout

        def done() -> bool:
            late = time.monotonic() - self.unconfirmed
            return any(t.taken or (t.rest is None and t.served_at <= late) for t in contents.transfers[mark:])

        with self.cond:
            while not done():
                if contents.lost:
                    return False
                pending = contents.transfers[mark:]
                now = time.monotonic()
                wake = min([deadline] + [t.served_at + self.unconfirmed for t in pending if t.rest is None])
                if now >= deadline:
                    return False
                self.cond.wait(max(wake - now, 0.001))
            return True

    # -- on the selection thread ----------------------------------------------------------------
    def atom(self, name: str) -> int:
        if name not in self._atoms:
            value = self._d.intern_atom(name)
            self._atoms[name], self._names[value] = value, name
        return self._atoms[name]

    def name(self, atom: int) -> str:
        if atom not in self._names:
            self._names[atom] = self._d.get_atom_name(atom)
        return self._names[atom]

    def owned(self) -> bool:
        owner = self._d.get_selection_owner(self.clipboard)
        return getattr(owner, "id", owner) == self._win.id

    def own(self, contents: Contents | None) -> bool:
        """Offer ``contents`` (None: give the clipboard up); True when the server made us owner."""
        with self.cond:
            if self.contents is not None:
                self.contents.lost = True
            self.contents = contents
            self.cond.notify_all()
        if contents is None:
            self._release()
            return True
        self._win.set_selection_owner(self.clipboard, self._X.CurrentTime)
        return self.owned()

    def _release(self) -> None:
        from Xlib.protocol import request

        request.SetSelectionOwner(display=self._d.display, window=self._X.NONE, selection=self.clipboard,
                                  time=self._X.CurrentTime)

    def convert(self, target: str) -> None:
        """Ask the owner for ``target``; the answer lands in ``converted`` (see ``take_converted``)."""
        with self.cond:
            self._converted, self._converting = None, self.atom(target)
        self._win.convert_selection(self.clipboard, self._converting, self._prop, self._X.CurrentTime)
        self._d.flush()

    def take_converted(self, timeout: float) -> Any:
        """bytes, None (refused or empty), ``INCR_REPLY``, or None after ``timeout``."""
        with self.cond:
            self.cond.wait_for(lambda: self._converted is not None, timeout)
            value, self._converted = self._converted, None
        return None if value is _REFUSED else value

    def _handle(self, ev: Any) -> None:
        X = self._X
        if ev.type == X.SelectionRequest:
            self._answer(ev)
        elif ev.type == X.SelectionClear and ev.atom == self.clipboard:
            with self.cond:
                if self.contents is not None:
                    self.contents.lost = True
                self.contents = None
                self.cond.notify_all()
        elif ev.type == X.SelectionNotify and ev.requestor.id == self._win.id and ev.target == self._converting:
            self._converted_arrived(ev)
        elif ev.type == X.PropertyNotify and ev.state == X.PropertyDelete:
            self._deleted(ev.window.id, ev.atom)

    def _converted_arrived(self, ev: Any) -> None:
        value: Any = _REFUSED
        if ev.property != self._X.NONE:
            reply = self._win.get_property(ev.property, self._X.AnyPropertyType, 0, _MAX_LONGS, delete=1)
            if reply is not None and reply.property_type == self.atom("INCR"):
                value = INCR_REPLY
            elif reply is not None and reply.format == 32:
                value = [self.name(a) for a in reply.value]
            elif reply is not None:  # python-xlib decodes valid UTF-8 into str
                data = reply.value
                value = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        with self.cond:
            self._converted = value
            self.cond.notify_all()

    def _answer(self, ev: Any) -> None:
        from Xlib.protocol import event

        X = self._X
        prop = ev.property if ev.property != X.NONE else ev.target  # an obsolete requestor
        contents = self.contents if ev.selection == self.clipboard else None
        target = self.name(ev.target)
        if contents is None or contents.lost:
            prop = X.NONE
        elif target == "TARGETS":
            atoms = [self.atom(n) for n in ("TARGETS", *contents.targets)]
            ev.requestor.change_property(prop, self.atom("ATOM"), 32, atoms)
        elif target in contents.targets:
            self._send(ev.requestor, prop, contents, *contents.targets[target])
        else:
            prop = X.NONE
        ev.requestor.send_event(event.SelectionNotify(
            time=ev.time, requestor=ev.requestor, selection=ev.selection, target=ev.target, property=prop))
        self._d.flush()

    def _send(self, requestor: Any, prop: int, contents: Contents, kind: str, data: bytes) -> None:
        incr = len(data) > CHUNK
        if not incr and not contents.text:  # a snapshot handed back: nobody waits on its pastes
            requestor.change_property(prop, self.atom(kind), 8, data)
            return
        requestor.change_attributes(event_mask=self._X.PropertyChangeMask)  # to see it read
        transfer = _Transfer(requestor.id, prop, time.monotonic(), self.atom(kind), data if incr else None)
        if incr:
            requestor.change_property(prop, self.atom("INCR"), 32, [len(data)])
        else:
            requestor.change_property(prop, transfer.kind, 8, data)
        with self.cond:
            contents.transfers.append(transfer)

    def _deleted(self, window: int, prop: int) -> None:
        contents = self.contents
        pending = [t for t in contents.transfers if t.requestor == window and not t.taken] if contents else []
        for transfer in pending:
            if transfer.prop != prop:
                continue
            requestor = self._d.create_resource_object("window", window)
            if transfer.rest is not None:  # INCR: the next chunk; an empty one closes the transfer
                chunk = transfer.rest[:CHUNK]
                transfer.rest = transfer.rest[CHUNK:] if chunk else None
                requestor.change_property(prop, transfer.kind, 8, chunk)
                return
            with self.cond:
                transfer.taken = True
                self.cond.notify_all()
            if len(pending) == 1:
                requestor.change_attributes(event_mask=0)
            return
