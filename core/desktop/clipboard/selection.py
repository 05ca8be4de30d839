"""The X11 CLIPBOARD selection, owned and read through this process's own X connection.

On X11 a clipboard holds nothing: the owner answers each paste. ``SelectionOwner`` is such an
owner, with an unmapped window on a private connection that an ``XThread`` drives (other
threads hand it work with ``call``). It knows what each paste took:

- a request for a text target is answered by writing the property the requestor named and
  sending it the notification; the requestor then reads the property and deletes it (ICCCM).
  Watching for that deletion tells ``wait_taken`` that the window *has* the text, so the submit
  key never overtakes it. A requestor that never deletes counts as served after ``unconfirmed``
  seconds. Text larger than one request goes out in INCR chunks, each once the previous one
  was deleted. Transfers in flight are kept per (window, property), whatever the offer is now,
  and forgotten when their window is destroyed, so a reused window id never gets a stale chunk.
- ``wait_taken`` can count only the reads of one X client (the window under the pointer, which
  is being pasted into): a clipboard manager reading every new copy does not count.
- ownership is taken with a real server time, which TIMESTAMP answers; MULTIPLE converts each
  listed target (``quarterdeck.core.desktop.clipboard.icccm``).
- ``SelectionClear`` (someone copied something else) marks the contents ``lost``, unless the
  server says we own the clipboard after all (the clear of an ownership already given up).
- reading another owner's content is ``SelectionReader``'s (``reader``).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from quarterdeck.core.desktop.clipboard.convert import SelectionReader
from quarterdeck.core.desktop.clipboard.icccm import answer_multiple, server_time
from quarterdeck.core.desktop.x11.thread import XThread

__all__ = ["Contents", "SelectionOwner"]

T = TypeVar("T")

CHUNK = 64 * 1024
STALE = 30.0  # s: a transfer whose requestor neither reads nor goes away is dropped after this


@dataclass
class _Transfer:
    requestor: int
    prop: int
    served_at: float
    kind: int  # the type atom of the data
    client: int  # the requestor's X client (its window id without the resource bits)
    rest: bytes | None = None  # INCR: still to send (b"" sends the closing empty chunk)
    taken: bool = False


@dataclass
class Contents:
    """What this process offers: ``targets`` maps a target name to (type name, bytes)."""

    targets: dict[str, tuple[str, bytes]]
    text: bool = True  # pastes of it are watched until read (False: a snapshot handed back)
    lost: bool = False
    transfers: list[_Transfer] = field(default_factory=list)
    last_request: float = 0.0  # monotonic time of the last request of any target (TARGETS too)


class SelectionOwner:
    """See the module docstring. ``unconfirmed``: how long a never-deleted reply counts as unread."""

    def __init__(self, *, display_name: str | None = None, unconfirmed: float = 0.05) -> None:
        from Xlib import X

        self.X = X
        self.x = XThread(self._handle, display_name=display_name, name="x11-clipboard", on_end=self._ended)
        self._d = self.x.display
        self._client_mask = ~self._d.display.info.resource_id_mask
        root = self._d.screen().root
        self.window = root.create_window(-10, -10, 1, 1, 0, X.CopyFromParent, X.InputOnly,
                                         X.CopyFromParent, event_mask=X.PropertyChangeMask)
        self._atoms: dict[str, int] = {}
        self._names: dict[int, str] = {}
        self.clipboard = self.atom("CLIPBOARD")
        self.unconfirmed = unconfirmed
        self.cond = threading.Condition()
        self.contents: Contents | None = None
        self._transfers: dict[tuple[int, int], _Transfer] = {}
        self.owned_at = 0  # the server time we last took the clipboard at (TIMESTAMP answers it)
        self.reader = SelectionReader(self)
        self.x.start()

    def call(self, fn: Callable[[], T], timeout: float = 5.0) -> T:
        return self.x.call(fn, timeout)

    def _ended(self) -> None:
        self.reader.end()
        with self.cond:
            if self.contents is not None:
                self.contents.lost = True
            self.cond.notify_all()

    def wait_taken(self, contents: Contents, mark: int, timeout: float, client: int | None = None) -> bool:
        """True once a text transfer numbered ``mark`` or later (to ``client``'s windows, if given)
        was read; see the module docstring. A transfer already served still counts after the
        contents were lost: that window has the text."""
        deadline = time.monotonic() + timeout

        def mine() -> list[_Transfer]:
            return [t for t in contents.transfers[mark:] if client is None or t.client == client]

        with self.cond:
            while True:
                now = time.monotonic()
                served = [t for t in mine() if t.rest is None]
                if any(t.taken or t.served_at + self.unconfirmed <= now for t in served):
                    return True
                if (contents.lost and not served) or now >= deadline:
                    return False
                wake = min([deadline] + [t.served_at + self.unconfirmed for t in served])
                self.cond.wait(max(wake - now, 0.001))

    def wait_quiet(self, contents: Contents, quiet: float, limit: float) -> bool:
        """Wait until nobody asked ``contents`` for anything during ``quiet`` seconds (at most
        ``limit`` seconds in all). True when it went quiet, False when the limit came first.

        A pasting program may keep asking for the clipboard after it read the text (Chromium asks
        for TARGETS again several times while its paste is still in progress, and drops the paste
        if the clipboard changes owner meanwhile), so the text stays the clipboard until then."""
        deadline = time.monotonic() + limit
        with self.cond:
            while True:
                now = time.monotonic()
                quiet_at = contents.last_request + quiet
                if now >= quiet_at or contents.lost:
                    return True
                if now >= deadline:
                    return False
                self.cond.wait(min(quiet_at, deadline) - now)

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
        return bool(getattr(owner, "id", owner) == self.window.id)

    def client_at_pointer(self) -> int | None:
        """The X client of the deepest window under the pointer (the one pasted into), if any."""
        window, deepest = self._d.screen().root, None
        for _ in range(32):
            child = window.query_pointer().child
            if child in (0, None) or isinstance(child, int) or child.id == 0:
                break
            window = deepest = child
        return None if deepest is None else deepest.id & self._client_mask

    def own(self, contents: Contents | None) -> bool:
        """Offer ``contents`` (None: give the clipboard up); True when the server made us owner."""
        # the time first: getting it handles queued events, and a late request of the last paste
        # must still be answered with the last contents, not these
        owned_at = server_time(self) if contents is not None else None
        with self.cond:
            if self.contents is not None:
                self.contents.lost = True
            self.contents = contents
            self.cond.notify_all()
        if owned_at is None:  # no contents: the clipboard is given up
            self._release()
            return True
        self.owned_at = owned_at  # ICCCM: a real time, never CurrentTime
        self.window.set_selection_owner(self.clipboard, self.owned_at)
        return self.owned()

    def _release(self) -> None:
        from Xlib.protocol import request

        request.SetSelectionOwner(display=self._d.display, window=self.X.NONE, selection=self.clipboard,
                                  time=self.X.CurrentTime)

    def _handle(self, ev: Any) -> None:
        X = self.X
        if ev.type == X.SelectionRequest:
            self._answer(ev)
        elif ev.type == X.SelectionClear and ev.atom == self.clipboard and not self.owned():
            with self.cond:
                if self.contents is not None:
                    self.contents.lost = True
                self.contents = None
                self.cond.notify_all()
        elif ev.type == X.SelectionNotify and ev.requestor.id == self.window.id:
            self.reader.notified(ev)
        elif ev.type == X.PropertyNotify and ev.window.id == self.window.id:
            if ev.state == X.PropertyNewValue:
                self.reader.property_changed(ev)
        elif ev.type == X.PropertyNotify and ev.state == X.PropertyDelete:
            self._deleted(ev.window.id, ev.atom)
        elif ev.type == X.DestroyNotify:
            self._forget(ev.window.id)

    def _answer(self, ev: Any) -> None:
        from Xlib.protocol import event

        X = self.X
        prop = ev.property if ev.property != X.NONE else ev.target  # an obsolete requestor
        contents = self.contents if ev.selection == self.clipboard else None
        try:
            target = self.name(ev.target)
        except Exception:  # not an atom at all
            target, contents = "", None
        if contents is not None and not contents.lost:
            with self.cond:
                contents.last_request = time.monotonic()
                self.cond.notify_all()
        if contents is None or contents.lost:
            prop = X.NONE
        elif target == "MULTIPLE":
            convert = partial(self._convert, contents=contents)
            prop = prop if ev.property != X.NONE and answer_multiple(self, ev.requestor, prop, convert) else X.NONE
        elif not self._convert(ev.requestor, target, prop, contents):
            prop = X.NONE
        ev.requestor.send_event(event.SelectionNotify(
            time=ev.time, requestor=ev.requestor, selection=ev.selection, target=ev.target, property=prop))

    def _convert(self, requestor: Any, target: str, prop: int, contents: Contents) -> bool:
        """Write ``target`` of ``contents`` into ``requestor``'s ``prop``; False: no such target."""
        if target == "TARGETS":
            atoms = [self.atom(n) for n in ("TARGETS", "TIMESTAMP", "MULTIPLE", *contents.targets)]
            requestor.change_property(prop, self.atom("ATOM"), 32, atoms)
        elif target == "TIMESTAMP":  # when we took the clipboard (ICCCM)
            requestor.change_property(prop, self.atom("INTEGER"), 32, [self.owned_at])
        elif target in contents.targets:
            self._send(requestor, prop, contents, *contents.targets[target])
        else:
            return False
        return True

    def _send(self, requestor: Any, prop: int, contents: Contents, kind: str, data: bytes) -> None:
        incr = len(data) > CHUNK
        if requestor.id == self.window.id or (not incr and not contents.text):
            requestor.change_property(prop, self.atom(kind), 8, data)  # nobody waits on these
            return
        now = time.monotonic()
        for key in [k for k, t in self._transfers.items() if t.served_at + STALE < now]:
            self._forget_transfer(key)
        requestor.change_attributes(event_mask=self.X.PropertyChangeMask | self.X.StructureNotifyMask)
        transfer = _Transfer(requestor.id, prop, now, self.atom(kind), requestor.id & self._client_mask,
                             data if incr else None)
        self._transfers[(requestor.id, prop)] = transfer  # replaces one the window gave up on
        if incr:
            requestor.change_property(prop, self.atom("INCR"), 32, [len(data)])
        else:
            requestor.change_property(prop, transfer.kind, 8, data)
        with self.cond:
            contents.transfers.append(transfer)

    def _deleted(self, window: int, prop: int) -> None:
        transfer = self._transfers.get((window, prop))
        if transfer is None:
            return
        requestor = self._d.create_resource_object("window", window)
        if transfer.rest is not None:  # INCR: the next chunk; an empty one closes the transfer
            chunk = transfer.rest[:CHUNK]
            transfer.rest = transfer.rest[CHUNK:] if chunk else None
            requestor.change_property(prop, transfer.kind, 8, chunk)
            if chunk:
                return
        with self.cond:
            transfer.taken = True
            self.cond.notify_all()
        self._forget_transfer((window, prop))

    def _forget_transfer(self, key: tuple[int, int]) -> None:
        self._transfers.pop(key, None)
        if not any(w == key[0] for w, _ in self._transfers):
            self._d.create_resource_object("window", key[0]).change_attributes(event_mask=0)

    def _forget(self, window: int) -> None:
        for key in [k for k in self._transfers if k[0] == window]:
            del self._transfers[key]
