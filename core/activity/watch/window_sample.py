"""One look at an agent's window through the X server: found? covered? its transcript's pixels.

``WindowLooker.look(agent)`` finds the agent's window the way a delivery does (``choose``: the
recorded id first, else class and title; it follows the window wherever it moved;
:mod:`~quarterdeck.core.activity.watch.window_find` reads each window once a sample), works out
its transcript region (:mod:`quarterdeck.core.activity.watch.region`) and grabs it
(:mod:`quarterdeck.core.activity.watch.pixels`), unless the region cannot be seen as the agent's:

- the window is not viewable (minimised, on another desktop the window manager unmapped);
- another window is on top at the region's centre (``Desk.topmost_id_at``, the X server's own
  answer), or any mapped top-level window stacked above the agent's overlaps the region (the
  root's children in stacking order, so override-redirect menus and tooltips count too);
- the region is off the screen.

Pixels read through a covering window are not the agent's, so such a look says ``COVERED`` and
carries no pixels. The pixels are read from the agent's window itself (``GetImage`` on it, in its
own coordinates: right even if it moved since it was found, and what a compositing manager or
XWayland keeps of it). Whether the transcript changed since the previous look is judged by
:mod:`~quarterdeck.core.activity.watch.change` from what was drawn in the region (the X DAMAGE
extension, :mod:`~quarterdeck.core.activity.watch.damage`) and, where that does not settle it,
the pixels. ``begin()`` starts a sample of every agent: it reads what was drawn, and whether a
top-level window was mapped, unmapped, moved, resized or restacked since the previous sample.
Until one was, the windows' geometry, the root's stacking order and each region's covered-or-not
stay as they were read (the same X server answers would come back), so a sample of windows that
neither moved nor drew costs a few round trips an agent.

The looker speaks X over a connection of its own (damage events arrive only there), opened on
``$DISPLAY`` when first needed and again after the server went away; ``close()`` ends it.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from quarterdeck.core.activity.watch.change import Changes
from quarterdeck.core.activity.watch.damage import Damages
from quarterdeck.core.activity.watch.pixels import grab
from quarterdeck.core.activity.watch.region import Rect, intersects, transcript_region
from quarterdeck.core.activity.watch.window_find import WindowFinder
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
    """What one look at one agent's window saw. ``changed`` (when seen): whether the transcript
    changed since the previous look, None for a first look (``quarterdeck.core.activity.watch.change``);
    ``look``: its pixels (None when not grabbed since a change); ``grabbed``: whether this look
    read pixels; ``why`` says in words why nothing was seen, for the log."""

    status: str
    window: Window | None = None
    region: Rect | None = None
    look: Look | None = None
    changed: bool | None = None
    grabbed: bool = False
    why: str = ""


class WindowLooker:
    """Looks at agents' windows (see the module docstring); ``desk``: a connection to use instead
    of one of its own (tests)."""

    def __init__(self, desk: Desk | None = None) -> None:
        self._desk = desk
        self._own = desk is None
        self._damages: Damages | None = None
        self._finder: WindowFinder | None = None
        self._stack: list[int] | None = None
        self._boxes: dict[int, Rect | None] = {}
        self._covers: dict[tuple[int, Rect], str] = {}  # (window, region) -> why it is covered ('' if not)
        self.changes = Changes()
        self._watched: set[tuple[str, int]] = set()  # (agent, window) looked at in this sample

    def desk(self) -> Desk:
        desk = self._desk
        if desk is not None and not (self._own and (desk.closed or desk.display_name != os.environ.get("DISPLAY"))):
            return desk
        if desk is not None:
            desk.close()
        self._desk = self._damages = None
        self.changes = Changes()
        if not os.environ.get("DISPLAY"):
            raise WindowsUnavailable("no X display (DISPLAY is not set)")
        try:
            from quarterdeck.core.desktop.x11.desk import Desk
        except ImportError as exc:
            raise WindowsUnavailable(f"python-xlib is missing ({exc})") from exc
        try:
            self._desk = desk = Desk()
        except Exception as exc:  # DisplayConnectionError, XauthError, OSError, ...
            raise WindowsUnavailable(f"the X display cannot be reached: {type(exc).__name__}: {exc}",
                                     retryable=True) from exc
        return desk

    def damages(self, desk: Desk) -> Damages:
        if self._damages is None or self._damages.desk is not desk:
            self._damages = Damages(desk)
        return self._damages

    def finder(self, desk: Desk) -> WindowFinder:
        if self._finder is None or self._finder.desk is not desk:
            self._finder = WindowFinder(desk)
        return self._finder

    def begin(self) -> None:
        """Start a sample: read what was drawn, and forget the stacking order when it changed."""
        restacked = True
        try:
            desk = self.desk()
            try:
                with desk.lock:
                    damages = self.damages(desk)
                    damages.keep_only(self._watched)
                    damages.collect()
                    restacked = damages.restacked
            finally:
                self.finder(desk).begin(restacked)
        except (WindowsUnavailable, XError) as exc:
            log.debug("no damage read this sample: %s", exc)
        except (ConnectionClosedError, OSError) as exc:
            log.debug("the connection to the X server ended: %s", exc)
            if self._own and self._desk is not None:
                self._desk.close()  # a new connection at the next look
        if restacked:
            self._stack = None
            self._boxes = {}
            self._covers = {}
        self._watched = set()

    def close(self) -> None:
        """End the looker's own connection (the damage objects go with it)."""
        if self._own and self._desk is not None:
            self._desk.close()
        self._damages = None
        self.changes = Changes()

    def look(self, agent: Agent) -> Sight:
        sight = self._sight(agent)
        if sight.status != SEEN:
            self.changes.forget(agent.id)
        return sight

    def _sight(self, agent: Agent) -> Sight:
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
        except (ConnectionClosedError, OSError) as exc:
            if self._own and self._desk is not None:
                self._desk.close()  # a new connection for the next look
            return Sight(UNKNOWN, why=f"the connection to the X server ended: {exc}")
        except XError as exc:  # the window closed or changed while we looked
            return Sight(UNKNOWN, why=f"the X server refused a look: {type(exc).__name__}: {exc}")

    def _look(self, desk: Desk, agent_id: str, transport: GuiTransport) -> Sight:
        assert transport.window is not None
        window = self.finder(desk).find(transport.window, agent_id)
        self._watched.add((agent_id, window.id))
        screen = desk.display.screen()
        region = transcript_region(transport, window.rect, (0, 0, screen.width_in_pixels, screen.height_in_pixels))
        if region is None:
            return Sight(COVERED, window, why=f"{agent_id}'s transcript region is off the screen or too small "
                                              f"in {window.describe()} ({window.where()})")
        if not window.viewable:
            return Sight(COVERED, window, region, why=f"{window.describe()} is not viewable (minimised?)")
        cover = self._covers.get((window.id, region))
        if cover is None:
            cover = self._covers[(window.id, region)] = self._cover(desk, window, region)
        if cover:
            return Sight(COVERED, window, region, why=f"{window.describe()}'s transcript is covered: {cover}")
        drawn = self.damages(desk).drawn(agent_id, window.id)
        verdict = self.changes.judge(
            agent_id, window.id, region,
            None if drawn is None else [(window.x + x, window.y + y, w, h) for x, y, w, h in drawn],
            lambda: grab(desk.display.create_resource_object("window", window.id),
                         (region[0] - window.x, region[1] - window.y, region[2], region[3])))
        return Sight(SEEN, window, region, verdict.look, changed=verdict.changed, grabbed=verdict.grabbed)

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
                geometry = None
            self._boxes[wid] = None if geometry is None else (
                geometry.x, geometry.y, geometry.width + 2 * geometry.border_width,
                geometry.height + 2 * geometry.border_width)
        return self._boxes[wid]
