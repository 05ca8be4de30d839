"""Window identity for GUI delivery: click only into the agent's own window, never another's.

A gui agent bound to its window (``window:`` in the roster, see ``quarterdeck.core.models.WindowMatch``) is
checked before every click by ``resolve_target(transport, "chat" | "onboarding")``:

1. find the agent's window among the open application windows: exactly one must match, else
   ``WindowNotFound`` / ``WindowAmbiguous``;
2. compute the point: relative to a corner of the window (``chat_in_window``), so it follows the
   window when it moves or is resized, else the screen point as captured;
3. the point must lie on the window (``PointOutsideWindow``) and on a monitor (``PointOffScreen``);
4. the window must be the topmost application window at the point, in stacking order as the X
   server itself resolves a click; if it is covered (or minimized), it is raised and re-checked
   within ``raise_timeout``, else ``WindowCovered`` (retryable: nothing was typed).

An agent with screen points only and no ``window`` gets its point back unchanged (legacy
rosters keep working), without asking the X server anything.

Every refusal is a ``WindowError`` (permanent unless ``retryable`` says otherwise) carrying the
``not_typed`` verdict. X is spoken over one connection per process (``shared_desk()``, reopened when
the display changes or the server went away: ``quarterdeck.core.transports.gui.shared``); see
bench/bench_window_resolve.py for timings.
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from quarterdeck.core.desktop.screens import describe_screens, point_on_screens
from quarterdeck.core.desktop.window_match import (
    PointOffScreen,
    PointOutsideWindow,
    Window,
    WindowAmbiguous,
    WindowCovered,
    WindowError,
    WindowNotFound,
    WindowsUnavailable,
    anchor_point,
    nearest_anchor,
)
from quarterdeck.core.models import GuiTransport, WindowMatch, WindowPoint
from quarterdeck.core.transports.gui.shared import (
    RAISE_TIMEOUT,
    find,
    list_windows,
    raise_and_wait,
    shared_desk,
    topmost_at,
)

if TYPE_CHECKING:
    from quarterdeck.core.desktop.x11.desk import Desk

__all__ = [
    "Placement",
    "PointOffScreen",
    "PointOutsideWindow",
    "Preview",
    "Target",
    "Window",
    "WindowAmbiguous",
    "WindowCovered",
    "WindowError",
    "WindowNotFound",
    "WindowsUnavailable",
    "find",
    "list_windows",
    "placement_at",
    "point_for",
    "preview",
    "raise_and_wait",
    "resolve_target",
    "shared_desk",
    "topmost_at",
    "window_problems",
]

Point = tuple[int, int]

@dataclass(frozen=True)
class Target:
    """Where to click for one delivery. ``window`` is the agent's window, made sure of just now
    (None for an agent without one); ``raised`` says it had to be brought to the front first."""

    point: Point
    window: Window | None = None
    raised: bool = False

    @property
    def evidence(self) -> str:
        """For the history: ``window Chromium 'api-service' (0x80000c), topmost at (420, 980)``."""
        if self.window is None:
            return f"screen point {self.point}; no window recorded"
        raised = ", raised" if self.raised else ""
        return f"window {self.window.describe()}, topmost at {self.point}{raised}"


def _in_window(transport: GuiTransport, point_kind: str) -> WindowPoint | None:
    if point_kind == "onboarding" and transport.onboarding is not None:
        return transport.onboarding_in_window
    return transport.chat_in_window  # a missing onboarding point falls back to the chat point


def _absolute(transport: GuiTransport, point_kind: str) -> Point:
    point = transport.onboarding if point_kind == "onboarding" and transport.onboarding is not None \
        else transport.chat
    return int(point[0]), int(point[1])


def point_for(transport: GuiTransport, window: Window, point_kind: str = "chat") -> Point:
    """The screen point to click in ``window``: its ``*_in_window`` anchor plus offset, else the
    transport's screen point (an onboarding point falls back to the chat point, as delivery does)."""
    at = _in_window(transport, point_kind)
    return anchor_point(at, window.rect) if at is not None else _absolute(transport, point_kind)


def _check_placed(transport: GuiTransport, point_kind: str, window: Window, point: Point, agent: str,
                  desk: Desk) -> None:
    at = _in_window(transport, point_kind)
    recapture = f"`quarterdeck agents capture {agent}{' --onboarding' if point_kind == 'onboarding' else ''}`"
    if not window.contains(point):
        if at is not None:
            raise PointOutsideWindow(
                f"{agent}'s {point_kind} point, {at.offset[0]}, {at.offset[1]} from the {at.anchor} corner of "
                f"its window {window.describe()}, falls outside that window ({window.where()}): enlarge "
                f"the window or capture the point again with {recapture}")
        other = desk.topmost_at(point)
        there = f" ({other.describe()} is there now)" if other is not None else ""
        raise PointOutsideWindow(
            f"{agent}'s {point_kind} point {point} is not on its window {window.describe()}, which is "
            f"{window.where()}{there}: the window moved or shrank; capture the point again with "
            f"{recapture} so that it follows the window")
    screens = desk.screens()
    if screens and not point_on_screens(point, screens):
        raise PointOffScreen(f"{agent}'s {point_kind} point {point} in its window {window.describe()} is on "
                             f"no screen (screens: {describe_screens(screens)}): move the window onto a screen")


