"""A transcript region's look, and whether two looks differ by more than a blinking caret.

A look is the region's pixels as grabbed (python-xlib ``GetImage``, ``ZPixmap``), kept at every
``STEP``-th row and column as one number per pixel: a line of chat text changes thousands of
pixels, so the subsampled look still sees it, at a quarter of the memory and comparison time.
The grab asks for bands of at most ``BAND_ROWS`` rows: python-xlib joins a reply's pieces by
copying, so one big reply costs quadratically more than a few smaller ones (1200x800 px: 7-11 ms
as one request, 1.3-2 ms as bands of 200 rows, on Xvfb).

Chromium's caret (measured under Xvfb: 1 px wide, 16 px tall, toggled every ~0.53 s) is a change
that lies within ``CARET`` sampled columns, however tall: no change (``changed``). Otherwise a
look changed when at least ``MIN_CHANGED`` sampled pixels moved (one line of text: ~2300 pixels,
~570 sampled).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Look = NDArray[Any]  # (rows, columns), one value per sampled pixel

__all__ = ["BAND_ROWS", "CARET", "MIN_CHANGED", "STEP", "changed", "differs", "grab", "look_of"]

STEP = 2  # keep every 2nd row and column
BAND_ROWS = 192  # rows a GetImage request asks for at most
CARET = 2  # sampled columns: a change no wider than this is a caret
MIN_CHANGED = 8  # sampled pixels


def look_of(data: bytes, width: int, height: int) -> Look:
    """The look of one grabbed ``ZPixmap`` (``width`` x ``height`` px): one uint32 per pixel when
    the server sends 32 bits a pixel (depth 24 and 32), else the bytes of each row as they are."""
    import numpy as np

    if not height or not width:
        return np.zeros((0, 0), dtype=np.uint32)
    row = len(data) // height
    pixels: Look
    if row % 4 == 0 and row >= 4 * width:
        pixels = np.frombuffer(data, dtype=np.uint32, count=row // 4 * height).reshape(height, row // 4)[:, :width]
    else:
        pixels = np.frombuffer(data, dtype=np.uint8, count=row * height).reshape(height, row)
    return np.ascontiguousarray(pixels[::STEP, ::STEP])


def grab(drawable: Any, rect: tuple[int, int, int, int]) -> Look:
    """The look of ``rect`` (x, y, width, height in ``drawable``'s coordinates: a python-xlib
    window), in bands of rows starting on a multiple of ``STEP`` so the subsampling is the same as
    in one grab."""
    import numpy as np
    from Xlib import X

    x, y, width, height = rect
    parts = []
    for top in range(0, height, BAND_ROWS):
        rows = min(BAND_ROWS, height - top)
        raw = drawable.get_image(x, y + top, width, rows, X.ZPixmap, 0xFFFFFFFF).data
        parts.append(look_of(raw.encode("utf-8") if isinstance(raw, str) else raw, width, rows))
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def changed(before: Look, after: Look) -> int:
    """How many sampled pixels differ between two looks of one region: none when every change lies
    in one run of at most ``CARET`` columns (a caret); every pixel when the shapes differ."""
    import numpy as np

    if before.shape != after.shape:
        return int(after.size)
    moved = before != after
    columns = np.flatnonzero(moved.any(axis=0))
    if not len(columns) or columns[-1] - columns[0] < CARET:
        return 0
    return int(np.count_nonzero(moved))


def differs(before: Look, after: Look) -> bool:
    """Did the region change between two looks (more than a caret)?"""
    return changed(before, after) >= MIN_CHANGED
