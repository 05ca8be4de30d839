"""The four metric charts in one pyqtgraph scene, with the breaker and activity timelines under them.

Each curve is made once and only ever fed with ``setData``: clearing and re-plotting is slow and
has crashed pyqtgraph. A curve is fed only when its monitor series got a new sample (the
monitor samples every ``collection_interval``), so polling at 10 Hz costs a few array copies
while nothing changes. Curves downsample to peaks and clip to the visible range, are drawn
without antialiasing, and every axis range is set here (x to the chosen window, y to a round
ceiling over the visible values), so pyqtgraph never recomputes an auto-range on a frame.

Time is plotted as wall-clock seconds (``DateAxisItem``): the monitor's monotonic sample times
plus ``offset``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
import PySide6  # noqa: F401  (pyqtgraph picks the binding already imported)
from PySide6.QtCore import Slot
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QWidget

from quarterdeck.core.monitor.fleet import QUEUE_GAUGES, axis_ceiling
from quarterdeck.gui.charts.axis import ClockAxis, quiet_axes
from quarterdeck.gui.charts.sizes import CHART_MIN
from quarterdeck.gui.charts.style import Theme
from quarterdeck.gui.charts.timeline import ActivityTimeline, BreakerTimeline

if TYPE_CHECKING:  # annotations only
    from quarterdeck.core.monitor import Monitor


@dataclass(frozen=True)
class CurveSpec:
    key: str  # id and colour key
    label: str  # in the legend
    series: str  # the monitor series
    per_agent: bool = True  # False: always the whole-outbox series (the queue gauges)
    scale: float = 1.0


@dataclass(frozen=True)
class ChartSpec:
    key: str
    title: str
    tip: str
    curves: tuple[CurveSpec, ...]
    minimum: float  # the smallest y ceiling: a quiet chart keeps a sensible scale
    fixed: bool = False  # the y range is always [0, minimum]


CHARTS = (
    ChartSpec("rate", "Deliveries per second", "Finished deliveries per second over the last "
              "minute, and how many of them failed.",
              (CurveSpec("finished", "finished", "delivery_throughput"),
               CurveSpec("failed", "failed", "delivery_failed_throughput")),
              0.1),
    ChartSpec("latency", "Latency (seconds)", "Time per delivery, retries included: the median, "
              "95th and 99th percentile of the most recent deliveries (up to 1,000).",
              (CurveSpec("p50", "p50", "delivery_p50_seconds"),
               CurveSpec("p95", "p95", "delivery_p95_seconds"),
               CurveSpec("p99", "p99", "delivery_p99_seconds")), 0.1),
    ChartSpec("failures", "Failure rate (%)", "Share of the last minute's deliveries that failed.",
              (CurveSpec("failure_rate", "failed", "delivery_failure_rate", scale=100.0),),
              100.0, fixed=True),
    ChartSpec("queue", "Outbox queue (all agents)", "Deliveries waiting in the outbox (queued) "
              "and being typed (sending), for every agent.",
              (CurveSpec("queued", "queued", QUEUE_GAUGES["queued"], per_agent=False),
               CurveSpec("sending", "sending", QUEUE_GAUGES["sending"], per_agent=False)), 5.0),
)

TITLE_SIZE = "10pt"
WIDE_PX = 980  # narrower than this, the charts go two by two: their titles need ~200 px each


class ChartGrid(pg.GraphicsLayoutWidget):
    """The charts and the timeline (see the module docstring)."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        self.plots: dict[str, pg.PlotItem] = {}
        super().__init__(parent)
        self.setObjectName("charts-grid")
        self.theme = theme
        self.offset = 0.0
        self.setBackground(theme.background)
        self.ci.setContentsMargins(4, 4, 4, 4)
        self.ci.setSpacing(6)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._specs: dict[str, tuple[ChartSpec, CurveSpec]] = {}
        self._data: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._stamps: dict[str, tuple[int, float]] = {}
        self._limits: tuple[float, float] | None = None
        for chart in CHARTS:
            self.plots[chart.key] = self._make_plot(chart)
        self.timeline = BreakerTimeline(theme)
        self.activity = ActivityTimeline(theme)
        self.columns = 0
        self._place(len(CHARTS))
        master = self.plots[CHARTS[0].key]
        for plot in list(self.plots.values())[1:]:
            plot.setXLink(master)  # side by side, so pyqtgraph copies the range as it is
        self.master = master.getViewBox()
        self.view_boxes = [p.getViewBox() for p in self.plots.values()]
        # the full-width timeline is not linked: pyqtgraph lines overlapping views up pixel by
        # pixel, which would stretch its range; it follows the charts' range instead
        self.master.sigXRangeChanged.connect(self._on_master_x_range_changed)

    def _place(self, columns: int) -> None:
        """The charts in ``columns`` columns (all in a row when wide, two by two when narrow),
        the timeline across all of them below."""
        if columns == self.columns:
            return
        for item in (*self.plots.values(), self.timeline, self.activity):
            if item in self.ci.items:
                self.ci.removeItem(item)
        for n, chart in enumerate(CHARTS):
            self.ci.addItem(self.plots[chart.key], row=n // columns, col=n % columns)
        below = math.ceil(len(CHARTS) / columns)
        self.ci.addItem(self.timeline, row=below, col=0, colspan=columns)
        self.ci.addItem(self.activity, row=below + 1, col=0, colspan=columns)
        for column in range(len(CHARTS)):
            self.ci.layout.setColumnStretchFactor(column, 1 if column < columns else 0)
        self.columns = columns
        self.fit_minimum()

    def fit_minimum(self) -> None:
        """Never smaller than the charts and the timeline's rows need (the dock keeps to it)."""
        rows = math.ceil(len(CHARTS) / max(self.columns, 1))
        self.setMinimumSize(2 * CHART_MIN[0] + 20,
                            int(rows * CHART_MIN[1] + self.timeline.minimumHeight() + self.activity.minimumHeight()
                                + 6 * rows + 20))

    def resizeEvent(self, event: QResizeEvent | None) -> None:
        if self.plots:  # pyqtgraph calls this (with None) while it is being built
            self._place(len(CHARTS) if self.width() >= WIDE_PX else 2)
        super().resizeEvent(event)

    def _make_plot(self, chart: ChartSpec) -> pg.PlotItem:
        fg = self.theme.foreground
        plot = pg.PlotItem(axisItems={"bottom": ClockAxis("bottom")})
        plot.setTitle(self._title(chart), size=TITLE_SIZE, color=fg)
        plot.setToolTip(chart.tip)
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=True, y=False)
        plot.disableAutoRange()
        plot.showGrid(x=True, y=True, alpha=self.theme.grid_alpha)
        plot.setYRange(0, chart.minimum, padding=0)
        plot.setLimits(yMin=0)
        quiet_axes(plot, fg)
        plot.getAxis("left").setWidth(42)
        plot.setPreferredWidth(300)
        plot.setMinimumHeight(CHART_MIN[1])  # title, key, axis and still some data
        plot.setPreferredHeight(220)
        for spec in chart.curves:
            # peak downsampling to one min/max pair per pixel draws all that a pixel can show
            curve = plot.plot(name=spec.label, pen=pg.mkPen(self.theme.curve(spec.key), width=1),
                              antialias=False, autoDownsampleFactor=1.0)
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            curve.setObjectName(f"curve-{spec.key}")
            self.curves[spec.key] = curve
            self._specs[spec.key] = (chart, spec)
        return plot

    def _title(self, chart: ChartSpec) -> str:
        """The title, and under it the legend: a coloured dash per curve (a legend inside the
        plot would hide the data under it, one beside the title would widen the chart)."""
        key = "&nbsp;&nbsp;".join(
            f"<span style='color:{self.theme.curve(c.key)}'>&#9473;&#9473;</span>&nbsp;{c.label}"
            for c in chart.curves)
        return f"{chart.title}<br><span style='font-size:8pt'>{key}</span>"

    def legend(self, chart_key: str) -> list[tuple[str, str]]:
        """(label, colour) of each curve of a chart, as its title shows them."""
        chart = next(c for c in CHARTS if c.key == chart_key)
        return [(c.label, self.theme.curve(c.key)) for c in chart.curves]

    @Slot(object, object)
    def _on_master_x_range_changed(self, _box: object, x_range: tuple[float, float]) -> None:
        self.timeline.setXRange(*x_range, padding=0)
        self.activity.setXRange(*x_range, padding=0)

    # -- data --------------------------------------------------------------------------------
    def forget(self) -> None:
        """The selection changed: feed every curve on the next ``pull`` even if unchanged."""
        self._stamps.clear()

    def pull(self, monitor: Monitor, agent: str | None) -> bool:
        """Feed each curve whose series has a new sample; True if any was fed."""
        labels = {"agent": agent} if agent else None
        fed = False
        for key, curve in self.curves.items():
            _chart, spec = self._specs[key]
            t, v = monitor.series(spec.series, labels if spec.per_agent else None)
            stamp = (len(t), float(t[-1]) if len(t) else 0.0)
            if self._stamps.get(key) == stamp:
                continue
            self._stamps[key] = stamp
            if spec.scale != 1.0:
                v = v * spec.scale
            x = t + self.offset
            curve.setData(x, v)
            self._data[key] = (x, v)
            fed = True
        return fed

    def data(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """The (x, y) last given to a curve (x already in wall-clock seconds)."""
        return self._data.get(key, (np.empty(0), np.empty(0)))

    # -- ranges ------------------------------------------------------------------------------
    def show_window(self, start: float, end: float, oldest: float | None = None) -> None:
        """Show ``[start, end]`` (plot x) and fit each chart's y ceiling to what is visible; panning
        stays within the data (``oldest``) and the present."""
        low = min(start, oldest) if oldest is not None else start
        limits = (math.floor(low / 60) * 60.0, math.ceil((end + 1) / 60) * 60.0 + 60.0)
        if limits != self._limits:  # moved once a minute: each change costs a re-layout
            self._limits = limits
            for box in self.view_boxes:
                box.setLimits(xMin=limits[0], xMax=limits[1], minXRange=5.0)
        self.master.setXRange(start, end, padding=0)
        for chart in CHARTS:
            if chart.fixed:
                continue
            visible = [v[np.searchsorted(x, start):] for x, v in
                       (self.data(spec.key) for spec in chart.curves)]
            top = axis_ceiling(np.concatenate(visible) if visible else np.empty(0), chart.minimum)
            plot = self.plots[chart.key]
            if plot.viewRange()[1] != [0.0, top]:
                plot.setYRange(0, top, padding=0)
        for box in (*self.view_boxes, self.timeline.getViewBox(), self.activity.getViewBox()):
            # settle the new transforms now: left to the paint, they make pyqtgraph's items ask
            # for a second paint of every frame
            box.updateMatrix()

    def x_range(self) -> tuple[float, float]:
        low, high = self.master.viewRange()[0]
        return float(low), float(high)
