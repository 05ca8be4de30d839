"""The first start's column of panels: the roster shows its fleet, the composer stays whole.

With no saved layout the roster (tiles or table) gets the height that shows every agent and the
composer below it the height it would like, each up to ``SHARE`` percent of the window; but the
roster never takes so much that the composer cannot show everything down to its Send button
without scrolling (the composer gets at least that). The other panels of the column (the history
at 1920x1080) keep the rest. Switching the roster between tiles and table sizes the column again
while the layout is still the first start's (none saved), and so does the STOPPED banner coming or
going (it takes a row above the panels: Send must stay in view).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow, QSplitter, QWidget

if TYPE_CHECKING:  # annotations only
    from quarterdeck.gui.mainwindow import MainWindow

SHARE = 45  # percent of the window's height the roster, or the composer, asks for at most
SEND_MARGIN = 4  # pixels kept below the Send button
AGAIN_MS = 100  # rows arrive one after another: the column is sized once they have
_LINKED = "quarterdeck-first-start-linked"


def column_heights(total: int, roster_wish: int, composer_need: int, composer_wish: int, cap: int,
                   others: list[int]) -> list[int]:
    """Heights for a column of ``total`` pixels: the roster, the composer, then ``others`` (their
    current heights, sharing what is left in proportion). See the module docstring."""
    floor = min(composer_need, total)
    roster = max(0, min(roster_wish, cap, total - floor))
    if not others:
        return [roster, total - roster]
    composer = max(floor, min(composer_wish, cap))
    composer = max(0, min(composer, total - roster))
    rest, weight = total - roster - composer, sum(others) or len(others)
    shares = [rest * (h or 1) // weight for h in others]
    shares[-1] += rest - sum(shares)
    return [roster, composer, *shares]


def dock_need(dock: QDockWidget, panel_height: int) -> int:
    """The dock's height for its panel to be ``panel_height`` tall (title bar and frame added)."""
    inside = dock.widget()
    return dock.height() - (inside.height() if inside is not None else 0) + panel_height


def roster_wish(window: MainWindow) -> int:
    """The roster's dock height that shows its whole fleet (tiles at this width, or table rows)."""
    return dock_need(window.docks["roster"], window.panels["roster"].sizeHint().height())


def composer_need(dock: QDockWidget, panel: QWidget) -> int:
    """The composer's dock height that shows it down to Send: its minimum, less the last send's
    rows at the bottom (they scroll into view)."""
    progress = getattr(panel, "progress", None)
    below = progress.minimumSizeHint().height() if isinstance(progress, QWidget) else 0
    split = panel.findChild(QSplitter)
    below += split.handleWidth() if split is not None else 0
    layout = panel.layout()
    below += layout.contentsMargins().bottom() if layout is not None else 0
    return dock_need(dock, panel.minimumSizeHint().height() - below + SEND_MARGIN)


def column_of(window: QMainWindow, dock: QDockWidget) -> list[QDockWidget]:
    """The docks on screen in ``dock``'s column (same area, overlapping it sideways), top first."""
    area, left, right = window.dockWidgetArea(dock), dock.x(), dock.x() + dock.width()
    found = [d for d in window.findChildren(QDockWidget)
             if d.isVisible() and not d.isFloating() and not d.visibleRegion().isEmpty()
             and window.dockWidgetArea(d) == area and d.x() < right and left < d.x() + d.width()]
    return sorted(found, key=lambda d: d.y())


def size_left_column(window: MainWindow) -> None:
    """Size the roster and the composer (see the module docstring)."""
    roster, composer = window.docks.get("roster"), window.docks.get("composer")
    cap = window.height() * SHARE // 100
    if composer is not None and composer.isVisible():
        need = composer_need(composer, window.panels["composer"])
        wish = dock_need(composer, window.panels["composer"].sizeHint().height())
        window.resizeDocks([composer], [max(need, min(wish, cap))], Qt.Orientation.Vertical)
    if roster is None or not roster.isVisible():
        return
    _link(window)
    column = column_of(window, roster)
    if composer is None or composer not in column or column.index(composer) != column.index(roster) + 1:
        window.resizeDocks([roster], [min(roster_wish(window), cap)], Qt.Orientation.Vertical)
        return
    others = [d for d in column if d not in (roster, composer)]
    need = composer_need(composer, window.panels["composer"])
    heights = column_heights(sum(d.height() for d in column), roster_wish(window), need,
                             dock_need(composer, window.panels["composer"].sizeHint().height()), cap,
                             [d.height() for d in others])
    for _ in range(6):  # the dock layout shares out the sizes by weight: correct what it gave the composer
        window.resizeDocks([roster, composer, *others], heights, Qt.Orientation.Vertical)
        if (layout := window.layout()) is not None:
            layout.activate()
        short = min(need, heights[1]) - composer.height()
        if short <= 0 or heights[0] <= 0:
            break
        heights[0] -= min(short, heights[0])


def _link(window: MainWindow) -> None:
    """While no layout is saved, the column is sized again when the roster's rows come or go and
    when it switches between tiles and table (linked once per roster panel)."""
    panel = window.panels["roster"]
    if panel.property(_LINKED):
        return
    panel.setProperty(_LINKED, True)
    again = QTimer(panel)
    again.setSingleShot(True)
    again.setInterval(AGAIN_MS)
    again.timeout.connect(lambda: _resize_if_first_start(window))
    action = getattr(panel, "actions_by_name", {}).get("table")
    if action is not None:
        action.toggled.connect(again.start)
    status = getattr(window, "status", None)
    if status is not None:  # the STOPPED banner takes a row above the panels, or gives it back
        status.banner.visibilityChanged.connect(again.start)
    model = getattr(panel, "model", None)
    if model is not None:
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(again.start)


def _resize_if_first_start(window: MainWindow) -> None:
    if not window.layout_guard.kept():
        size_left_column(window)
