"""Where the demo chat windows go, and which screen pixel a click must hit. Qt-free arithmetic.

The windows tile the right half of the primary screen's free area, so the Quarterdeck panel can
sit on the left; when that half is too small for ``count`` readable panes the whole free area is
used. Cells never overlap and keep a gap, so each window's frame (title bar and border, added by
the window manager) fits inside its own cell.

Qt reports positions in logical (device-independent) pixels; PyAutoGUI clicks physical ones.
Within a screen scaled by ``ratio``, a point's offset from the screen's top-left corner scales,
while the corner itself is already physical on X11 (Qt places scaled screens at their native
origin).
"""
from __future__ import annotations

import math
from typing import NamedTuple

__all__ = ["MIN_HEIGHT", "MIN_WIDTH", "Rect", "free_area", "tile", "to_physical"]

MIN_WIDTH = 340
MIN_HEIGHT = 260
GAP = 8
_PANE_ASPECT = 0.9  # width / height a chat pane looks right at


class Rect(NamedTuple):
    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    def overlaps(self, other: Rect) -> bool:
        return (self.x < other.right and other.x < self.right
                and self.y < other.bottom and other.y < self.bottom)


def _grid(count: int, area: Rect) -> tuple[int, int]:
    """(columns, rows) making cells closest to a chat pane's shape."""
    columns = round(math.sqrt(count * area.width / area.height / _PANE_ASPECT))
    columns = min(max(columns, 1), count)
    return columns, math.ceil(count / columns)


def _cells(count: int, area: Rect) -> list[Rect]:
    columns, rows = _grid(count, area)
    width, height = area.width // columns, area.height // rows
    return [Rect(area.x + (i % columns) * width + GAP, area.y + (i // columns) * height + GAP,
                 width - 2 * GAP, height - 2 * GAP) for i in range(count)]


def _halves(available: Rect) -> tuple[Rect, Rect]:
    left = available.width // 2
    return (Rect(available.x, available.y, left, available.height),
            Rect(available.x + left, available.y, available.width - left, available.height))


def _fits(cells: list[Rect]) -> bool:
    return cells[0].width >= MIN_WIDTH and cells[0].height >= MIN_HEIGHT


def tile(count: int, available: Rect) -> list[Rect]:
    """``count`` non-overlapping frame rectangles (window plus decorations) inside ``available``."""
    if count < 1:
        return []
    cells = _cells(count, _halves(available)[1])
    return cells if _fits(cells) else _cells(count, available)


def free_area(count: int, available: Rect) -> Rect | None:
    """Where the panel can sit beside ``count`` tiled windows: the left half, or None if they take all."""
    if count >= 1 and not _fits(_cells(count, _halves(available)[1])):
        return None
    return _halves(available)[0]


def to_physical(point: tuple[int, int], screen: Rect, ratio: float) -> tuple[int, int]:
    """The physical pixel under logical ``point`` on a screen at logical ``screen`` scaled by ``ratio``."""
    x, y = point
    return (round(screen.x + (x - screen.x) * ratio), round(screen.y + (y - screen.y) * ratio))
