"""A time axis in wall-clock time whose tick steps are round to a person (10 s, 1 min, 15 min)
and always leave room for their labels, however narrow the chart.

pyqtgraph's ``DateAxisItem`` switches to hour-wide ticks as soon as a chart is a little narrower
than about one pixel a second, which leaves a 5-minute chart with a single label.
"""
from __future__ import annotations

import time
from typing import Any

import pyqtgraph as pg
import PySide6  # noqa: F401  (pyqtgraph picks the binding already imported)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem

STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400)
LABEL_PX = (62, 44)  # room for "16:20:30" (steps under a minute) and for "16:20", with a gap


class ClockAxis(pg.AxisItem):
    def __init__(self, orientation: str = "bottom", **kwargs: Any) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)
        self._major = 60.0

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:
        span = maxVal - minVal
        if span <= 0 or size <= 0:
            return []
        per_px = span / size
        major = next((s for s in STEPS if s / per_px >= LABEL_PX[s >= 60]), STEPS[-1])
        smaller = [s for s in STEPS if s < major and major % s == 0 and s / per_px >= 12]
        self._major = float(major)
        levels = [(float(major), 0.0)]
        if smaller:
            levels.append((float(smaller[-1]), 0.0))
        return levels

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        if spacing != self._major:
            return [""] * len(values)  # minor ticks: grid lines, no labels
        fmt = "%H:%M:%S" if spacing < 60 else "%H:%M"
        return [time.strftime(fmt, time.localtime(v)) for v in values]


def quiet_axes(plot: pg.PlotItem, colour: QColor) -> None:
    """Axes in the theme's colour that cost little to repaint: no SI-prefix relabelling (even the
    hidden top and right axes do it on every range change), grid lines at labelled ticks only,
    and each axis kept as a pixmap until its ticks change."""
    for name in ("left", "bottom", "top", "right"):
        axis = plot.getAxis(name)
        axis.enableAutoSIPrefix(False)
        if name in ("left", "bottom"):
            axis.setPen(colour)
            axis.setTextPen(colour)
            axis.setStyle(maxTickLevel=0)
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
