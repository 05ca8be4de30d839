"""SIGTERM and Ctrl+C for a command that delivers: end promptly, typing nothing new, losing nothing.

While ``Interruptible(dispatcher)`` is entered (in the main thread), SIGTERM and SIGINT no longer
kill the process at an arbitrary point: they ``interrupt()`` the dispatcher, so its waits end at
once, it claims nothing more, a delivery it had claimed but not begun typing goes back to the
queue, and one being typed ends the way a stop would leave it. The caller then says what is left
queued (for the panel, ``quarterdeck serve`` or the next command) and ends with ``Interrupted``.
A second signal while the first is handled ends the process at once, as before.
"""
from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Protocol

from quarterdeck.core.store.rows import DeliveryRow

__all__ = ["Interrupted", "Interruptible"]

_SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), signal.SIGINT) if s is not None)


class _Interruptable(Protocol):
    def interrupt(self) -> None: ...


class Interrupted(KeyboardInterrupt):
    """The command was ended by ``signal_name``; ``left`` are the rows it left queued."""

    def __init__(self, signal_name: str, left: list[DeliveryRow]) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name
        self.left = left


class Interruptible:
    """Context manager; ``signal`` is the name of the signal that came (None while none did)."""

    def __init__(self, dispatcher: _Interruptable) -> None:
        self._dispatcher = dispatcher
        self._previous: dict[int, Callable[[int, FrameType | None], object] | int | None] = {}
        self.signal: str | None = None

    def __enter__(self) -> Interruptible:
        if threading.current_thread() is threading.main_thread():
            for number in _SIGNALS:
                self._previous[number] = signal.signal(number, self._heard)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()

    def _heard(self, number: int, frame: FrameType | None) -> None:
        if self.signal is not None:  # asked twice: go now
            signal.signal(number, signal.SIG_DFL)
            signal.raise_signal(number)
            return
        self.signal = signal.Signals(number).name
        self._dispatcher.interrupt()
