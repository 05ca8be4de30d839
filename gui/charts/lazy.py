"""The charts are made when first shown: pyqtgraph and numpy are not imported before then.

:class:`GridSlot` holds the charts panel's place for its :class:`~quarterdeck.gui.charts.plots.ChartGrid`:
a plain stand-in widget as big as the charts' minimum (:func:`~quarterdeck.gui.charts.sizes.grid_minimum`),
replaced by the grid the first time it is asked for.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QBoxLayout, QWidget

from quarterdeck.gui.charts.sizes import grid_minimum
from quarterdeck.gui.charts.style import theme_of

if TYPE_CHECKING:  # annotations only
    from quarterdeck.gui.charts.plots import ChartGrid


class GridSlot:
    """The charts' place in ``layout`` (at ``index``, stretching), their agents, and the charts
    once made; ``on_made(grid)`` is called then."""

    def __init__(self, owner: QWidget, layout: QBoxLayout, on_made: Callable[[ChartGrid], None]) -> None:
        self.owner, self.layout, self.on_made = owner, layout, on_made
        self.grid: ChartGrid | None = None
        self.offset = 0.0  # plot x = monotonic sample time + offset
        self.agents: list[str] = []
        self.stand_in = QWidget(owner)
        self.stand_in.setObjectName("charts-stand-in")
        layout.addWidget(self.stand_in, 1)
        self.fit()

    def made(self) -> ChartGrid:
        """The charts, made now if they were not."""
        if self.grid is None:
            from quarterdeck.gui.charts.plots import ChartGrid

            grid = ChartGrid(theme_of(self.owner), self.owner)
            grid.offset = self.offset
            self.layout.replaceWidget(self.stand_in, grid)
            self.stand_in.deleteLater()
            self.grid = grid
            self.fit()
            self.on_made(grid)
        return self.grid

    def set_agents(self, agents: Sequence[str]) -> None:
        self.agents = list(agents)
        self.fit()

    def fit(self) -> None:
        """One timeline row per agent, in the charts or in the stand-in's room for them."""
        if self.grid is None:
            self.stand_in.setMinimumSize(*grid_minimum(len(self.agents)))
            return
        self.grid.timeline.set_agents(self.agents)
        self.grid.activity.set_agents(self.agents)
        self.grid.fit_minimum()
