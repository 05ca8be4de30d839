"""PyAutoGUI, the mouse and keyboard of GUI delivery, imported on first use: importing it needs a
display. Re-exported by ``quarterdeck.core.transports.gui.transport``.

PyAutoGUI talks to X through one python-xlib connection of its own, made when it is imported and
shared by every thread, and python-xlib's connections are not thread-safe: two threads calling it at
once (a delivery clicking while another thread's batch gives the pointer back) can take each other's
replies and leave one waiting forever. So what :func:`load_pyautogui` gives is PyAutoGUI with every
call made under one lock of this process; no library wraps it that way.
"""
from __future__ import annotations

import functools
import sys
import threading
import warnings
from typing import Any

from quarterdeck.core.delivery.errors import PermanentError

__all__ = ["load_pyautogui"]

_LOCK = threading.RLock()  # one caller of PyAutoGUI at a time in this process


class _OneAtATime:
    """A module's functions, each called under :data:`_LOCK`; its other attributes as they are (set
    ones, such as ``PAUSE``, are set on the module)."""

    def __init__(self, module: Any) -> None:
        object.__setattr__(self, "_module", module)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._module, name)
        if not callable(value) or isinstance(value, type):  # a setting, or an exception class
            return value

        @functools.wraps(value)
        def locked(*args: Any, **kwargs: Any) -> Any:
            with _LOCK:
                return value(*args, **kwargs)

        return locked

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._module, name, value)


def load_pyautogui() -> Any:  # the pyautogui module (untyped)
    """PyAutoGUI (its calls one at a time, see the module docstring), or ``PermanentError`` naming why
    no display can be driven."""
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
    return _OneAtATime(pyautogui)
