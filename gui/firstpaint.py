"""Work that waits until a window has been painted once.

``QTimer.singleShot(0)`` after ``show()`` is not late enough: on X11 the window is painted when
the server's expose arrives, after a zero timer has already run. :func:`after_first_paint` hears
the window's first paint event and runs the callbacks on the turn of the event loop after it
(the painted frame is on the screen by then), in the order they were given. A window that is
never painted (hidden, or on a platform that paints nothing) runs them after ``fallback_ms``.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

FALLBACK_MS = 3000
_WATCHER = "quarterdeck-first-paint"


class _FirstPaint(QObject):
    def __init__(self, window: QWidget, fallback_ms: int) -> None:
        super().__init__(window)
        self.setObjectName(_WATCHER)
        self.window = window
        self.callbacks: list[Callable[[], object]] = []
        self.painted_at: float | None = None  # time.monotonic() of the first paint
        self._fired = False
        window.installEventFilter(self)
        self._fallback = QTimer(self)
        self._fallback.setSingleShot(True)
        self._fallback.setInterval(fallback_ms)
        self._fallback.timeout.connect(self._fire)
        self._fallback.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Paint and self.painted_at is None:
            self.painted_at = time.monotonic()
            self.window.removeEventFilter(self)
            QTimer.singleShot(0, self._fire)
        return False

    def _fire(self) -> None:
        if self._fired:
            return
        self._fired = True
        self._fallback.stop()
        self.window.removeEventFilter(self)
        while self.callbacks:
            self.callbacks.pop(0)()


def after_first_paint(window: QWidget, callback: Callable[[], object], *, fallback_ms: int = FALLBACK_MS) -> None:
    """Run ``callback`` once ``window`` has been painted (at once, queued, if it has been)."""
    watcher = window.findChild(_FirstPaint, _WATCHER)
    if watcher is None:
        watcher = _FirstPaint(window, fallback_ms)
    if watcher._fired:
        QTimer.singleShot(0, watcher, callback)
    else:
        watcher.callbacks.append(callback)
