"""The process's one X connection for looking at windows, and the calls that use it.

``shared_desk()`` is the ``Desk`` (``quarterdeck.core.desktop.x11.desk``) on ``$DISPLAY``, reopened
when the display changes or the server went away; ``WindowsUnavailable`` when there is none. Each
call below takes a ``desk`` for tests and callers that hold their own. Re-exported by
``quarterdeck.core.transports.gui.windows``.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from quarterdeck.core.delivery.errors import Cancelled
from quarterdeck.core.desktop.window_match import Window, WindowsUnavailable
from quarterdeck.core.models import WindowMatch

if TYPE_CHECKING:
    from quarterdeck.core.desktop.x11.desk import Desk

__all__ = ["RAISE_TIMEOUT", "find", "list_windows", "raise_and_wait", "shared_desk", "topmost_at"]

Point = tuple[int, int]
RAISE_TIMEOUT = 0.5

_shared: Desk | None = None
_shared_lock = threading.Lock()


def shared_desk() -> Desk:
    """The process's ``xdesk.Desk`` on ``$DISPLAY``; ``WindowsUnavailable`` when there is none."""
    global _shared
    name = os.environ.get("DISPLAY", "")
    with _shared_lock:
        if _shared is not None and not _shared.closed and _shared.display_name == name:
            return _shared
        if _shared is not None:
            _shared.close()
            _shared = None
        if not name:
            raise WindowsUnavailable("no X display (DISPLAY is not set)")
        try:
            from quarterdeck.core.desktop.x11.desk import Desk
        except ImportError as exc:
            raise WindowsUnavailable(f"python-xlib is missing ({exc})") from exc
        try:
            _shared = Desk()
        except Exception as exc:  # DisplayConnectionError, XauthError, OSError, ...
            raise WindowsUnavailable(f"the X display {name} cannot be reached: {type(exc).__name__}: {exc}",
                                     retryable=True) from exc
        return _shared


def list_windows(desk: Desk | None = None) -> list[Window]:
    """Every application window, bottom to top in stacking order."""
    return (desk or shared_desk()).windows()


def find(match: WindowMatch, agent: str = "the agent", desk: Desk | None = None) -> Window:
    """The one open window ``match`` names; ``WindowNotFound`` / ``WindowAmbiguous`` otherwise."""
    return (desk or shared_desk()).find(match, agent)


def topmost_at(point: Sequence[int], desk: Desk | None = None) -> Window | None:
    """The application window topmost at ``point`` (what a click there reaches), or None."""
    return (desk or shared_desk()).topmost_at(point)


def raise_and_wait(window: Window, point: Point | Callable[[Window], Point] | None = None,
                   timeout: float = RAISE_TIMEOUT, stop: threading.Event | None = None, *,
                   desk: Desk | None = None, interval: float = 0.005) -> Window | None:
    """Bring ``window`` to the front (``_NET_ACTIVE_WINDOW``, then a restack if the window manager
    ignores that) and wait until it is topmost at ``point`` (default: its centre). Returns the
    window read afresh, or None when it is still covered after ``timeout`` or has closed."""
    desk = desk or shared_desk()
    desk.activate(window)
    start = time.monotonic()
    restacked = False
    while True:
        with desk.lock:
            fresh = desk.window(window.id)
            if fresh is None:
                return None
            at = point(fresh) if callable(point) else point or (fresh.x + fresh.width // 2,
                                                                 fresh.y + fresh.height // 2)
            if fresh.viewable and desk.topmost_id_at(at)[0] == window.id:
                return fresh
        elapsed = time.monotonic() - start
        if not restacked and elapsed >= timeout / 2:  # the window manager ignored the request
            desk.restack(fresh)
            restacked = True
        if elapsed >= timeout:
            return None
        if stop is not None and stop.wait(interval):
            raise Cancelled("stopped while waiting for a window to come to the front")
        if stop is None:
            time.sleep(interval)
