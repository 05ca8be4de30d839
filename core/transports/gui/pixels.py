"""Evidence for a GUI delivery from the pixels of the agent's input box (Qt-free).

Where accessibility gives no read-back (an app started without it, an xterm), ``PixelWatch``
looks at a band of the screen around the chat point: the width of the agent's window (at most
``REACH`` px either side of the point) and ``BAND`` px high, centred on the point's row.

- ``PixelWatch.start`` after the click, once the input has the focus: the empty-input look (the
  focus ring, the caret and the placeholder are part of it), taken when two grabs in a row agree;
- ``pasted()`` after the paste and the clipboard's quiet moment: the look must differ from the
  empty one (within ``CHANGE_WITHIN``), else the watch makes no claim;
- ``cleared()`` after the submit keys: polls (at most ``CLEAR_WITHIN``) until the band looks empty
  again. True only when the paste changed it and the submit brought it back.

Pixels are weak evidence: they may upgrade a delivery to ``submitted`` but never fail one (no
``not_typed`` / ``typed_not_submitted`` from here: a wrong failure could make a retry paste twice).

Comparison (``differs``): a pixel changed when one colour channel moved more than ``THRESHOLD``
(anti-aliasing and subpixel noise stay below it); runs of changed columns at most ``CARET`` px wide
are a caret (blinking, or moved) and ignored; the look changed when at least ``MIN_CHANGED`` of the
band's pixels (and ``MIN_PIXELS``) changed outside such runs.

The grab is python-xlib's ``GetImage`` of the band on the shared connection of
``quarterdeck.core.transports.gui.windows.shared_desk`` (Xvfb, 480x40 px: 0.3-2.5 ms a grab, ~5 grabs
and ~50 ms a delivery; ``mss`` grabbed in 0.04 ms but needs its own connection and a new dependency).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where pixels are read; Xlib's Desk needs a display
    import numpy as np
    from numpy.typing import NDArray

    from quarterdeck.core.desktop.window_match import Window
    from quarterdeck.core.desktop.x11.desk import Desk

    Pixels = NDArray[np.uint8]  # (height, width, channels)

__all__ = ["BAND", "SEEN", "PixelWatch", "differs", "grab", "watch_pixels"]

log = logging.getLogger(__name__)

SEEN = "input seen on screen"
BAND = 40  # px high, centred on the chat point's row
REACH = 400  # px either side of the point, within the window
THRESHOLD = 48  # per colour channel, 0-255
CARET = 3  # px: a run of changed columns this narrow is a caret
MIN_CHANGED = 0.001  # of the band's pixels
MIN_PIXELS = 8
SETTLE_WITHIN = 0.15  # s for the empty look to hold still (a focus ring painting in)
# terminal emulators (WM_CLASS class, lower case): the pixels of their input line say nothing
TERMINALS = frozenset({"xterm", "uxterm", "urxvt", "rxvt", "alacritty", "kitty", "gnome-terminal-server",
                       "gnome-terminal", "konsole", "xfce4-terminal", "terminator", "tilix", "foot", "st-256color",
                       "org.wezfurlong.wezterm", "wezterm", "ghostty", "com.mitchellh.ghostty"})
CHANGE_WITHIN = 0.3  # s for the paste to show
CLEAR_WITHIN = 0.6  # s for the submit to empty the input (Chromium: 25-35 ms)
INTERVAL = 0.015  # s between grabs while polling

Box = tuple[int, int, int, int]  # x, y, width, height on the root window


def band(point: Sequence[int], window: Box | None, screen: tuple[int, int] | None = None) -> Box | None:
    """The box to watch around ``point``: clipped to ``window`` (x, y, w, h) and the screen."""
    x, y = int(point[0]), int(point[1])
    left, top, right, bottom = x - REACH, y - BAND // 2, x + REACH, y + BAND - BAND // 2
    for wx, wy, ww, wh in (box for box in (window, (0, 0, *screen) if screen else None) if box):
        left, top, right, bottom = max(left, wx), max(top, wy), min(right, wx + ww), min(bottom, wy + wh)
    if right - left < 2 * CARET + 2 or bottom - top < 4:
        return None
    return left, top, right - left, bottom - top


def grab(desk: Desk, box: Box) -> Pixels:
    """The band's pixels, a numpy array (height, width, 3), off the desk's X connection."""
    import numpy as np
    from Xlib import X

    x, y, width, height = box
    with desk.lock:
        image = desk.root.get_image(x, y, width, height, X.ZPixmap, 0xFFFFFFFF)
    raw = image.data  # python3-xlib hands back a str when the bytes happen to decode as UTF-8
    data = np.frombuffer(raw.encode("utf-8") if isinstance(raw, str) else raw, dtype=np.uint8)
    per_pixel = len(data) // (width * height) if width * height else 0
    if per_pixel < 3:  # a depth this module does not read (8 or 16 bit): compare bytes as they are
        return data.reshape(height, -1, 1)
    return data[: width * height * per_pixel].reshape(height, width, per_pixel)[:, :, :3]


def changed_pixels(a: Pixels, b: Pixels) -> int:
    """How many pixels differ between two grabs of one band, caret-wide column runs aside."""
    import numpy as np

    if a.shape != b.shape:
        return a.size
    moved = (np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2) > THRESHOLD)
    columns = moved.any(axis=0).tolist()
    keep = np.ones(len(columns), dtype=bool)
    start = None
    for index, changed in enumerate([*columns, False]):
        if changed and start is None:
            start = index
        elif not changed and start is not None:
            if index - start <= CARET:
                keep[start:index] = False
            start = None
    return int(moved[:, keep].sum())


def differs(a: Pixels, b: Pixels) -> bool:
    """Do two grabs of one band look different (see the module docstring)?"""
    pixels: int = a.shape[0] * a.shape[1]
    return changed_pixels(a, b) >= max(MIN_PIXELS, pixels * MIN_CHANGED)


class PixelWatch:
    """One input box's look through one delivery (see the module docstring)."""

    def __init__(self, desk: Desk, box: Box, *, settle_within: float = SETTLE_WITHIN) -> None:
        self.desk = desk
        self.box = box
        self.grabs = 0
        self.grab_seconds = 0.0
        self.changed: bool | None = None  # set by pasted()
        self.empty = self._settled(settle_within)

    def _grab(self) -> Pixels:
        start = time.perf_counter()
        try:
            return grab(self.desk, self.box)
        finally:
            self.grabs += 1
            self.grab_seconds += time.perf_counter() - start

    def _settled(self, within: float) -> Pixels:
        """The look once two grabs in a row agree (or the last one after ``within`` s)."""
        deadline = time.monotonic() + within
        last = self._grab()
        while time.monotonic() < deadline:
            time.sleep(INTERVAL)
            now = self._grab()
            if not differs(now, last):
                return now
            last = now
        return last

    def _until(self, want_differs: bool, within: float) -> bool:
        deadline = time.monotonic() + within
        while True:
            if differs(self._grab(), self.empty) == want_differs:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(INTERVAL)

    def pasted(self, within: float = CHANGE_WITHIN) -> bool:
        """After the paste: did the input's look change from the empty one? (Never raises.)"""
        try:
            self.changed = self._until(True, within)
        except Exception as exc:  # the X connection ended, the band left the screen: no claim
            log.debug("no pixels after the paste: %s", exc)
            self.changed = None
        return bool(self.changed)

    def cleared(self, within: float = CLEAR_WITHIN) -> bool:
        """After the submit keys: True once the band looks empty again (only after a change)."""
        if not self.changed:
            return False
        try:
            return self._until(False, within)
        except Exception as exc:
            log.debug("no pixels after the submit: %s", exc)
            return False

    def evidence(self, keys: str, cleared: bool) -> str:
        """What the pixels showed, for the receipt."""
        if self.changed is None:
            return f"{SEEN}: could not be looked at after the paste"
        if not self.changed:
            return f"{SEEN}: no change after the paste (the text may be elsewhere or missing)"
        return f"{SEEN}: changed by the paste, " + (f"back to empty after {keys}" if cleared
                                                     else f"did not clear after {keys}")

    @property
    def cost(self) -> str:
        return f"{self.grabs} grabs, {self.grab_seconds * 1000:.1f} ms"


def watch_pixels(point: tuple[int, int], window: Window | None) -> PixelWatch | None:
    """A ``PixelWatch`` on the band around ``point`` in ``window`` (the agent's, or the one the
    click reached; None: the band is clipped to the screen only), or None where no screen can be
    read or the window is a terminal."""
    if window is not None and window.wm_class[1].lower() in TERMINALS:
        return None  # a terminal's input never clears after Enter: its output scrolls instead
    try:
        from quarterdeck.core.transports.gui.windows import shared_desk

        desk = shared_desk()
        screen = desk.display.screen()
        box = band(point, window.rect if window is not None else None,
                   (screen.width_in_pixels, screen.height_in_pixels))
        return PixelWatch(desk, box) if box is not None else None
    except Exception as exc:  # no display, no numpy, an X error on a window that just closed
        log.debug("no pixel watch at %s: %s", point, exc)
        return None
