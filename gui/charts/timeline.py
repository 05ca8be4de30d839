"""Band timelines: one row per agent, its states over time as coloured bands.

Two are drawn under the charts: each agent's circuit breaker (bands from
``quarterdeck.core.monitor.fleet.FleetFeed.bands``, exact transition times, not the 5 s samples)
and each agent's activity (working, idle, needs-you ...; stretches replayed from the recorded
agent events by ``quarterdeck.core.activity.timeline.stretches``). One ``BarGraphItem`` per
timeline is re-fed, never re-created; there are few bands per agent, so re-feeding costs next to
nothing.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import pyqtgraph as pg
import PySide6  # noqa: F401  (pyqtgraph picks the binding already imported)

from quarterdeck.core.resilience.breaker_types import State
from quarterdeck.gui.activity.cells import COLOURS as ACTIVITY_COLOURS
from quarterdeck.gui.charts.axis import ClockAxis, quiet_axes
from quarterdeck.gui.charts.sizes import timeline_minimum
from quarterdeck.gui.charts.style import STATE_COLOURS, STATE_NAMES, Theme

ROW_PX = 18  # height of one agent row (down to quarterdeck.gui.charts.sizes.MIN_ROW_PX)
BAND_HEIGHT = 0.7  # of a row


class BandLike(Protocol):
    @property
    def agent(self) -> str: ...
    @property
    def state(self) -> object: ...
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...


class BandTimeline(pg.PlotItem):
    """``colours`` and ``names`` are keyed by state, in the order the title's key lists them."""

    def __init__(self, theme: Theme, title: str, colours: Mapping[Any, str], names: Mapping[Any, str],
                 tip: str) -> None:
        super().__init__(axisItems={"bottom": ClockAxis("bottom")})
        fg = theme.foreground
        key = "&nbsp;&nbsp;".join(f"<span style='color:{colour}'>&#9632;</span>&nbsp;{names[state]}"
                                  for state, colour in colours.items())
        self.setTitle(f"{title}&nbsp;&nbsp;&nbsp;<span style='font-size:8pt'>{key}</span>", size="10pt", color=fg)
        self.setToolTip(tip)
        self.hideButtons()
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)  # it follows the charts' range
        self.disableAutoRange()
        self.invertY(True)
        self.showGrid(x=False, y=False)
        quiet_axes(self, fg)
        self.getAxis("left").setWidth(90)
        self.bars = pg.BarGraphItem(x0=np.empty(0), x1=np.empty(0), y0=np.empty(0),
                                    y1=np.empty(0), pen=pg.mkPen(None), brushes=[])
        self.addItem(self.bars)
        self._brushes = {state: pg.mkBrush(colour) for state, colour in colours.items()}
        self.agents: tuple[str, ...] = ()
        self.bands: list[BandLike] = []
        self.set_agents(())

    def set_agents(self, agents: Sequence[str]) -> None:
        """One row per agent, in roster order; the plot grows to fit them."""
        self.agents = tuple(agents)
        rows = max(len(self.agents), 1)
        self.getAxis("left").setTicks([[(n, agent) for n, agent in enumerate(self.agents)]])
        self.setYRange(-0.5, rows - 0.5, padding=0)
        # title and time axis take ~52 px; rows get ROW_PX each, down to MIN_ROW_PX (still room
        # for the agent's name) when the dock is short: the charts need the height more
        self.setMinimumHeight(timeline_minimum(len(self.agents)))
        self.setPreferredHeight(rows * ROW_PX + 52)
        self.setMaximumHeight(rows * ROW_PX + 52)

    def show_bands(self, bands: Sequence[BandLike], offset: float) -> None:
        """Draw ``bands`` at plot x = time + ``offset``."""
        rows = {agent: n for n, agent in enumerate(self.agents)}
        shown = [b for b in bands if b.agent in rows and b.state in self._brushes]
        self.bands = shown
        y = np.array([rows[b.agent] for b in shown], dtype=float)
        self.bars.setOpts(
            x0=np.array([b.start for b in shown], dtype=float) + offset,
            x1=np.array([b.end for b in shown], dtype=float) + offset,
            y0=y - BAND_HEIGHT / 2, y1=y + BAND_HEIGHT / 2,
            brushes=[self._brushes[b.state] for b in shown])

    def state_at_end(self, agent: str) -> object | None:
        """The state of the agent's latest band shown (for tests and tooltips)."""
        mine = [b for b in self.bands if b.agent == agent]
        return mine[-1].state if mine else None


class BreakerTimeline(BandTimeline):
    def __init__(self, theme: Theme) -> None:
        super().__init__(theme, "Circuit breakers", STATE_COLOURS, STATE_NAMES,
                         "Each agent's circuit breaker over time: "
                         + ", ".join(f"{STATE_NAMES[s]} ({_colour_word(s)})" for s in STATE_COLOURS) + ".")


class ActivityTimeline(BandTimeline):
    """Each agent's activity over the window, and (in its tooltip) the time spent in each state."""

    def __init__(self, theme: Theme) -> None:
        super().__init__(theme, "Agent activity", ACTIVITY_COLOURS, {s: s for s in ACTIVITY_COLOURS},
                         "What each agent was doing, from its hooks and from watching its pane or window.")


def _colour_word(state: State) -> str:
    return {State.CLOSED: "green", State.HALF_OPEN: "amber", State.OPEN: "red",
            State.FORCED_OPEN: "purple", State.DISABLED: "grey"}[state]
