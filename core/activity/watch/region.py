"""Where an agent's chat transcript is in its window: rectangle arithmetic, without the X server.

The transcript region is what the window watcher looks at. With ``transcript_in_window`` in the
roster (two points of the window, each from one of its corners: the region's top-left and
bottom-right) it is the rectangle between them. Otherwise it is a default that fits the chat panes
of Cursor, VS Code and Windsurf: the window's area from below its title and tab strip
(``TOP_STRIP`` of its height) down to ``ABOVE_INPUT`` px above the chat input point, the full
width less ``MARGIN`` px each side. The band above the input is left out so that the input's
blinking caret and the text being typed there are never read as the agent at work. Without a chat
point on the window, the region ends ``NO_INPUT_BOTTOM`` px above the window's bottom edge.

Every rectangle is ``(x, y, width, height)`` in root (screen) coordinates; a region is clipped to
the window and to the screen, and is None when too little of it is left to watch.
"""
from __future__ import annotations

from collections.abc import Sequence

from quarterdeck.core.desktop.window_match import anchor_point
from quarterdeck.core.models import GuiTransport, WindowPoint

__all__ = ["ABOVE_INPUT", "MARGIN", "MIN_SIDE", "NO_INPUT_BOTTOM", "TOP_STRIP", "Rect", "chat_point",
           "clip", "default_region", "intersects", "region_between", "transcript_region"]

Rect = tuple[int, int, int, int]
Point = tuple[int, int]

TOP_STRIP = 0.08  # of the window's height: the title and tab strip above a chat pane
ABOVE_INPUT = 60  # px above the chat input point: the input box, its caret and what is typed there
MARGIN = 8  # px left out at the window's left and right edges (borders, scrollbars fading in)
NO_INPUT_BOTTOM = 120  # px above the bottom edge, when no chat point lies on the window
MIN_SIDE = 16  # px: a region narrower or shorter than this is not watched


def clip(rect: Rect, *bounds: Rect | None) -> Rect | None:
    """``rect`` cut to every rectangle of ``bounds`` (None ones skipped); None when less than
    ``MIN_SIDE`` px of width or height is left."""
    left, top, right, bottom = rect[0], rect[1], rect[0] + rect[2], rect[1] + rect[3]
    for box in bounds:
        if box is not None:
            left, top = max(left, box[0]), max(top, box[1])
            right, bottom = min(right, box[0] + box[2]), min(bottom, box[1] + box[3])
    if right - left < MIN_SIDE or bottom - top < MIN_SIDE:
        return None
    return left, top, right - left, bottom - top


def intersects(a: Rect, b: Rect) -> bool:
    """Do two rectangles share at least one pixel?"""
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _inside(point: Point, rect: Rect) -> bool:
    return rect[0] <= point[0] < rect[0] + rect[2] and rect[1] <= point[1] < rect[1] + rect[3]


def chat_point(transport: GuiTransport, window: Rect) -> Point | None:
    """The chat input point in ``window`` (its client area): ``chat_in_window`` from its corner,
    else the screen point ``chat`` as captured; None when it does not lie on the window."""
    at = transport.chat_in_window
    point = anchor_point(at, window) if at is not None else (int(transport.chat[0]), int(transport.chat[1]))
    return point if _inside(point, window) else None


def default_region(window: Rect, chat: Point | None) -> Rect | None:
    """The default transcript region of ``window`` (see the module docstring)."""
    x, y, width, height = window
    top = y + round(height * TOP_STRIP)
    bottom = chat[1] - ABOVE_INPUT if chat is not None else y + height - NO_INPUT_BOTTOM
    return clip((x + MARGIN, top, width - 2 * MARGIN, bottom - top), window)


def region_between(corners: Sequence[WindowPoint], window: Rect) -> Rect | None:
    """The rectangle from the first point (its top-left pixel) to the second (one past its
    bottom-right pixel), each placed from its corner of ``window``; clipped to the window."""
    (left, top), (right, bottom) = (anchor_point(at, window) for at in corners)
    return clip((left, top, right - left, bottom - top), window)


def transcript_region(transport: GuiTransport, window: Rect, screen: Rect | None = None) -> Rect | None:
    """The region to watch for an agent whose window's client area is ``window``, clipped to
    ``screen`` (the root window) when given; None when there is nothing left to watch."""
    corners = transport.transcript_in_window
    region = region_between(corners, window) if corners is not None else default_region(
        window, chat_point(transport, window))
    return clip(region, screen) if region is not None else None
