"""A brief pulse on a row whose activity changed, so the eye finds it.

``RowFlash.start(agent_id, colour)`` lights the agent's row up and lets it fade over
``DURATION_MS`` (a rise, then a fall); ``brush(agent_id)`` is the row's background meanwhile (the
colour at the pulse's strength, over the row's own background), None otherwise. One timer ticks
while any row pulses and asks ``repaint(ids)`` for the pulsing rows only: no other row repaints.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtGui import QBrush, QColor

DURATION_MS = 1000
TICK_MS = 40
PEAK_ALPHA = 110


class RowFlash(QObject):
    """See the module docstring; ``clock`` is seconds (monotonic), for tests."""

    def __init__(self, repaint: Callable[[set[str]], None], parent: QObject | None = None, *,
                 duration_ms: int = DURATION_MS, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self._repaint = repaint
        self._clock = clock
        self.duration = duration_ms / 1000
        self._lit: dict[str, tuple[float, QColor]] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

    def start(self, agent_id: str, colour: QColor) -> None:
        self._lit[agent_id] = (self._clock(), QColor(colour))
        if not self._timer.isActive():
            self._timer.start()
        self._repaint({agent_id})

    def active(self) -> set[str]:
        return set(self._lit)

    def level(self, agent_id: str) -> float:
        """The pulse's strength now, 0 to 1 (a sine arch over the duration)."""
        lit = self._lit.get(agent_id)
        if lit is None:
            return 0.0
        phase = (self._clock() - lit[0]) / self.duration
        return math.sin(math.pi * phase) if 0.0 <= phase < 1.0 else 0.0

    def brush(self, agent_id: str) -> QBrush | None:
        lit = self._lit.get(agent_id)
        if lit is None:
            return None
        colour = QColor(lit[1])
        colour.setAlpha(max(1, round(PEAK_ALPHA * self.level(agent_id))))
        return QBrush(colour)

    def forget(self, keep: set[str]) -> None:
        """Agents no longer shown stop pulsing."""
        for agent_id in set(self._lit) - keep:
            del self._lit[agent_id]

    def stop(self) -> None:
        self._timer.stop()
        self._lit.clear()

    @Slot()
    def _on_timer_timeout(self) -> None:
        now = self._clock()
        ended = {a for a, (began, _c) in self._lit.items() if now - began >= self.duration}
        for agent_id in ended:
            del self._lit[agent_id]
        if not self._lit:
            self._timer.stop()
        self._repaint(set(self._lit) | ended)
