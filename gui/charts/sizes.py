"""The least sizes of the charts and their timelines, without pyqtgraph: the charts keep to them
and so does their stand-in before they are made (gui/charts/lazy.py), so the two cannot disagree."""
from __future__ import annotations

CHART_MIN = (200, 110)  # px: a title and its key fit, an axis and some data
MIN_ROW_PX = 14  # a timeline's agent row when the dock is short
TIMELINE_CHROME_PX = 48  # a timeline's title and time axis, at its minimum


def timeline_minimum(agents: int) -> int:
    """The least height of a timeline with a row for each of ``agents`` (one row when none)."""
    return max(agents, 1) * MIN_ROW_PX + TIMELINE_CHROME_PX


def grid_minimum(agents: int, rows: int = 1) -> tuple[int, int]:
    """The least size of the charts in ``rows`` rows (one when wide) and their two timelines of
    ``agents`` rows."""
    return 2 * CHART_MIN[0] + 20, rows * CHART_MIN[1] + 2 * timeline_minimum(agents) + 6 * rows + 20
