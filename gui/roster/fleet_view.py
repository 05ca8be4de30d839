"""The fleet at a glance: one compact tile per agent, as many per row as the panel's width allows.

A captain with 8 to 20 agents needs all of them in view at once, so a tile holds only what is
acted on: its position in the fleet (the number typed in the composer's "2,5,7-9"), the agent,
the live status in its colour, the breaker, an open contract, how it is reached, and the last
message with its age and outcome. Pixel targets and other detail are in the tooltip. Tiles are
the rows of the roster's own ``RosterModel`` (column 0), painted by ``TileDelegate``; the extra
facts come from ``FleetFacts``. Click, Ctrl/Shift-click and the arrow keys (with Shift, or Ctrl
and Space) select tiles; ``sizeHint`` asks for the height the whole fleet needs at this width.
"""
from __future__ import annotations

import html
import time

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    QTimer,
    Slot,
)
from PySide6.QtGui import QAction, QHelpEvent, QHideEvent, QKeyEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QToolTip, QWidget

from quarterdeck.gui.roster.fleet_facts import FleetFacts
from quarterdeck.gui.roster.fleet_tile import DENSE_HEIGHT, MIN_TILE_WIDTH, SPACING, TILE_HEIGHT, TileDelegate
from quarterdeck.gui.roster.model import (
    ACTIVITY,
    AGENT_ID_ROLE,
    BREAKER,
    LAST,
    MACHINE,
    ROLE,
    STATUS,
    TARGET,
    TRANSPORT,
)
from quarterdeck.gui.roster.widgets import run_roster_key

Index = QModelIndex | QPersistentModelIndex
CORNER_OPPOSITE = (1, 0, 3, 2)  # top-left, bottom-right, top-right, bottom-left


