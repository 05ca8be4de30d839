"""Where the demo chat windows go, and which screen pixel a click must hit. Qt-free arithmetic.

The panel takes the left half of the primary screen's free area and the windows share the right
half, so neither covers the other (the chat windows are ordinary windows, not kept on top). They
tile that half in the grid whose cells come closest to a chat pane's shape while staying readable
(``MIN_WIDTH`` x ``MIN_HEIGHT``); when no grid is readable (many agents on a small screen) they
cascade inside it, each offset from the last, smaller than the half but never over the panel.
Tiled cells never overlap and keep a gap, so each window's frame (title bar and border, added by
the window manager) fits inside its own cell.

Qt reports positions in logical (device-independent) pixels; PyAutoGUI clicks physical ones.
Within a screen scaled by ``ratio``, a point's offset from the screen's top-left corner scales,
while the corner itself is already physical on X11 (Qt places scaled screens at their native
origin).
"""
from __future__ import annotations

import math
from typing import NamedTuple

__all__ = ["MIN_HEIGHT", "MIN_WIDTH", "Rect", "cascaded", "free_area", "tile", "to_physical"]

MIN_WIDTH = 300
MIN_HEIGHT = 240
GAP = 8
CASCADE_STEP = 32  # how far each cascaded window sits from the one before it
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


def _cells(columns: int, count: int, area: Rect) -> list[Rect]:
    rows = math.ceil(count / columns)
    width, height = area.width // columns, area.height // rows
    return [Rect(area.x + (i % columns) * width + GAP, area.y + (i // columns) * height + GAP,
                 width - 2 * GAP, height - 2 * GAP) for i in range(count)]


def _halves(available: Rect) -> tuple[Rect, Rect]:
    left = available.width // 2
    return (Rect(available.x, available.y, left, available.height),
            Rect(available.x + left, available.y, available.width - left, available.height))


def _fits(cells: list[Rect]) -> bool:
    return cells[0].width >= MIN_WIDTH and cells[0].height >= MIN_HEIGHT


def _grid(count: int, area: Rect) -> list[Rect] | None:
    """The readable grid whose cells are closest to a chat pane's shape, or None."""
    grids = [cells for columns in range(1, count + 1) if _fits(cells := _cells(columns, count, area))]
    if not grids:
        return None
    return min(grids, key=lambda cells: abs(math.log(cells[0].width / cells[0].height / _PANE_ASPECT)))


def cascaded(count: int, area: Rect) -> list[Rect]:
    """``count`` windows stacked from the top-left of ``area``, each ``CASCADE_STEP`` further in."""
    step = min(CASCADE_STEP, max(0, (area.width - 2 * GAP - MIN_WIDTH) // max(count - 1, 1)),
               max(0, (area.height - 2 * GAP - MIN_HEIGHT) // max(count - 1, 1)))
    width = max(min(MIN_WIDTH, area.width - 2 * GAP), area.width - 2 * GAP - step * (count - 1))
    height = max(min(MIN_HEIGHT, area.height - 2 * GAP), area.height - 2 * GAP - step * (count - 1))
    return [Rect(area.x + GAP + i * step, area.y + GAP + i * step, width, height) for i in range(count)]


def tile(count: int, available: Rect) -> list[Rect]:
    """``count`` frame rectangles (window plus decorations) in the right half of ``available``:
    a grid that never overlaps, else a cascade."""
    if count < 1:
        return []
    area = _halves(available)[1]
    return _grid(count, area) or cascaded(count, area)


def free_area(count: int, available: Rect) -> Rect | None:
    """Where the panel sits beside ``count`` demo windows: the left half (None without windows)."""
    return _halves(available)[0] if count >= 1 else None


def to_physical(point: tuple[int, int], screen: Rect, ratio: float) -> tuple[int, int]:
    """The physical pixel under logical ``point`` on a screen at logical ``screen`` scaled by ``ratio``."""
    x, y = point
    return (round(screen.x + (x - screen.x) * ratio), round(screen.y + (y - screen.y) * ratio))
