"""Which clipboard GUI delivery uses here, and the pyperclip backend for desktops without X11.

On X11, ``system_clipboard()`` gives the process's own selection owner (``X11Clipboard``, which
sees the pasting window read the text), or ``XclipClipboard`` where python-xlib cannot reach the
display. Elsewhere ``PyperclipClipboard``: its offers are None.
"""
from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TypeVar

from quarterdeck.core.desktop.clipboard.snapshot import EMPTY, ClipboardLike, ClipboardUnavailable, Snapshot
from quarterdeck.core.desktop.clipboard.xclip import XclipClipboard

__all__ = ["PyperclipClipboard", "system_clipboard"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class PyperclipClipboard:
    """The clipboard through pyperclip, for desktops without X11 (Windows, macOS)."""

    def __init__(self) -> None:
        import pyperclip

        self._pyperclip = pyperclip

    def _call(self, fn: Callable[..., T], *args: str) -> T:
        try:
            return fn(*args)
        except self._pyperclip.PyperclipException as exc:
            raise ClipboardUnavailable(str(exc)) from exc

    def get(self) -> str | None:
        text: str = self._call(self._pyperclip.paste)
        return text or None

    def save(self) -> Snapshot:
        text = self.get()
        return EMPTY if text is None else Snapshot("UTF8_STRING", text.encode("utf-8"))

    def set(self, text: str) -> None:
        self._call(self._pyperclip.copy, text)

    def restore(self, snapshot: Snapshot, offer: None = None) -> None:
        self._call(self._pyperclip.copy, snapshot.text or "")


def system_clipboard() -> ClipboardLike:
    """On X11 the process's own clipboard owner (``X11Clipboard``), or xclip where python-xlib cannot
    reach the display (``ClipboardUnavailable`` without xclip); pyperclip elsewhere."""
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        try:
            from quarterdeck.core.desktop.clipboard.x11 import shared_x11_clipboard

            return shared_x11_clipboard()
        except Exception as exc:  # no python-xlib, or the display refused the connection
            log.info("the clipboard is served by xclip (%s)", exc)
        return XclipClipboard()
    return PyperclipClipboard()
