"""Reads back the text of an application's focused input over the accessibility bus (AT-SPI).

Chromium, and so Electron (Cursor, VS Code, Windsurf, Claude desktop), exposes its accessibility
tree over AT-SPI when accessibility is on (``ACCESSIBILITY_ENABLED=1`` or
``--force-renderer-accessibility``). The focused input's text before and after the submit keys is
the strongest evidence a GUI delivery can have that a message arrived and was sent.

Why this is written here: AT-SPI is plain D-Bus, and the usual clients do not install with pip.
pyatspi is not on PyPI (Debian's python3-pyatspi is bound to the system Python) and PyGObject
builds from source against the system's GObject-introspection libraries and brings GLib's main
loop; dbus-fast is asyncio-first. A handful of blocking calls over jeepney (pure Python) will do:

- the bus: the X root window's ``AT_SPI_BUS`` (set by at-spi-bus-launcher), else
  ``org.a11y.Bus.GetAddress`` on the session bus;
- the application of a process: the registry root's children are the applications' bus names,
  ``org.freedesktop.DBus.GetConnectionUnixProcessID`` maps each to its process;
- the focused input: one ``Collection.GetMatches`` (FOCUSED and EDITABLE) per top-level window,
  run inside the application: ~4 ms for two small Chromium windows, where walking the tree node
  by node took ~0.7 s. Chromium keeps a FOCUSED input in every window, so the window marked
  ACTIVE decides; Chromium marks it only while an assistive technology listens for events, so
  the reader registers for one (``window:activate``) when it connects. The input found is kept
  per process: the next look-up checks it with two calls before searching again.

The text is ``Text.GetText`` with each embedded object (U+FFFC: a ``<div>``/``<p>`` per line in a
contenteditable) expanded to its own text: see ``quarterdeck.core.desktop.atspi_text``.

Elsewhere (no bus, no registry, an app exposing no tree) the answer is None with a ``reason``.
One lock guards the connection: threads may share a reader.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from quarterdeck.core.desktop.atspi_bus import bus_from_session as _bus_from_session
from quarterdeck.core.desktop.atspi_bus import bus_from_x as _bus_from_x
from quarterdeck.core.desktop.atspi_text import OBJECT, expand, normalize

log = logging.getLogger(__name__)

__all__ = ["AccessibilityReader", "InputHandle", "InputState", "accessibility_reader", "normalize"]

REGISTRY = "org.a11y.atspi.Registry"
ROOT = "/org/a11y/atspi/accessible/root"
ACCESSIBLE = "org.a11y.atspi.Accessible"
ACTIVE, DEFUNCT, EDITABLE, FOCUSED = 1, 6, 7, 12  # AtspiStateType bits
_MATCH_ALL = 1  # AtspiCollectionMatchType
_FOCUSED_EDITABLE: tuple[object, ...] = ([(1 << FOCUSED) | (1 << EDITABLE), 0], _MATCH_ALL, {}, _MATCH_ALL,
                     [0, 0, 0, 0], _MATCH_ALL, [], _MATCH_ALL, False)
_LISTENED_EVENT = "window:activate"  # any registration makes Chromium mark its active window


@dataclass(frozen=True)
class InputHandle:
    """Where an input lives: its process, application bus name, node and top-level window's node."""
    pid: int
    bus: str
    path: str
    window: str


@dataclass(frozen=True)
class InputState:
    """What ``focused_input`` found."""
    text: str  # as the application reports it; compare through normalize()
    handle: InputHandle
    window_title: str  # the accessible name of its top-level window (the window title)


class _Failed(Exception):
    """A D-Bus call got an error reply."""


def find_bus_addresses() -> Iterator[tuple[str, str]]:
    """The accessibility bus addresses to try, best first, each with where it came from."""
    for origin, lookup in (("the X root window's AT_SPI_BUS", _bus_from_x),
                           ("org.a11y.Bus.GetAddress on the session bus", _bus_from_session)):
        address = lookup()
        if address:
            yield address, origin


