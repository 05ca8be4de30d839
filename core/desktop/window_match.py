"""Which window is an agent's, and where its point is in it: the rules, without the X server.

A window (``Window``) is one top-level application window as the window manager lists it. An
agent's ``WindowMatch`` (``window:`` in the roster) picks it out of the open windows
(``choose``); a ``WindowPoint`` (an offset from one corner) turns it into the click point
(``anchor_point``), and ``nearest_anchor`` makes one from a captured point. Every refusal is a
``WindowError`` whose message names the agent, the window and what to do; nothing was typed.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from quarterdeck.core.delivery.errors import NOT_TYPED, PermanentError
from quarterdeck.core.models import WindowAnchor, WindowMatch, WindowPoint

__all__ = [
    "PointOffScreen", "PointOutsideWindow", "Window", "WindowAmbiguous", "WindowCovered", "WindowError",
    "WindowNotFound", "WindowsUnavailable", "anchor_point", "bind_match", "choose", "class_matches",
    "corner", "describe_match", "fits", "nearest_anchor", "title_matches",
]

Point = tuple[int, int]


class WindowError(PermanentError):
    """Refused before the click: the agent's window could not be made sure of. Nothing was typed.

    Permanent unless a subclass says otherwise (``retryable``); carries the ``not_typed`` verdict
    with the reason as its evidence, like every delivery that ended before the paste.
    """

    verdict = NOT_TYPED

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message, retryable=retryable)
        self.evidence = f"refused before the click: {message}"


class WindowsUnavailable(WindowError):
    """The windows cannot be listed here (no X display, no python-xlib, no EWMH answer)."""


class WindowNotFound(WindowError):
    """No open window matches the agent's window."""


class WindowAmbiguous(WindowError):
    """More than one open window matches: the roster must tell them apart."""


class PointOutsideWindow(WindowError):
    """The point is not on the agent's window (it moved, shrank, or the point was typed by hand)."""


class PointOffScreen(WindowError):
    """The point is on the agent's window but on no monitor (the window hangs off the screen)."""


class WindowCovered(WindowError):
    """Another window stays on top at the point even after raising the agent's: try again later."""

    retryable = True


