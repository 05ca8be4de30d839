"""The Charts panel: delivery rate, latency, failures and queue depth over time, and timelines
of every agent's circuit breaker and activity.

Data flow (charts pull, nothing pushes per sample):

- the monitor's sampler thread (started by ``quarterdeck.gui.delivery``) samples every series each
  ``collection_interval``; a ``FleetFeed`` adds the breaker states (a breaker listener) and the
  outbox depth (``counts_by_state`` on ``ctx.jobs`` once a second) as monitor gauges;
- a 100 ms timer feeds the curves whose series got a new sample (``ChartGrid.pull``) and then
  shows the window ending now;
- a 1 s timer moves the window along to the present, redraws the breaker bands and updates the
  "now" line of current values (text is costly to paint, so not at 10 Hz); it also replays the
  recorded agent events of the window on ``ctx.jobs`` into activity bands, and the activity
  timeline's tooltip says how long each agent spent in each state.

The window's end is rounded up to a 60th of its length, so the view moves in small steps and the
axes (whose text is most of a frame's cost) are redrawn only when it does.

Pause freezes the view (data keeps accumulating in the monitor) so it can be zoomed and panned
with the mouse; zooming or panning while live pauses by itself, and un-pausing jumps back to the
present. Nothing is refreshed while the panel is hidden, except the gauges.

The charts themselves (pyqtgraph, numpy) are made when the panel first comes in front; until then
a stand-in keeps their room (gui/charts/lazy.py); breaker states and gauges are recorded all along.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QAction, QShowEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from quarterdeck.core.monitor.fleet import FleetFeed
from quarterdeck.gui.charts.activity import Replayed, activity_tip, replay
from quarterdeck.gui.charts.controls import WINDOWS, ChartControls, chart_actions
from quarterdeck.gui.charts.lazy import GridSlot
from quarterdeck.gui.panel import Panel

if TYPE_CHECKING:  # annotations only
    from quarterdeck.core.resilience import BreakerEvent
    from quarterdeck.core.roster.roster import Roster
    from quarterdeck.gui.charts.plots import ChartGrid
    from quarterdeck.gui.context import AppContext

FRAME_MS = 100
TICK_MS = 1000
FOLLOW_STEPS = 60


class ChartsPanel(Panel):
    NAME = "charts"
    TITLE = "Charts"
    AREA = Qt.DockWidgetArea.BottomDockWidgetArea
    TAB_WITH = "history"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(ctx, parent)
        self.clock = clock  # the monitor's clock
        # the seconds shown (not ``window``: that would hide QWidget.window())
        seconds = ctx.settings.get("charts/window", 300, int)
        self.window_seconds = seconds if seconds in dict(WINDOWS) else 300
        self._counting = self._replaying = False
        self._queue: dict[str, int] = {}
        self.feed = FleetFeed(ctx.monitor, clock=clock)
        self.feed.attach(ctx.delivery.dispatcher.breakers)
        self._build_actions()
        self._build()
        self._adopt_roster(ctx.fleet)  # every machine's agents, with relays
        self._frame_timer = QTimer(self)
        self._frame_timer.setInterval(FRAME_MS)
        self._frame_timer.timeout.connect(self._on_frame_timer_timeout)
        self._tick_timer = QTimer(self)
        self._tick_timer.setInterval(TICK_MS)
        self._tick_timer.timeout.connect(self._on_tick_timer_timeout)
        ctx.sig_fleet_changed.connect(self._on_ctx_fleet_changed)
        ctx.sig_agent_focused.connect(self._on_ctx_agent_focused)
        ctx.delivery.sig_breaker_event.connect(self._on_delivery_breaker_event)
        self._frame_timer.start()
        self._tick_timer.start()
        self._on_tick_timer_timeout()

    # -- building ----------------------------------------------------------------------------
    def _build_actions(self) -> None:
        self.pause_action, self.window_group, self.window_actions = chart_actions(self, self.window_seconds)
        self.pause_action.toggled.connect(self._on_pause_toggled)
        self.window_group.triggered.connect(self._on_window_group_triggered)

    def _build(self) -> None:
        self.controls = ChartControls(self.pause_action, self.window_seconds, self)
        self.agent_box = self.controls.agent_box
        self.window_box = self.controls.window_box
        self.pause_button = self.controls.pause_button
        self.now_label = self.controls.now_label
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.controls)
        self.slot = GridSlot(self, layout, self._on_grid_made)  # the charts, made when first shown
        self.slot.offset = time.time() - time.monotonic()  # monotonic sample times -> wall clock
        self.agent_box.currentIndexChanged.connect(self._on_agent_box_changed)
        self.window_box.currentIndexChanged.connect(self._on_window_box_changed)

    def commands(self) -> list[QAction]:
        return [self.pause_action, *self.window_actions.values()]

    @property
    def grid(self) -> ChartGrid:
        """The charts (made now if they were not: pyqtgraph is imported then)."""
        return self.slot.made()

    def _on_grid_made(self, grid: ChartGrid) -> None:
        for box in grid.view_boxes:
            box.sigRangeChangedManually.connect(self._on_view_range_changed_manually)

    # -- state -------------------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        return self.pause_action.isChecked()

    @property
    def agent(self) -> str | None:
        return self.agent_box.currentData()

    def set_window(self, seconds: int) -> None:
        self.window_box.setCurrentIndex(self.controls.window_index(seconds))

    def set_agent(self, agent: str | None) -> None:
        index = self.agent_box.findData(agent)
        if index >= 0:
            self.agent_box.setCurrentIndex(index)

    def _adopt_roster(self, roster: Roster) -> bool:  # False: these agents are charted already
        if (ids := list(roster.ids())) == getattr(self, "_ids", None):
            return False
        self._ids = ids
        fell_back = self.controls.set_agents(ids)
        breakers = self.ctx.delivery.dispatcher.breakers
        for agent_id in ids:
            self.feed.track(agent_id, breakers.get(agent_id).state)
        self.slot.set_agents(ids)
        if fell_back:
            self._on_agent_box_changed(self.agent_box.currentIndex())
        return True

    # -- refreshing --------------------------------------------------------------------------
    def refresh(self, *, follow: bool = True) -> None:
        """Feed the curves with new samples and, if ``follow``, move to the present and redraw
        the breaker bands up to now. While paused (another agent was chosen) the view stays."""
        fed = self.grid.pull(self.ctx.monitor, self.agent)
        if self.paused:
            return
        if fed or follow:
            self._follow()
        if follow:
            self._show_bands(self.clock())

    def _follow(self) -> None:
        """Show the window ending at the present, rounded up to a 60th of the window: the view
        moves in small regular steps, and between them the axes need no redrawing."""
        step = self.window_seconds / FOLLOW_STEPS
        end = math.ceil((self.clock() + self.grid.offset) / step) * step
        oldest = [x[0] for x, _ in (self.grid.data(k) for k in self.grid.curves) if len(x)]
        self.grid.show_window(end - self.window_seconds, end, min(oldest) if oldest else None)

    def _show_bands(self, end: float) -> None:
        """Every band up to ``end`` (there are few), so panning back while paused finds them."""
        bands = self.feed.bands(self.grid.timeline.agents, -math.inf, end)
        self.grid.timeline.show_bands(bands, self.grid.offset)

    def _update_now_label(self) -> None:
        stats = self.ctx.monitor.delivery_stats(self.agent)
        self.controls.show_now(stats, self._queue, self.agent, self.paused)

    def _count_queue(self) -> None:
        if self._counting:
            return  # the last count is still running: never pile up queries
        try:
            self.ctx.jobs.run(self.ctx.store.counts_by_state, self._on_counts_done,
                              self._on_counts_failed, owner=self)
        except RuntimeError:  # the background runner has shut down: so is the app
            self.shutdown()
            return
        self._counting = True

    def _replay_activity(self) -> None:
        """The window's activity bands, replayed off the UI thread (the table may be large)."""
        if self._replaying:
            return
        data_dir, agents, end = self.ctx.store.path.parent, self.grid.activity.agents, time.time()
        try:
            self.ctx.jobs.run(lambda: replay(data_dir, agents, end - self.window_seconds, end),
                              self._on_replay_done, self._on_replay_failed, owner=self)
        except RuntimeError:
            return
        self._replaying = True

    def _on_replay_done(self, result: Replayed) -> None:
        self._replaying = False
        bands, totals = result
        self.grid.activity.show_bands(bands, 0.0)  # stretches are wall-clock already
        self.grid.activity.setToolTip(activity_tip(totals, self.window_seconds))

    def _on_replay_failed(self, error: BaseException) -> None:
        self._replaying = False
        self.ctx.sig_status.emit(f"Charts: the agents' activity could not be read ({type(error).__name__}: {error})")

    def _on_counts_done(self, counts: dict[str, int]) -> None:
        self._counting = False
        self._queue = counts
        self.feed.record_outbox(counts)

    def _on_counts_failed(self, error: BaseException) -> None:
        self._counting = False
        self.ctx.sig_status.emit(f"Charts: the outbox could not be counted ({type(error).__name__})")

    # -- slots -------------------------------------------------------------------------------
    @Slot()
    def _on_frame_timer_timeout(self) -> None:
        if self.isVisible() and not self.paused and self.slot.grid is not None:
            self.refresh(follow=False)

    @Slot()
    def _on_tick_timer_timeout(self) -> None:
        self._count_queue()
        if self.isVisible():
            if not self.paused and self.slot.grid is not None:
                self.refresh()
                self._replay_activity()
            self._update_now_label()

    @Slot(bool)
    def _on_pause_toggled(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        if not paused and self.slot.grid is not None:
            self.grid.forget()
            self.refresh()
        self._update_now_label()

    @Slot(object)
    def _on_view_range_changed_manually(self, _mask: object) -> None:
        if not self.paused:
            self.pause_action.setChecked(True)

    @Slot(int)
    def _on_window_box_changed(self, index: int) -> None:
        self.window_seconds = int(self.window_box.itemData(index))
        self.window_actions[self.window_seconds].setChecked(True)
        self.ctx.settings.set("charts/window", self.window_seconds, 300)
        self.pause_action.setChecked(False)
        if self.slot.grid is not None:
            self.refresh()

    @Slot(QAction)
    def _on_window_group_triggered(self, action: QAction) -> None:
        self.set_window(int(action.data()))

    @Slot(int)
    def _on_agent_box_changed(self, _index: int) -> None:
        if self.slot.grid is not None:
            self.grid.forget()
            self.refresh()
        self._update_now_label()

    @Slot()
    def _on_ctx_fleet_changed(self) -> None:  # this machine's roster saved, or the relays read (every 2 s)
        if self._adopt_roster(self.ctx.fleet) and self.slot.grid is not None:
            self._show_bands(self.clock())

    @Slot(str)
    def _on_ctx_agent_focused(self, agent_id: str) -> None:
        self.set_agent(agent_id)

    @Slot(object)
    def _on_delivery_breaker_event(self, event: BreakerEvent) -> None:
        if event.kind == "state_transition" and not self.paused and self.isVisible() and self.slot.grid is not None:
            self._show_bands(self.clock())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.dock() is None:  # on its own; in the window, a dock behind a tab is shown too
            self.came_in_front()
        elif self.slot.grid is not None and not self.paused:
            self.refresh()
        self._update_now_label()

    def came_in_front(self) -> None:
        self.slot.made()
        if not self.paused:
            self.refresh()
        self._update_now_label()

    def shutdown(self) -> None:
        self._frame_timer.stop()
        self._tick_timer.stop()

