"""Did the click focus the window under it? Asked of the X server instead of waiting blind.

After Quarterdeck clicks a chat input, the paste keys must go to that window. The window manager
moves the keyboard focus a moment after the click; keys pressed before that land in whichever
window had it (the previous agent's pane). ``X11FocusProbe.wait_focused(point, ...)`` polls the
server until the focused window is the top-level window under ``point`` (or inside it), usually
within a millisecond or two, so no fixed settle is needed; if the focus never arrives it says
so and nothing is typed.

Elsewhere (no X display, or python-xlib missing) ``focus_probe()`` returns None and the caller
falls back to its fixed settle time.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
import warnings
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["X11FocusProbe", "focus_probe"]


class X11FocusProbe:
    """One X connection, used from one delivery at a time (deliveries hold the screen lock)."""

    def __init__(self, display: Any) -> None:
        self._display = display
        self._root = display.screen().root
        self._lock = threading.Lock()

    def _top_level(self, window: Any) -> int | None:
        """The id of the root's child containing ``window`` (its frame under a window manager)."""
        root_id = self._root.id
        current = window
        for _ in range(64):
            if current is None or isinstance(current, int) or current.id in (0, root_id):
                return None
            parent = current.query_tree().parent
            if parent is None or parent.id == root_id:
                return int(current.id)
            current = parent
        return None

    def focused_top_level_at(self, point: tuple[int, int]) -> tuple[int | None, int | None]:
        """(top-level window under ``point``, top-level window holding the keyboard focus)."""
        with self._lock:
            child = self._root.query_pointer().child
            under = None if child in (0, None) or isinstance(child, int) or child.id == 0 else child.id
            focus = self._display.get_input_focus().focus
            return under, self._top_level(focus)

    def wait_focused(self, point: tuple[int, int], timeout: float, stop: threading.Event,
                     interval: float = 0.002) -> bool:
        """True once the window under the pointer (just clicked at ``point``) has the focus."""
        deadline = time.monotonic() + timeout
        while True:
            under, focus = self.focused_top_level_at(point)
            if under is not None and under == focus:
                return True
            if time.monotonic() >= deadline or stop.wait(interval):
                return False


_probe: X11FocusProbe | None = None
_probe_checked = False
_probe_lock = threading.Lock()


def focus_probe() -> X11FocusProbe | None:
    """The process's X focus probe, or None where focus cannot be asked (see module docstring)."""
    global _probe, _probe_checked
    with _probe_lock:
        if not _probe_checked:
            _probe_checked = True
            if sys.platform.startswith("linux") and os.environ.get("DISPLAY"):
                try:
                    from Xlib import display as xdisplay

                    with warnings.catch_warnings():  # python-xlib leaves its Xauthority file unclosed
                        warnings.simplefilter("ignore", ResourceWarning)
                        _probe = X11FocusProbe(xdisplay.Display())
                except Exception as exc:  # no python-xlib, or the display refused us
                    log.info("keyboard focus cannot be checked (%s); using a fixed settle", exc)
        return _probe
