"""PyAutoGUI, the mouse and keyboard of GUI delivery, imported on first use: importing it needs a
display. Re-exported by ``quarterdeck.core.transports.gui.transport``.
"""
from __future__ import annotations

import sys
import warnings
from typing import Any

from quarterdeck.core.delivery.errors import PermanentError

__all__ = ["load_pyautogui"]


def load_pyautogui() -> Any:  # the pyautogui module (untyped)
    """Import PyAutoGUI, or raise ``PermanentError`` naming why no display can be driven."""
    try:
        import tkinter  # noqa: F401
    except ImportError:
        # PyAutoGUI imports MouseInfo as optional, but MouseInfo calls sys.exit() when tkinter is
        # missing (a Python without python3-tk); marked absent, PyAutoGUI does without it
        # typeshed types sys.modules as modules only; None there is the documented "absent" marker
        sys.modules.setdefault("mouseinfo", None)  # type: ignore[arg-type]
    try:
        with warnings.catch_warnings():
            # python-xlib opens the Xauthority file without closing it.
            warnings.filterwarnings("ignore", category=ResourceWarning, module=r"Xlib(\.|$)")
            import pyautogui
    except Exception as exc:  # KeyError('DISPLAY'), XauthError, DisplayConnectionError, ...
        raise PermanentError(f"no display to drive for GUI delivery: {type(exc).__name__}: {exc}") from exc
    return pyautogui