def _what_covers(desk: Desk, window: Window, point: Point, top: int | None, top_level: int | None) -> str:
    if not window.viewable:
        return "is not shown (minimized, or on another desktop)"
    if top is not None:
        other = desk.window(top)
        return f"is covered at {point} by {other.describe() if other is not None else f'window {top:#x}'}"
    if top_level is not None:
        return f"is covered at {point} by a window that is not an application window ({top_level:#x}: " \
               "a menu, popup or panel)"
    return f"is not at {point}"


def resolve_target(transport: GuiTransport, point_kind: str = "chat", *, agent: str = "the agent",
                   desk: Desk | None = None, raise_timeout: float = RAISE_TIMEOUT,
                   stop: threading.Event | None = None) -> Target:
    """Where to click for ``agent`` (a ``GuiTransport``); see the module docstring. Raises a
    ``WindowError`` naming the reason when the click could land anywhere but the agent's window,
    ``Cancelled`` when ``stop`` is set while waiting for the window to come to the front."""
    if point_kind not in ("chat", "onboarding"):
        raise ValueError(f"point_kind must be 'chat' or 'onboarding', not {point_kind!r}")
    match: WindowMatch | None = getattr(transport, "window", None)
    if match is None:
        return Target(_absolute(transport, point_kind))
    if desk is None:
        try:
            desk = shared_desk()
        except WindowsUnavailable as exc:
            raise WindowsUnavailable(f"{agent} is bound to a window, which cannot be checked here: {exc}",
                                     retryable=exc.retryable) from exc
    with desk.lock:
        window = desk.find(match, agent)
        point = point_for(transport, window, point_kind)
        _check_placed(transport, point_kind, window, point, agent, desk)
        top, top_level = desk.topmost_id_at(point)
        if top == window.id and window.viewable:
            return Target(point, window)
        state = _what_covers(desk, window, point, top, top_level)
    fresh = raise_and_wait(window, lambda w: point_for(transport, w, point_kind), raise_timeout, stop, desk=desk)
    if fresh is None:
        if desk.window(window.id) is None:
            raise WindowNotFound(f"{agent}'s window {window.describe()} is not open: it closed while being raised")
        raise WindowCovered(f"{agent}'s window {window.describe()} {state} and did not come to the front "
                            f"within {raise_timeout:g} s")
    point = point_for(transport, fresh, point_kind)
    _check_placed(transport, point_kind, fresh, point, agent, desk)
    return Target(point, fresh, raised=True)


@dataclass(frozen=True)
class Preview:
    """What a click for an agent would reach now, found without raising anything (for the Targets
    overlay and ``agents check``): the point, the agent's window (None when it has none or it is
    not found) and, when a click would be refused or need a raise first, why."""

    point: Point
    window: Window | None = None
    problem: str = ""
    covered: bool = False  # only covered (or minimized): a delivery raises it first


def preview(transport: GuiTransport, point_kind: str = "chat", agent: str = "the agent",
            desk: Desk | None = None) -> Preview:
    """See ``Preview``; never raises a ``WindowError`` (the reason is in ``problem``)."""
    absolute = _absolute(transport, point_kind)
    match: WindowMatch | None = getattr(transport, "window", None)
    if match is None:
        return Preview(absolute)
    try:
        desk = desk if desk is not None else shared_desk()
        with desk.lock:
            window = desk.find(match, agent)
            point = point_for(transport, window, point_kind)
            try:
                _check_placed(transport, point_kind, window, point, agent, desk)
            except WindowError as exc:
                return Preview(point, window, str(exc))
            top, top_level = desk.topmost_id_at(point)
            if top == window.id:
                return Preview(point, window)
            return Preview(point, window, f"{agent}'s window {window.describe()} "
                                          f"{_what_covers(desk, window, point, top, top_level)}", covered=True)
    except WindowsUnavailable as exc:
        return Preview(absolute, None, f"its window cannot be checked: {exc}")
    except WindowError as exc:
        return Preview(absolute, None, str(exc))


def window_problems(transport: GuiTransport, agent: str = "the agent", desk: Desk | None = None) -> list[str]:
    """Why ``resolve_target`` would refuse now (a covered window is not a problem: it is raised)."""
    kinds = ("chat", "onboarding") if transport.onboarding is not None else ("chat",)
    for kind in kinds if getattr(transport, "window", None) is not None else ():
        seen = preview(transport, kind, agent, desk)
        if seen.problem and not seen.covered:
            return [seen.problem]
    return []


@dataclass(frozen=True)
class Placement:
    """A captured point in its window: the window and the point from its nearest corner."""

    window: Window
    at: WindowPoint


def placement_at(point: Sequence[int], desk: Desk | None = None) -> Placement | None:
    """The application window a click at ``point`` reaches, with ``point`` relative to its nearest
    corner; None over the desktop, a window's frame, or a window that is not an application's."""
    desk = desk if desk is not None else shared_desk()
    point = (int(point[0]), int(point[1]))
    window = desk.topmost_at(point)
    if window is None or not window.contains(point):
        return None
    return Placement(window, nearest_anchor(point, window.rect))