@dataclass(frozen=True)
class Window:
    """A top-level application window. Geometry is its client area (without the window manager's
    frame) in root (screen) coordinates; ``frame`` adds the decorations (``_NET_FRAME_EXTENTS``).
    ``stacking`` is its place in the stacking order, 0 at the bottom."""

    id: int
    wm_class: tuple[str, str] = ("", "")
    title: str = ""
    pid: int | None = None
    x: int = 0
    y: int = 0
    width: int = 0
    height: int = 0
    frame: tuple[int, int, int, int] = (0, 0, 0, 0)
    viewable: bool = True
    stacking: int = 0

    @property
    def class_name(self) -> str:
        """The WM_CLASS class (``Chromium``), or the instance when there is no class."""
        return self.wm_class[1] or self.wm_class[0]

    @property
    def rect(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.width, self.height

    def contains(self, point: Sequence[int]) -> bool:
        return self.x <= point[0] < self.x + self.width and self.y <= point[1] < self.y + self.height

    def describe(self) -> str:
        """``Chromium 'api-service' (0x80000c)``."""
        return f"{self.class_name or 'a window'} {self.title!r} ({self.id:#x})"

    def where(self) -> str:
        return f"{self.width}x{self.height} at ({self.x}, {self.y})"


def class_matches(rule: str | None, wm_class: Sequence[str]) -> bool:
    """True without a rule, or when it equals the instance or the class, in any case."""
    return rule is None or rule.casefold() in (part.casefold() for part in wm_class if part)


def title_matches(rule: str | None, title: str) -> bool:
    """True without a rule, or when the title contains it, in any case."""
    return rule is None or rule.casefold() in title.casefold()


def describe_match(match: WindowMatch) -> str:
    """``class Chromium, title 'api-service'`` (the id when nothing else names it)."""
    parts = [f"class {match.class_}"] if match.class_ else []
    if match.title:
        parts.append(f"title {match.title!r}")
    if not parts and match.id is not None:
        parts.append(f"id {match.id:#x}")
    if not parts and match.pid is not None:
        parts.append(f"pid {match.pid}")
    return ", ".join(parts)


def _rules(match: WindowMatch, window: Window) -> bool:
    return class_matches(match.class_, window.wm_class) and title_matches(match.title, window.title)


def _listed(windows: Sequence[Window], limit: int = 3) -> str:
    shown = ", ".join(w.describe() for w in windows[:limit])
    return shown + (f" and {len(windows) - limit} more" if len(windows) > limit else "")


def choose(match: WindowMatch, windows: Sequence[Window], agent: str = "the agent") -> Window:
    """The one window of ``windows`` that is ``agent``'s; ``WindowNotFound``/``WindowAmbiguous``.

    The window recorded at capture (``id``), while it is open and still of the same class, is the
    agent's even if its title changed, unless another window now matches the title and it does
    not. Otherwise the windows matching class and title (and ``pid`` when only that is given)
    must come down to one; a recorded ``pid`` breaks a tie.
    """
    named = describe_match(match)
    recorded = next((w for w in windows if match.id is not None and w.id == match.id), None)
    if match.class_ is None and match.title is None:
        same = [w for w in windows if match.pid is not None and w.pid == match.pid]
    else:
        same = [w for w in windows if _rules(match, w)]
    if recorded is not None and class_matches(match.class_, recorded.wm_class):
        if recorded in same or not same:
            return recorded
        raise WindowAmbiguous(
            f"{agent}'s recorded window {recorded.describe()} no longer matches its window "
            f"({named}), but {_listed(same)} does: capture {agent} again to choose")
    if not same:
        open_now = [w for w in windows if class_matches(match.class_, w.wm_class)] if match.class_ else []
        gone = f"; the window recorded at capture ({match.id:#x}) is closed" if match.id is not None else ""
        seen = f"; open {match.class_} windows: {_listed(open_now)}" if open_now else ""
        raise WindowNotFound(f"{agent}'s window ({named}) is not open{gone}{seen}")
    if len(same) == 1:
        return same[0]
    if match.pid is not None:
        narrowed = [w for w in same if w.pid == match.pid]
        if len(narrowed) == 1:
            return narrowed[0]
    count = "two" if len(same) == 2 else str(len(same))
    raise WindowAmbiguous(f"{count} windows match {agent}'s window ({named}): {_listed(same)}: "
                          "add a title to tell them apart")


def fits(match: WindowMatch, window: Window) -> bool:
    """Whether ``window`` has the class and title ``match`` asks for (id and pid aside)."""
    return _rules(match, window)


# -- points relative to a window ------------------------------------------------------------

def corner(anchor: str, rect: Sequence[int]) -> Point:
    """The ``anchor`` corner of a rectangle (x, y, width, height): right and bottom are the edges
    one past the last pixel, so a corner plus an offset from ``nearest_anchor`` is exact."""
    x, y, width, height = rect
    vertical, horizontal = anchor.split("-")
    return (x + width if horizontal == "right" else x), (y + height if vertical == "bottom" else y)


def anchor_point(at: WindowPoint, rect: Sequence[int]) -> Point:
    """The screen point ``at`` names in a window with client area ``rect`` (x, y, width, height)."""
    cx, cy = corner(at.anchor, rect)
    return cx + at.offset[0], cy + at.offset[1]


def nearest_anchor(point: Sequence[int], rect: Sequence[int]) -> WindowPoint:
    """``point`` relative to the corner of ``rect`` it is nearest to (ties: top, left).

    Chat inputs hug the bottom of a pane, so a point in the lower half keeps its distance from the
    bottom edge when the window is resized."""
    x, y, width, height = rect
    right, bottom = point[0] - x > x + width - point[0], point[1] - y > y + height - point[1]
    anchor: WindowAnchor = (("bottom-right" if right else "bottom-left") if bottom
                            else ("top-right" if right else "top-left"))
    cx, cy = corner(anchor, rect)
    return WindowPoint(anchor=anchor, offset=(int(point[0]) - cx, int(point[1]) - cy))


def bind_match(window: Window, previous: WindowMatch | None = None, title: str | None = None) -> WindowMatch:
    """The match recorded for ``window`` at capture: its class, id and pid, and a title rule.

    ``title`` (given by the captain) must be in the window's title. Otherwise a class and title
    the roster already had are kept when they still fit this window (a shortened title survives
    a recapture); else the whole current title is recorded.
    """
    if title is not None and not title_matches(title, window.title):
        raise ValueError(f"the title {title!r} is not part of the window's title {window.title!r}")
    keep = previous if previous is not None and _rules(previous, window) else None
    class_ = keep.class_ if keep is not None and keep.class_ else window.class_name or None
    if title is None:
        title = keep.title if keep is not None and keep.title else (window.title if window.title.strip() else None)
    return WindowMatch(class_=class_, title=title, pid=window.pid, id=window.id)
