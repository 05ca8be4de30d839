"""The application windows of an X desktop, asked of the X server (EWMH) over one connection.

``Desk`` lists the window manager's client windows (``_NET_CLIENT_LIST_STACKING``, else
``_NET_CLIENT_LIST``, else the root's children holding ``WM_STATE``), reads what identifies each
(WM_CLASS, the title from ``_NET_WM_NAME`` or ``WM_NAME``, ``_NET_WM_PID``) and its geometry in
root coordinates (``TranslateCoordinates``, so reparenting frames do not matter), and says which
application window is topmost at a point, as the server itself resolves it: ``TranslateCoordinates``
names the mapped child containing the point that is topmost in stacking order (input shapes
honoured), i.e. where a click would go; descending from the root to the first listed client gives
the application window. ``activate`` asks the window manager to raise one (``_NET_ACTIVE_WINDOW``).

python-xlib connections are not thread-safe: every call takes ``lock`` (re-entrant: hold it across
calls for one consistent look). A lost connection raises ``WindowsUnavailable`` (retryable).
"""
from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, Concatenate, ParamSpec, TypeVar

from quarterdeck.core.desktop.screens import ScreenRect, screens_of
from quarterdeck.core.desktop.window_match import (
    Window,
    WindowNotFound,
    WindowsUnavailable,
    choose,
    class_matches,
    fits,
)
from quarterdeck.core.desktop.x11.text import compound_text, text
from quarterdeck.core.models import WindowMatch

try:
    from Xlib import X, Xatom
    from Xlib import error as xerror
except ImportError:  # not an X11 desktop: windows.shared_desk() never builds a Desk
    X = Xatom = xerror = None

log = logging.getLogger(__name__)

__all__ = ["Desk"]

Point = tuple[int, int]
_MAX_DEPTH = 16
P = ParamSpec("P")
R = TypeVar("R")


