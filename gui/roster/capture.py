"""Capturing a screen point: a visible countdown, then wherever the pointer is.

The captain starts a capture, moves the pointer onto the agent's chat input (or onboarding input)
and waits: a one-second ``QTimer`` counts down (nothing blocks, the window stays responsive and
the capture can be cancelled), then the pointer position is read and reported.

Positions are reported in **physical pixels**, because that is what PyAutoGUI clicks at. Qt's
``QCursor.pos()`` is in logical (device-independent) pixels: on a screen scaled 2x, the pointer
at physical (3000, 1000) of a screen whose top-left is (1920, 0) reads (2460, 500). Qt keeps each
screen's top-left corner unscaled and divides distances from it by the screen's device pixel
ratio, so the conversion multiplies them back (``core.roster_edit.to_physical``).
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QCursor, QGuiApplication

from core.roster_edit import to_physical


def pointer_position() -> tuple[int, int]:
    """The pointer, in the physical pixels of the virtual desktop (see the module docstring)."""
    pos = QCursor.pos()
    screen = QGuiApplication.screenAt(pos) or QGuiApplication.primaryScreen()
    if screen is None:
        return pos.x(), pos.y()
    origin = screen.geometry().topLeft()
    return to_physical((pos.x(), pos.y()), (origin.x(), origin.y()), screen.devicePixelRatio())


class PointCapture(QObject):
    """One countdown at a time; ``start`` while one runs restarts it for the new target."""

    sig_ticked = Signal(int)  # seconds left (emitted at the start and every second)
    sig_captured = Signal(object)  # (x, y) in physical pixels
    sig_cancelled = Signal()

    def __init__(self, parent: QObject | None = None, *, seconds: int = 3,
                 pointer: Callable[[], tuple[int, int]] = pointer_position) -> None:
        super().__init__(parent)
        self.seconds = seconds
        self._pointer = pointer
        self._left = 0
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._on_timer_timeout)

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    @property
    def seconds_left(self) -> int:
        return self._left if self.active else 0

    def start(self) -> None:
        self._left = self.seconds
        self._timer.start()
        self.sig_ticked.emit(self._left)

    def cancel(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self.sig_cancelled.emit()

    @Slot()
    def _on_timer_timeout(self) -> None:
        self._left -= 1
        if self._left > 0:
            self.sig_ticked.emit(self._left)
            return
        self._timer.stop()
        self.sig_captured.emit(self._pointer())