class FleetView(QListView):
    """The tiles; ``actions`` are the panel's, reached by the same keys as in the table."""

    def __init__(self, actions: dict[str, QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("roster-fleet")
        self._actions = actions
        self.facts: FleetFacts | None = None
        self.tile_size = QSize(MIN_TILE_WIDTH, TILE_HEIGHT)
        self.dense = False  # two-line tiles: the panel is too short for every roomy one
        self.setViewMode(QListView.ViewMode.ListMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setSpacing(SPACING // 2)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setItemDelegate(TileDelegate(self))
        self.setToolTip("")
        self.setAccessibleName("Fleet")
        self.setStyleSheet("QListView#roster-fleet { background: #f4f6f8; }")
        self._ages = QTimer(self)  # ages on the tiles count up
        self._ages.setInterval(1000)
        self._ages.timeout.connect(self.viewport().update)

    def set_facts(self, facts: FleetFacts) -> None:
        self.facts = facts
        facts.sig_changed.connect(self._on_facts_changed)

    def setModel(self, model: QAbstractItemModel | None) -> None:
        super().setModel(model)
        if model is None:
            return
        # the status, breaker and last cells live in other columns: repaint on any change
        model.dataChanged.connect(self._on_model_data_changed)
        model.rowsInserted.connect(self._fit)
        model.rowsRemoved.connect(self._fit)

    # -- size ------------------------------------------------------------------------------------
    def usable_width(self, width: int | None = None) -> int:
        """The width tiles may use: a scroll bar's width is always kept free, so the number of
        columns does not change when one comes or goes."""
        width = self.width() if width is None else width
        return width - 2 * self.frameWidth() - self.verticalScrollBar().sizeHint().width() - 1

    def columns_for(self, width: int) -> int:
        return max(1, (width - 2 * SPACING) // (MIN_TILE_WIDTH + SPACING + 4))

    def rows_for(self, width: int) -> int:
        count = self.model().rowCount() if self.model() is not None else 0
        return max(1, -(-count // self.columns_for(width)))

    def height_for(self, width: int) -> int:
        """The height that shows every roomy tile when the view is ``width`` wide."""
        return self.rows_for(self.usable_width(width)) * (TILE_HEIGHT + SPACING) + SPACING + 2 * self.frameWidth()

    def sizeHint(self) -> QSize:
        width = max(self.width(), 2 * (MIN_TILE_WIDTH + SPACING))
        return QSize(width, self.height_for(width))

    def minimumSizeHint(self) -> QSize:
        return QSize(MIN_TILE_WIDTH + 2 * SPACING, DENSE_HEIGHT + 2 * SPACING + 2 * self.frameWidth())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    @Slot()
    def _fit(self) -> None:
        """Share the width among as many tiles per row as fit, at least ``MIN_TILE_WIDTH`` each;
        go dense (two lines a tile) when the roomy tiles would not all fit the height."""
        width = self.usable_width()
        if width < MIN_TILE_WIDTH // 2:
            return
        columns = self.columns_for(width)
        room = self.height() - 2 * self.frameWidth()
        dense = self.rows_for(width) * (TILE_HEIGHT + SPACING) + SPACING > room
        # each tile takes SPACING around it, and the list view a few pixels more per column
        tile = QSize(max(MIN_TILE_WIDTH // 2, (width - 2 * SPACING) // columns - SPACING - 4),
                     DENSE_HEIGHT if dense else TILE_HEIGHT)
        if tile != self.tile_size or dense != self.dense:
            self.tile_size, self.dense = tile, dense
            self.doItemsLayout()
            self.viewport().update()
        self.updateGeometry()

    # -- showing ---------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        """On screen: ages count up and the facts are read (and polled) again."""
        super().showEvent(event)
        self._ages.start()
        if self.facts is not None:
            self.facts.set_polling(True)

    def hideEvent(self, event: QHideEvent) -> None:
        self._ages.stop()
        if self.facts is not None:
            self.facts.set_polling(False)
        super().hideEvent(event)

    @Slot(QModelIndex, QModelIndex, list)
    def _on_model_data_changed(self, *_args: object) -> None:
        self.viewport().update()

    @Slot(object)
    def _on_facts_changed(self, _ids: set[str]) -> None:
        self.viewport().update()

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            index = self.indexAt(event.pos())
            if index.isValid():
                QToolTip.showText(event.globalPos(), self.tooltip_for(index), self.viewport(),
                                  self.visualRect(index))
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)

    def tooltip_for(self, index: Index) -> str:
        """Everything the tile leaves out: role, why the activity and the status, the breaker, the
        message in full as far as stored here, the contracts' titles, and the target (screen point,
        tmux pane, inbox folder)."""
        agent_id = index.data(AGENT_ID_ROLE)
        esc = html.escape

        def cell(column: int) -> tuple[str, str]:
            sibling = index.sibling(index.row(), column)
            return sibling.data() or "", sibling.data(Qt.ItemDataRole.ToolTipRole) or ""

        rows = [f"<b>{index.row() + 1} · {esc(index.data())}</b> {esc(cell(ROLE)[0])}"]
        for label, column in (("Machine", MACHINE), ("Activity", ACTIVITY), ("Status", STATUS),
                              ("Breaker", BREAKER), ("Last delivery", LAST)):
            text, tip = cell(column)
            if not text:  # no Machine on one machine
                continue
            rows.append(f"{label}: {esc(text)}" + (f" — {esc(tip)}" if tip and tip != text else ""))
        last = self.facts.last_message(agent_id) if self.facts is not None else None
        if last is not None:
            queued = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(last.created))
            rows.append(f"Last message (queued {queued}, {esc(last.outcome)}): “{esc(last.excerpt)}”")
        for held in self.facts.contracts(agent_id) if self.facts is not None else []:
            rows.append(f"Contract {esc(held.text())}: {esc(held.title)}")
        target, target_tip = cell(TARGET)
        rows.append(f"{esc(cell(TRANSPORT)[0])}: {esc(target)}" + (f" ({esc(target_tip)})" if target_tip else ""))
        return "<br>".join(rows)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not run_roster_key(self._actions, event):
            super().keyPressEvent(event)

    # -- selection -------------------------------------------------------------------------------
    def setSelection(self, rect: QRect, command: QItemSelectionModel.SelectionFlag) -> None:
        """Shift-click, Shift+arrow and a drag select a run in fleet order (2, 3, 4, 5), not the
        rectangle of tiles between the two on screen. Qt passes the rectangle spanned by the anchor
        and the new current tile; the run goes from the tile at the opposite corner to the current."""
        current, rect = self.currentIndex(), rect.normalized()
        corners = (rect.topLeft(), rect.bottomRight(), rect.topRight(), rect.bottomLeft())
        here = self.visualRect(current) if current.isValid() else QRect()
        start = next((self._tile_near(corners[CORNER_OPPOSITE[i]]) for i, corner in enumerate(corners)
                      if here.contains(corner)), QModelIndex())
        if not start.isValid():
            super().setSelection(rect, command)
            return
        low, high = sorted((start.row(), current.row()))
        model = self.model()
        self.selectionModel().select(QItemSelection(model.index(low, 0), model.index(high, 0)), command)

    def _tile_near(self, point: QPoint) -> QModelIndex:
        """The tile at ``point``, or next to it when the point is in the gap between tiles."""
        for dx, dy in ((0, 0), (-SPACING, 0), (SPACING, 0), (0, -SPACING), (0, SPACING)):
            index = self.indexAt(point + QPoint(dx, dy))
            if index.isValid():
                return index
        return QModelIndex()

    def selected_ids(self) -> list[str]:
        """The selected agents, in fleet order."""
        rows = sorted(i.row() for i in self.selectionModel().selectedIndexes())
        return [self.model().index(row, 0).data(AGENT_ID_ROLE) for row in rows]