def _guarded(method: Callable[Concatenate[Desk, P], R]) -> Callable[Concatenate[Desk, P], R]:
    """Hold the lock; a connection that ended closes the desk and raises ``WindowsUnavailable``."""
    @wraps(method)
    def call(self: Desk, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.lock:
            if self.closed:
                raise WindowsUnavailable("the connection to the X server is closed", retryable=True)
            try:
                return method(self, *args, **kwargs)
            except (xerror.ConnectionClosedError, OSError) as exc:
                self.close()
                raise WindowsUnavailable(f"the connection to the X server ended: {exc}", retryable=True) from exc
    return call


class Desk:
    """One connection to the X server for looking at windows; see the module docstring."""

    def __init__(self, display_name: str | None = None) -> None:
        from Xlib import display

        with warnings.catch_warnings():  # python-xlib leaves its Xauthority file unclosed
            warnings.simplefilter("ignore", ResourceWarning)
            self.display = display.Display(display_name)
        self.display.set_error_handler(lambda err, req: log.debug("X error ignored: %s", err))
        self.display_name = self.display.get_display_name()
        self.root = self.display.screen().root
        self.lock = threading.RLock()
        self.closed = False
        self._atoms: dict[str, int] = {}
        self._supported: frozenset[int] | None = None
        self._screens: tuple[float, list[ScreenRect]] = (0.0, [])

    def close(self) -> None:
        with self.lock:
            if not self.closed:
                self.closed = True
                try:
                    self.display.close()
                except Exception:  # the server is gone: closing flushes into a dead socket
                    pass

    # -- properties ----------------------------------------------------------------------------

    def atom(self, name: str) -> int:
        return self._atoms.get(name) or self._atoms.setdefault(name, self.display.intern_atom(name))

    def _window(self, wid: int) -> Any:
        return self.display.create_resource_object("window", wid)

    def _prop(self, window: Any, name: str, kind: int | None = None, longs: int = 1024) -> Any:
        """A property's value in one round trip (None when unset); a window that is gone raises."""
        reply = window.get_property(self.atom(name), X.AnyPropertyType if kind is None else kind, 0, longs)
        return None if reply is None or reply.property_type == X.NONE else reply.value

    def _wm_class(self, window: Any) -> tuple[str, str]:
        parts = text(self._prop(window, "WM_CLASS", Xatom.STRING, 64), "latin-1").split("\0")
        return (parts[0], parts[1]) if len(parts) >= 2 else (parts[0], "")

    def _title(self, window: Any) -> str:
        """``_NET_WM_NAME`` (UTF-8), else ``WM_NAME`` as STRING (Latin-1), UTF8_STRING or COMPOUND_TEXT."""
        title = self._prop(window, "_NET_WM_NAME", self.atom("UTF8_STRING"))
        if title is not None:
            return text(title)
        reply = window.get_property(Xatom.WM_NAME, X.AnyPropertyType, 0, 1024)
        if reply is None or reply.property_type == X.NONE:
            return ""
        if reply.property_type == self.atom("COMPOUND_TEXT"):
            return compound_text(reply.value)
        return text(reply.value, "utf-8" if reply.property_type == self.atom("UTF8_STRING") else "latin-1")

    def _pid(self, window: Any) -> int | None:
        value = self._prop(window, "_NET_WM_PID", Xatom.CARDINAL, 1)
        return int(value[0]) if value is not None and len(value) else None

    def supports(self, name: str) -> bool:
        """Whether the window manager lists ``name`` in ``_NET_SUPPORTED`` (asked once)."""
        if self._supported is None:
            value = self._prop(self.root, "_NET_SUPPORTED", Xatom.ATOM, 4096)
            self._supported = frozenset(int(a) for a in value) if value is not None else frozenset()
        return self.atom(name) in self._supported

    # -- listing -------------------------------------------------------------------------------

    def _client_ids(self) -> list[int]:
        """The application windows, bottom to top where the window manager says so."""
        for name in ("_NET_CLIENT_LIST_STACKING", "_NET_CLIENT_LIST"):
            value = self._prop(self.root, name, Xatom.WINDOW, 65536)
            if value is not None:
                return [int(wid) for wid in value]
        return self._clients_from_tree()

    def _clients_from_tree(self) -> list[int]:
        """Without EWMH: root children (or their children, under a frame) that hold WM_STATE."""
        found: list[int] = []
        for child in self.root.query_tree().children:  # bottom to top
            try:
                inner = child if self._prop(child, "WM_STATE", None, 2) is not None else next(
                    (c for c in child.query_tree().children if self._prop(c, "WM_STATE", None, 2) is not None), None)
            except xerror.XError:
                continue
            found += [inner.id] if inner is not None else []
        return found

    def _complete(self, window: Window) -> Window | None:
        """``window`` with its geometry, frame and state read now; None when it is gone."""
        xw = self._window(window.id)
        try:
            geometry = xw.get_geometry()
            origin = self.root.translate_coords(xw, 0, 0)
            viewable = xw.get_attributes().map_state == X.IsViewable
            extents = self._prop(xw, "_NET_FRAME_EXTENTS", Xatom.CARDINAL, 4)
            pid = window.pid if window.pid is not None else self._pid(xw)
        except xerror.XError:
            return None
        left, right, top, bottom = (int(v) for v in extents) if extents is not None and len(extents) == 4 \
            else (0, 0, 0, 0)
        x, y, width, height = origin.x, origin.y, geometry.width, geometry.height
        return Window(window.id, window.wm_class, window.title, pid, x, y, width, height,
                      (x - left, y - top, width + left + right, height + top + bottom), viewable, window.stacking)

    def _identity(self, wid: int, stacking: int) -> Window | None:
        xw = self._window(wid)
        try:
            return Window(wid, self._wm_class(xw), self._title(xw), self._pid(xw), stacking=stacking)
        except xerror.XError:
            return None

    @_guarded
    def windows(self) -> list[Window]:
        """Every application window, bottom to top, with everything known about it."""
        identities = (self._identity(wid, index) for index, wid in enumerate(self._client_ids()))
        found = [self._complete(window) for window in identities if window is not None]
        return [window for window in found if window is not None]

    @_guarded
    def window(self, wid: int) -> Window | None:
        """One window read afresh (None when it is gone or no longer an application window)."""
        ids = self._client_ids()
        if wid not in ids:
            return None
        window = self._identity(wid, ids.index(wid))
        return self._complete(window) if window is not None else None

    @_guarded
    def find(self, match: WindowMatch, agent: str = "the agent") -> Window:
        """The agent's window (see ``window_match.choose``), its geometry read now.

        Reads only what it needs: the recorded window first (enough while it still fits), else
        WM_CLASS of every window and the title of those of the right class."""
        by_pid_only = match.class_ is None and match.title is None
        candidates: list[Window] = []
        ids = self._client_ids()
        for index in sorted(range(len(ids)), key=lambda i: ids[i] != match.id):  # the recorded one first
            wid = ids[index]
            xw = self._window(wid)
            try:
                wm_class = self._wm_class(xw)
                if not (class_matches(match.class_, wm_class) or wid == match.id or by_pid_only):
                    continue
                pid = self._pid(xw) if match.pid is not None else None
                if by_pid_only and pid != match.pid and wid != match.id:
                    continue
                candidates.append(Window(wid, wm_class, self._title(xw), pid, stacking=index))
            except xerror.XError:  # closed while we looked
                continue
            if wid == match.id and not by_pid_only and fits(match, candidates[-1]):
                break  # the recorded window still fits: it is the agent's, whatever the others are
        chosen = self._complete(choose(match, candidates, agent))
        if chosen is None:
            raise WindowNotFound(f"{agent}'s window is not open: it closed while being looked at", retryable=True)
        return chosen

    # -- what is on top ------------------------------------------------------------------------

    def _descend(self, point: Sequence[int], clients: set[int]) -> tuple[int | None, int | None]:
        """(the application window a click at ``point`` reaches, the root's child there)."""
        x, y = int(point[0]), int(point[1])
        window, top_level = self.root, None
        for _ in range(_MAX_DEPTH):
            try:
                child = window.translate_coords(self.root, x, y).child
            except xerror.XError:  # a window on the way was destroyed just now
                return None, top_level
            wid = getattr(child, "id", child) or 0
            if not wid:
                return None, top_level
            top_level = top_level or wid
            if wid in clients:
                return wid, top_level
            window = child
        return None, top_level

    @_guarded
    def topmost_id_at(self, point: Sequence[int]) -> tuple[int | None, int | None]:
        """(id of the application window topmost at ``point`` or None, the root's child there)."""
        return self._descend(point, set(self._client_ids()))

    @_guarded
    def topmost_at(self, point: Sequence[int]) -> Window | None:
        """The application window a click at ``point`` would reach (stacking order, not only
        geometry); None over the bare desktop or a window that is not an application's."""
        ids = self._client_ids()
        wid, _ = self._descend(point, set(ids))
        if wid is None:
            return None
        window = self._identity(wid, ids.index(wid))
        return self._complete(window) if window is not None else None

    @_guarded
    def screens(self, max_age: float = 2.0) -> list[ScreenRect]:
        """The monitors (``ScreenRect``s), from RandR, cached for ``max_age`` seconds."""
        taken, screens = self._screens
        if screens and time.monotonic() - taken < max_age:
            return screens
        try:
            screens = screens_of(self.display)
        except xerror.XError:  # a CRTC that changed under us: the root window stands for the screens
            geometry = self.root.get_geometry()
            screens = [ScreenRect(0, 0, geometry.width, geometry.height, "root")]
        self._screens = (time.monotonic(), screens)
        return screens

    # -- raising -------------------------------------------------------------------------------

    @_guarded
    def activate(self, window: Window) -> None:
        """Ask the window manager to show, raise and focus ``window`` (EWMH, as a pager does);
        without EWMH, map and restack it ourselves."""
        from Xlib.protocol import event

        if self.supports("_NET_ACTIVE_WINDOW"):
            message = event.ClientMessage(window=self._window(window.id), client_type=self.atom("_NET_ACTIVE_WINDOW"),
                                          data=(32, [2, X.CurrentTime, 0, 0, 0]))
            mask = X.SubstructureRedirectMask | X.SubstructureNotifyMask
            self.root.send_event(message, event_mask=mask)
        else:
            self.restack(window)
        self.display.flush()

    @_guarded
    def restack(self, window: Window) -> None:
        """Map ``window`` and put it above its siblings (a window manager may redirect this)."""
        xw = self._window(window.id)
        xw.map()
        xw.configure(stack_mode=X.Above)
        self.display.flush()