class AccessibilityReader:
    """A connection to the accessibility bus that reads focused inputs; see the module docstring."""

    def __init__(self, connection: Any, address: str) -> None:
        self._conn = connection
        self.address = address
        self._lock = threading.Lock()
        self._apps: dict[int, str] = {}  # pid -> the application's bus name
        self._last: dict[int, InputHandle] = {}  # pid -> the focused input found last
        self.reason = ""  # why the last call returned None

    @classmethod
    def connect(cls, timeout: float = 1.0) -> AccessibilityReader | None:
        """A reader on this session's accessibility bus, or None (the reason is logged)."""
        try:
            from jeepney.io.blocking import open_dbus_connection
        except ImportError as exc:  # a headless install leaves the desktop-only packages out
            log.info("accessibility read-back unavailable: %s", exc)
            return None
        for address, origin in find_bus_addresses():
            try:
                conn = open_dbus_connection(address, auth_timeout=timeout)
            except Exception as exc:
                log.info("accessibility bus %s (from %s) refused us: %s", address, origin, exc)
                continue
            reader = cls(conn, address)
            try:  # also tells Chromium an assistive technology listens: it then marks its active window
                reader._call(REGISTRY, "/org/a11y/atspi/registry", "org.a11y.atspi.Registry", "RegisterEvent",
                             "sass", (_LISTENED_EVENT, [], ""), deadline=time.monotonic() + timeout)
            except (_Failed, TimeoutError, OSError) as exc:
                log.info("the accessibility registry on %s did not answer (%s)", address, exc)
                conn.close()
                continue
            return reader
        log.info("accessibility read-back unavailable: no AT_SPI_BUS on the X root window and no "
                 "usable org.a11y.Bus on the session bus")
        return None

    def close(self) -> None:
        with self._lock:
            self._conn.close()  # the registry drops our event registration with the connection

    def _call(self, bus: str, path: str, interface: str, method: str, signature: str | None = None,
              body: tuple[Any, ...] = (), *, deadline: float) -> tuple[Any, ...]:
        from jeepney import DBusAddress, new_method_call

        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("out of time")
        msg = new_method_call(DBusAddress(path, bus, interface), method, signature, body)
        reply = self._conn.send_and_get_reply(msg, timeout=remaining)
        if reply.header.message_type.name == "error":
            raise _Failed(f"{method} on {path}: {reply.header.fields.get(4, 'error')} {reply.body}")
        body_out: tuple[Any, ...] = reply.body  # jeepney is untyped: a D-Bus body is a tuple
        return body_out

    def _states(self, bus: str, path: str, deadline: float) -> int:
        low, high = [*self._call(bus, path, ACCESSIBLE, "GetState", deadline=deadline)[0], 0, 0][:2]
        return int(low) | int(high) << 32

    def _app_bus(self, pid: int, deadline: float) -> str | None:
        if pid not in self._apps:  # a process not seen yet: list the applications again
            self._apps.clear()
            for bus, _path in self._call(REGISTRY, ROOT, ACCESSIBLE, "GetChildren", deadline=deadline)[0]:
                try:
                    owner = self._call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "GetConnectionUnixProcessID", "s", (bus,), deadline=deadline)[0]
                except _Failed:
                    continue
                self._apps[owner] = bus
        return self._apps.get(pid)

    def focused_input(self, pid: int, timeout: float = 0.5) -> InputState | None:
        """The focused, editable input of process ``pid`` and its text, or None (see ``reason``)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            for attempt in (1, 2):  # a failure may come from a cached name gone stale: retry once afresh
                try:
                    return self._focused_input(pid, deadline)
                except (_Failed, TimeoutError, OSError) as exc:
                    self._apps.pop(pid, None)
                    self._last.pop(pid, None)
                    if attempt == 2 or not isinstance(exc, _Failed):
                        self._none(f"accessibility query failed: {exc}")
                        return None
        return None

    def _focused_input(self, pid: int, deadline: float) -> InputState | None:
        last = self._last.get(pid)
        if last is not None:  # the cheap path: is the input found last still the one?
            try:
                if self._is_current(last, deadline):
                    return self._state(last, deadline)
            except _Failed:
                pass
        bus = self._app_bus(pid, deadline)
        if bus is None:
            self._none(f"no accessible application belongs to process {pid} (accessibility off in "
                       "it? start it with ACCESSIBILITY_ENABLED=1 or --force-renderer-accessibility)")
            return None
        windows = [path for _bus, path in self._call(bus, ROOT, ACCESSIBLE, "GetChildren", deadline=deadline)[0]]
        if not windows:
            self._none(f"process {pid} exposes no windows to accessibility")
            return None
        active = [w for w in windows if self._states(bus, w, deadline) & (1 << ACTIVE)]
        found: list[InputHandle] = []
        for window in active or windows:
            matches = self._call(bus, window, "org.a11y.atspi.Collection", "GetMatches", "(aiia{ss}iaiiasib)uib",
                                 (_FOCUSED_EDITABLE, 1, 1, True), deadline=deadline)[0]
            found += [InputHandle(pid, bus, path, window) for _b, path in matches]
        if not found:
            self._none(f"no focused editable input in process {pid}"
                       + ("'s active window" if active else f" ({len(windows)} window(s), none active)"))
            return None
        if len(found) > 1:
            self._none(f"{len(found)} windows of process {pid} have a focused input and no single one "
                       "is active")
            return None
        self._last[pid] = found[0]
        return self._state(found[0], deadline)

    def _is_current(self, handle: InputHandle, deadline: float) -> bool:
        """Still focused and editable, and its window still the active one."""
        states = self._states(handle.bus, handle.path, deadline)
        if states & (1 << DEFUNCT) or (states >> FOCUSED & 1, states >> EDITABLE & 1) != (1, 1):
            return False
        return bool(self._states(handle.bus, handle.window, deadline) & (1 << ACTIVE))

    def _state(self, handle: InputHandle, deadline: float) -> InputState:
        text = self._text(handle, deadline)
        title = self._call(handle.bus, handle.window, "org.freedesktop.DBus.Properties", "Get", "ss",
                           (ACCESSIBLE, "Name"), deadline=deadline)[0][1]  # asked each time: titles change
        self.reason = ""
        return InputState(text, handle, title)

    def _text(self, handle: InputHandle, deadline: float) -> str:
        """The input's text, its embedded objects (a block per line, say) expanded (atspi_text)."""
        for attempt in (1, 2, 3):  # an object gone while expanding (the chat cleared the input): read again
            text = self._call(handle.bus, handle.path, "org.a11y.atspi.Text", "GetText", "ii", (0, -1),
                              deadline=deadline)[0]
            try:
                return expand(self._call, handle.bus, handle.path, text, deadline) if OBJECT in text else text
            except _Failed:
                if attempt == 3:
                    raise
        raise AssertionError("unreachable")

    def read(self, handle: InputHandle, timeout: float = 0.2) -> str | None:
        """The input's text now (two calls), or None when it is gone or lost the focus in its window."""
        deadline = time.monotonic() + timeout
        with self._lock:
            try:
                states = self._states(handle.bus, handle.path, deadline)
                if states & (1 << DEFUNCT) or not states & (1 << FOCUSED):
                    self._none("the input is gone or no longer focused")
                    return None
                text = self._text(handle, deadline)
            except (_Failed, TimeoutError, OSError) as exc:
                self._none(f"the input could not be read: {exc}")
                return None
            self.reason = ""
            return text

    def read_until(self, handle: InputHandle, accept: Callable[[str], bool], timeout: float = 0.5) -> str | None:
        """Re-read until ``accept(text)`` or ``timeout``: the accepted text, else the last one read
        (None: unreadable). Chromium's tree trails the page by a few ms (~7 ms at most measured)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.read(handle, timeout=max(0.05, deadline - time.monotonic()))
            if text is None or accept(text) or time.monotonic() >= deadline:
                return text
            time.sleep(0.005)

    def _none(self, reason: str) -> None:
        self.reason = reason
        log.debug("accessibility: %s", reason)


def accessibility_reader(timeout: float = 1.0) -> AccessibilityReader | None:
    """``AccessibilityReader.connect()``: a reader, or None where there is no accessibility bus."""
    return AccessibilityReader.connect(timeout)
