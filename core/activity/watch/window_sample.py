"""One look at an agent's window through the X server: found? covered? its transcript's pixels.

``WindowLooker.look(agent)`` finds the agent's window the way a delivery does (``Desk.find``:
the recorded id first, else class and title; it follows the window wherever it moved), works out
its transcript region (:mod:`quarterdeck.core.activity.watch.region`) and grabs it
(:mod:`quarterdeck.core.activity.watch.pixels`), unless the region cannot be seen as the agent's:

- the window is not viewable (minimised, on another desktop the window manager unmapped);
- another window is on top at the region's centre (``Desk.topmost_id_at``, the X server's own
  answer), or any mapped top-level window stacked above the agent's overlaps the region (the
  root's children in stacking order, so override-redirect menus and tooltips count too);
- the region is off the screen.

Pixels read through a covering window are not the agent's, so such a look says ``COVERED`` and
carries no pixels. The root's stacking order and the boxes of the windows in it are read once per
``begin()`` (one sample of every agent) and shared by all agents' looks.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from quarterdeck.core.activity.watch.pixels import grab
from quarterdeck.core.activity.watch.region import Rect, intersects, transcript_region
from quarterdeck.core.desktop.window_match import Window, WindowAmbiguous, WindowNotFound, WindowsUnavailable
from quarterdeck.core.models import Agent, GuiTransport

try:
    from Xlib.error import ConnectionClosedError, XError
except ImportError:  # no python-xlib: there is no Desk either, so these are never raised
    ConnectionClosedError = XError = OSError

if TYPE_CHECKING:
    from quarterdeck.core.activity.watch.pixels import Look
    from quarterdeck.core.desktop.x11.desk import Desk

log = logging.getLogger(__name__)

__all__ = ["COVERED", "GONE", "SEEN", "UNKNOWN", "Sight", "WindowLooker"]

SEEN = "seen"  # the transcript's pixels were read
GONE = "gone"  # no open window matches the agent's
COVERED = "covered"  # the window is there but its transcript cannot be seen now
UNKNOWN = "unknown"  # no answer: no display, two matching windows, an X error


@dataclass(frozen=True)
class Sight:
    """What one look at one agent's window saw; ``why`` says it in words for the log."""

    status: str
    window: Window | None = None
    region: Rect | None = None
    look: Look | None = None
    why: str = ""


class WindowLooker:
    """Looks at agents' windows over ``desk`` (default: the process's shared connection)."""

    def __init__(self, desk: Desk | None = None) -> None:
        self._desk = desk
        self._stack: list[int] | None = None
        self._boxes: dict[int, Rect | None] = {}

    def desk(self) -> Desk:
        if self._desk is not None:
            return self._desk
        from quarterdeck.core.transports.gui.shared import shared_desk

        return shared_desk()

    def begin(self) -> None:
        """Forget the stacking order read for the previous sample."""
        self._stack = None
        self._boxes = {}

    def look(self, agent: Agent) -> Sight:
        transport = agent.transport
        if not isinstance(transport, GuiTransport) or transport.window is None:
            return Sight(UNKNOWN, why=f"{agent.id} is not bound to a window")
        try:
            desk = self.desk()
            with desk.lock:
                return self._look(desk, agent.id, transport)
        except WindowNotFound as exc:
            return Sight(GONE, why=str(exc))
        except (WindowAmbiguous, WindowsUnavailable) as exc:
            return Sight(UNKNOWN, why=str(exc))
        except ConnectionClosedError as exc:
            desk.close()  # shared_desk() opens a new connection for the next look
            return Sight(UNKNOWN, why=f"the connection to the X server ended: {exc}")
        except XError as exc:  # the window closed or changed while we looked
            return Sight(UNKNOWN, why=f"the X server refused a look: {type(exc).__name__}: {exc}")

    def _look(self, desk: Desk, agent_id: str, transport: GuiTransport) -> Sight:
        assert transport.window is not None
        window = desk.find(transport.window, agent_id)
        screen = desk.display.screen()
        region = transcript_region(transport, window.rect, (0, 0, screen.width_in_pixels, screen.height_in_pixels))
        if region is None:
            return Sight(COVERED, window, why=f"{agent_id}'s transcript region is off the screen or too small "
                                              f"in {window.describe()} ({window.where()})")
        if not window.viewable:
            return Sight(COVERED, window, region, why=f"{window.describe()} is not viewable (minimised?)")
        cover = self._cover(desk, window, region)
        if cover:
            return Sight(COVERED, window, region, why=f"{window.describe()}'s transcript is covered: {cover}")
        return Sight(SEEN, window, region, grab(desk.root, region))

    def _cover(self, desk: Desk, window: Window, region: Rect) -> str:
        """Why the region is not wholly the agent's on screen now ('' when it is)."""
        centre = (region[0] + region[2] // 2, region[1] + region[3] // 2)
        top, frame = desk.topmost_id_at(centre)
        if top != window.id:
            other = f"window {top:#x}" if top else "no application window"
            return f"{other} is on top at {centre}"
        stack = self._root_stack(desk)
        above = stack[stack.index(frame) + 1:] if frame in stack else []
        for wid in above:
            box = self._box(desk, wid)
            if box is not None and intersects(box, region):
                return f"window {wid:#x} at {box} is stacked above it"
        return ""

    def _root_stack(self, desk: Desk) -> list[int]:
        if self._stack is None:
            self._stack = [child.id for child in desk.root.query_tree().children]  # bottom to top
        return self._stack

    def _box(self, desk: Desk, wid: int) -> Rect | None:
        """A root child's box with its border when it is mapped and viewable, else None."""
        if wid not in self._boxes:
            from Xlib import X

            child: Any = desk.display.create_resource_object("window", wid)
            try:
                viewable = child.get_attributes().map_state == X.IsViewable
                geometry = child.get_geometry() if viewable else None
            except XError:  # gone since the stacking order was read
                viewable, geometry = False, None
            self._boxes[wid] = None if geometry is None else (
                geometry.x, geometry.y, geometry.width + 2 * geometry.border_width,
                geometry.height + 2 * geometry.border_width)
        return self._boxes[wid]
