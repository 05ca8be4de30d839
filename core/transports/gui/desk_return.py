"""A batch of GUI deliveries starts from where the captain is, and gives the desk back after.

The captain's own send is consent to take the mouse: when a batch starts (the outbox had nothing
for this process, and now has work), the pointer is accepted wherever it is (``guard.forget``),
so clicking into the panel, typing and pressing Ctrl+Enter never pauses the send. During the
batch the guard stays as strict as before: a pointer moved away from where Quarterdeck left it,
between two deliveries or within one, pauses GUI delivery.

Before the first GUI delivery of a batch, the window holding the keyboard focus (the panel, or
the captain's terminal) and the pointer position are remembered; when the batch ends they are
given back: focus to that window, the pointer to where it was. Only when nobody took over in
the meantime: a pointer that is no longer where Quarterdeck left it belongs to a person, so
neither is touched then.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from quarterdeck.core.transports.gui.guard import SHARED_GUARD, PointerGuard

if TYPE_CHECKING:
    from quarterdeck.core.desktop.x11.desk import Desk

__all__ = ["DeskReturn"]

log = logging.getLogger(__name__)

# (where the pointer is, move it to x, y)
PointerCalls = tuple[Callable[[], tuple[int, int]], Callable[[int, int], object]]


def _active_window(desk: Desk) -> int | None:
    """The window manager's active (focused) client window, by EWMH ``_NET_ACTIVE_WINDOW``."""
    from Xlib import X

    with desk.lock:
        prop = desk.root.get_full_property(desk.atom("_NET_ACTIVE_WINDOW"), X.AnyPropertyType)
    value = getattr(prop, "value", None)
    return int(value[0]) if value is not None and len(value) and value[0] else None


class DeskReturn:
    """Batch start and end for one dispatcher (see the module docstring). Thread-safe."""

    def __init__(self, guard: PointerGuard = SHARED_GUARD, desk: Desk | None = None,
                 pointer: PointerCalls | None = None) -> None:
        self.guard = guard
        self._desk = desk  # quarterdeck.core.desktop.x11.desk.Desk; the shared one when None
        self._pointer = pointer  # (get, move) callables; PyAutoGUI's when None
        self._lock = threading.Lock()
        self._in_batch = False
        self._saved: tuple[int | None, tuple[int, int]] | None = None  # (focused window id, pointer)

    # -- the dispatcher's calls ----------------------------------------------------------------
    def claimed(self, transport_kind: str) -> None:
        """A delivery was claimed: starts a batch if none runs; remembers the desk before the
        batch's first GUI delivery."""
        with self._lock:
            if not self._in_batch:
                self._in_batch = True
                self.guard.forget()  # the captain's send: the pointer is accepted where it is
            if transport_kind != "gui" or self._saved is not None:
                return
        saved = self._look()
        with self._lock:
            if self._in_batch and self._saved is None:
                self._saved = saved

    def resumed(self) -> None:
        """The captain resumed after a pause: the pointer is accepted wherever it is now."""
        self.guard.forget()

    def idle(self) -> None:
        """The outbox has nothing for this process: the batch, if any, is over."""
        with self._lock:
            if not self._in_batch:
                return
            self._in_batch = False
            saved, self._saved = self._saved, None
        if saved is not None:
            self._give_back(*saved)

    # -- the desk ---------------------------------------------------------------------------------
    def _pointer_calls(self) -> PointerCalls:
        if self._pointer is not None:
            return self._pointer
        from quarterdeck.core.transports.gui.transport import load_pyautogui

        gui = load_pyautogui()

        def get() -> tuple[int, int]:
            x, y = gui.position()
            return int(x), int(y)

        return get, (lambda x, y: gui.moveTo(x, y))

    def _desk_or_none(self) -> Desk | None:
        if self._desk is not None:
            return self._desk
        try:
            from quarterdeck.core.transports.gui.windows import shared_desk

            return shared_desk()
        except Exception as exc:  # no display, no python-xlib: nothing to remember
            log.debug("no desk to give back: %s", exc)
            return None

    def _look(self) -> tuple[int | None, tuple[int, int]] | None:
        if self._pointer is None and not os.environ.get("DISPLAY"):
            return None  # no desk to give back (a headless process, or a test's stand-in transport)
        try:
            get, _ = self._pointer_calls()
            desk = self._desk_or_none()
            return (_active_window(desk) if desk is not None else None), get()
        except Exception as exc:  # the display went away: no batch bookkeeping, delivery goes on
            log.debug("could not note the focus and pointer before a batch: %s", exc)
            return None

    def _give_back(self, focused: int | None, pointer: tuple[int, int]) -> None:
        try:
            get, move = self._pointer_calls()
            placed = self.guard.placed
            if placed is None or not self.guard.same_place(get(), placed):
                return  # a person has the mouse now: leave their pointer and focus alone
            move(*pointer)
            self.guard.forget()
            desk = self._desk_or_none()
            if focused is not None and desk is not None:
                window = desk.window(focused)
                if window is not None:
                    desk.activate(window)
        except Exception as exc:
            log.debug("could not give the focus and pointer back: %s", exc)
