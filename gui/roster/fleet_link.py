"""Keeps three selections in step: the selected tiles, the table's row, and the composer's
recipients.

The selected tiles *are* the next message's recipients: selecting tiles (click, Ctrl/Shift-click,
keys) checks exactly those agents in the composer, and checking agents in the composer (a click,
All, a group, a typed ``2,5,7-9``) selects their tiles. The table has one selected row, the agent
the roster's single-agent commands (edit, capture, breaker) act on: it follows the current tile,
and a row chosen in the table selects that tile alone. The composer is found through the main
window's ``panels`` (panels do not import each other); without one the tiles still select.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QObject, Slot
from PySide6.QtWidgets import QTableView, QWidget

from quarterdeck.gui.roster.fleet_view import FleetView
from quarterdeck.gui.roster.model import AGENT_ID_ROLE

if TYPE_CHECKING:  # annotations only: panels do not import each other
    from quarterdeck.gui.composer.recipients import RecipientsBox

Select = QItemSelectionModel.SelectionFlag


def composer_recipients(widget: QWidget) -> RecipientsBox | None:
    """The composer's recipients box in ``widget``'s main window, if there is one."""
    panels = getattr(widget.window(), "panels", None)
    composer = panels.get("composer") if isinstance(panels, dict) else None
    return getattr(composer, "recipients", None)


class FleetLink(QObject):
    """See the module docstring. ``report`` tells the captain about tiles that cannot receive."""

    def __init__(self, fleet: FleetView, table: QTableView, report: Callable[[str], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fleet = fleet
        self._table = table
        self._report = report
        self._recipients: RecipientsBox | None = None
        self._mirroring = False  # applying the composer's checks to the tiles
        self._following = False  # the table follows the tiles, or the tiles a table row
        fleet.selectionModel().selectionChanged.connect(self._on_fleet_selection_changed)
        table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)

    @property
    def recipients(self) -> RecipientsBox | None:
        return self._recipients

    def attach(self, recipients: RecipientsBox | None) -> bool:
        """Link to the composer's recipients box (once); its checks become the selected tiles."""
        if recipients is None or recipients is self._recipients:
            return False
        self._recipients = recipients
        recipients.sig_selection_changed.connect(self._on_recipients_selection_changed)
        recipients.destroyed.connect(self._on_recipients_destroyed)
        self._on_recipients_selection_changed()
        return True

    def select_tiles(self, agent_ids: list[str]) -> None:
        """Select exactly these tiles (as a person would: recipients and table follow)."""
        self._set_tiles(agent_ids)

    # -- internals -------------------------------------------------------------------------------
    def _set_tiles(self, agent_ids: list[str]) -> None:
        model = self._fleet.model()
        wanted = set(agent_ids)
        selection = QItemSelection()
        for row in range(model.rowCount()):
            if model.index(row, 0).data(AGENT_ID_ROLE) in wanted:
                selection.select(model.index(row, 0), model.index(row, 0))
        self._fleet.selectionModel().select(selection, Select.ClearAndSelect)

    def _table_follows(self) -> None:
        fleet, table = self._fleet, self._table
        current = fleet.currentIndex()
        selected = fleet.selectionModel().selectedIndexes()
        if current.isValid() and fleet.selectionModel().isSelected(current):
            row = current.row()
        else:
            row = min((i.row() for i in selected), default=-1)
        self._following = True
        try:
            if row < 0:
                table.clearSelection()
            else:
                table.selectRow(row)
        finally:
            self._following = False

    @Slot(QItemSelection, QItemSelection)
    def _on_fleet_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        if self._mirroring:
            return
        if not self._following:
            self._table_follows()
        recipients = self._recipients
        if recipients is None:
            return
        chosen = self._fleet.selected_ids()
        self._mirroring = True
        try:
            left_out = recipients.set_selected(chosen)
        finally:
            self._mirroring = False
        if left_out:
            self._report(f"{', '.join(left_out)}: disabled, so not a recipient")

    @Slot(QItemSelection, QItemSelection)
    def _on_table_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        if self._following or self._mirroring:
            return
        rows = self._table.selectionModel().selectedRows()
        if not rows:
            return
        self._following = True
        try:
            self._fleet.setCurrentIndex(self._fleet.model().index(rows[0].row(), 0))
            self._set_tiles([rows[0].data(AGENT_ID_ROLE)])
        finally:
            self._following = False

    @Slot()
    def _on_recipients_selection_changed(self) -> None:
        if self._mirroring or self._recipients is None:
            return
        self._mirroring = True
        try:
            self._set_tiles(self._recipients.selected())
        finally:
            self._mirroring = False

    @Slot()
    def _on_recipients_destroyed(self) -> None:
        self._recipients = None
