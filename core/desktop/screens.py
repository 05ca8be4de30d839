"""The monitors of the desktop, in the virtual-screen coordinates the mouse uses.

``detect_screens()`` asks the X server: one rectangle per active RandR CRTC, or the root window when
RandR reports none. It returns ``[]`` when no display can be queried (no ``DISPLAY``, no Xlib, the
server refused), and callers must then skip geometry checks rather than guess a size. On other
desktops (Windows, macOS) there is no X server, so the answer is ``[]`` as well.

Xlib is imported inside the functions, so importing this module never needs a display.
"""
from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ScreenRect:
    """One monitor: top-left corner (may be negative on multi-monitor desktops) and size."""

    x: int
    y: int
    width: int
    height: int
    name: str = ""

    def contains(self, x: int, y: int) -> bool:
        return self.x <= x < self.x + self.width and self.y <= y < self.y + self.height

    def __str__(self) -> str:
        return f"{self.width}x{self.height}{self.x:+d}{self.y:+d}"


def point_on_screens(pt: tuple[int, int], screens: Iterable[ScreenRect]) -> bool:
    """True if the point lies on at least one screen."""
    x, y = pt
    return any(screen.contains(x, y) for screen in screens)


def describe_screens(screens: Sequence[ScreenRect]) -> str:
    """``1920x1080+0+0, 1920x1080-1920+0`` (names left out: they vary between drivers)."""
    return ", ".join(str(s) for s in screens) if screens else "none"


def detect_screens(display_name: str | None = None) -> list[ScreenRect]:
    """The active monitors of the X display (``display_name`` or ``$DISPLAY``); ``[]`` if none answers."""
    if not (display_name or os.environ.get("DISPLAY")):
        return []
    try:
        from Xlib import display as xdisplay
        from Xlib import error as xerror
    except ImportError:
        return []
    with warnings.catch_warnings():
        # python-xlib leaves its Xauthority file open, and its socket too when the connection fails.
        warnings.filterwarnings("ignore", category=ResourceWarning)
        try:
            disp = xdisplay.Display(display_name)
        except (xerror.DisplayError, OSError):
            disp = None
    if disp is None:
        return []
    try:
        return screens_of(disp)
    except (xerror.XError, OSError):
        return []
    finally:
        disp.close()


def screens_of(disp: Any) -> list[ScreenRect]:  # an Xlib display (python-xlib is untyped)
    """The active monitors of an open python-xlib display (RandR, else the root window)."""
    screens = _randr_screens(disp)
    if not screens:
        geometry = disp.screen().root.get_geometry()
        screens = [ScreenRect(0, 0, geometry.width, geometry.height, "root")]
    return screens


def _randr_screens(disp: Any) -> list[ScreenRect]:
    """One rectangle per CRTC that shows a mode; ``[]`` without RandR."""
    if not disp.has_extension("RANDR"):
        return []
    from Xlib import error as xerror

    root = disp.screen().root
    try:
        resources = root.xrandr_get_screen_resources()
    except xerror.XError:
        return []
    stamp = resources.config_timestamp
    screens: list[ScreenRect] = []
    for crtc in resources.crtcs:
        info = _crtc_info(disp, crtc, stamp)
        if info.mode == 0 or info.width == 0 or info.height == 0:
            continue
        name = ""
        if info.outputs:
            name = _text(disp.xrandr_get_output_info(info.outputs[0], stamp).name)
        screens.append(ScreenRect(info.x, info.y, info.width, info.height, name))
    return sorted(screens, key=lambda s: (s.x, s.y))


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _crtc_info(disp: Any, crtc: int, stamp: int) -> Any:
    """RRGetCrtcInfo, declared with its position fields."""
    return _crtc_info_request()(display=disp.display, opcode=disp.display.get_extension_major("RANDR"),
                                crtc=crtc, config_timestamp=stamp)


@functools.cache
def _crtc_info_request() -> Any:
    """The RRGetCrtcInfo request class.

    The reply layout is declared here because python3-xlib 0.15's own declaration leaves out the
    x and y fields and so misreads every field after the timestamp.
    """
    from Xlib.protocol import rq

    class _GetCrtcInfo(rq.ReplyRequest):  # type: ignore[misc]  # python-xlib is untyped
        _request = rq.Struct(
            rq.Card8("opcode"), rq.Opcode(20), rq.RequestLength(),
            rq.Card32("crtc"), rq.Card32("config_timestamp"),
        )
        _reply = rq.Struct(
            rq.ReplyCode(), rq.Card8("status"), rq.Card16("sequence_number"), rq.ReplyLength(),
            rq.Card32("timestamp"),
            rq.Int16("x"), rq.Int16("y"), rq.Card16("width"), rq.Card16("height"),
            rq.Card32("mode"), rq.Card16("rotation"), rq.Card16("possible_rotations"),
            rq.LengthOf("outputs", 2), rq.LengthOf("possible_outputs", 2),
            rq.List("outputs", rq.Card32Obj), rq.List("possible_outputs", rq.Card32Obj),
        )

    return _GetCrtcInfo
