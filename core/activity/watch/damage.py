"""Which parts of watched windows were drawn since the last look (the X DAMAGE extension).

Grabbing a transcript's pixels is the watcher's main cost, and most of the time nothing was drawn
there. ``Damages`` keeps one damage object per watched window (``DamageReportDeltaRectangles``:
an event for each newly drawn rectangle, in the window's own coordinates, so a window that moves
keeps its rectangles) and, once per sample, ``collect()`` reads the events that arrived and clears the damage. For each
agent, ``drawn(agent, window)`` says what was drawn in the window since that agent's previous
look (None: not known, e.g. the window is new to it).

Clearing after reading loses nothing: something drawn after the events were read but before the
damage was cleared sent its event already, and it is read at the next sample.

The same connection hears the root window's structure events (``SubstructureNotify``): while no
top-level window was mapped, unmapped, moved or restacked, the stacking order the looker read for
its covered-window check still holds (``restacked``), and is not read again.

Without the extension (``available`` False) every look grabs. Events only arrive on the
connection that asked for them, so the watcher uses a connection of its own.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quarterdeck.core.desktop.x11.desk import Desk

log = logging.getLogger(__name__)

__all__ = ["Damages"]

Rect = tuple[int, int, int, int]


class Damages:
    """Damage objects on watched windows, on ``desk``'s connection (hold ``desk.lock``)."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self._objects: dict[int, int] = {}  # window id -> damage id
        self._drawn: dict[tuple[str, int], list[Rect]] = {}  # (agent, window) -> drawn since its last look
        self._code: int | None = None
        self.available = False
        self.restacked = True  # top-level windows may have changed since the last collect()
        self._first = True  # nothing was heard before this connection listened: all may have changed
        try:
            if desk.display.has_extension("DAMAGE"):
                desk.display.damage_query_version()
                self._code = int(desk.display.extension_event.DamageNotify)
                self.available = True
        except Exception as exc:  # an old server, a refused request: grab every time
            log.info("the X DAMAGE extension cannot be used (%s): every look grabs the pixels", exc)
        from Xlib import X

        desk.root.change_attributes(event_mask=X.SubstructureNotifyMask)  # top-level map, move, restack

    def collect(self) -> None:
        """Read the events that arrived: damage, and the root's (``restacked`` says whether a
        top-level window was created, mapped, unmapped, moved, resized, restacked or destroyed);
        then clear every window's damage, so that what is drawn next sends new events."""
        display = self.desk.display
        windows = {damage: window for window, damage in self._objects.items()}
        self.restacked, self._first = self._first, False
        while display.pending_events():
            event: Any = display.next_event()
            window = windows.get(getattr(event, "damage", 0)) if event.type == self._code else None
            if window is None:
                self.restacked = self.restacked or event.type != self._code
                continue
            area = event.area
            rect = (area.x, area.y, area.width, area.height)
            for key, rects in self._drawn.items():
                if key[1] == window:
                    rects.append(rect)
                    if len(rects) > MAX_RECTS:  # long unread (a covered window): their bounding box
                        rects[:] = [_bounding_box(rects)]
        for damage in self._objects.values():
            display.damage_subtract(damage)

    def drawn(self, agent: str, window: int) -> list[Rect] | None:
        """The rectangles (window coordinates) drawn in ``window`` since ``agent``'s previous call;
        None when that is not known (no extension, or the first call: watched from now on)."""
        if not self.available:
            return None
        if window not in self._objects:
            self._objects[window] = self.desk.display.create_resource_object("window", window).damage_create(
                _delta_rectangles())
        rects = self._drawn.get((agent, window))
        self._drawn[(agent, window)] = []
        return rects

    def keep_only(self, watched: set[tuple[str, int]]) -> None:
        """Forget every (agent, window) not in ``watched``, and the damage of windows none watches."""
        for key in set(self._drawn) - watched:
            del self._drawn[key]
        windows = {window for _, window in watched}
        for window in set(self._objects) - windows:
            damage = self._objects.pop(window)
            if self.available:
                self.desk.display.damage_destroy(damage)  # a closed window's is gone already: ignored


MAX_RECTS = 32


def _bounding_box(rects: list[Rect]) -> Rect:
    left, top = min(r[0] for r in rects), min(r[1] for r in rects)
    right, bottom = max(r[0] + r[2] for r in rects), max(r[1] + r[3] for r in rects)
    return left, top, right - left, bottom - top


def _delta_rectangles() -> int:
    from Xlib.ext import damage

    return int(damage.DamageReportDeltaRectangles)
