"""What the panel's tables share: fixed named columns over a list, change notification for
exactly the cells that changed (never a reset per tick), and one look for their views."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from PySide6.QtCore import QAbstractItemModel, QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

Index = QModelIndex | QPersistentModelIndex


class ColumnsModel(QAbstractTableModel):
    """A flat table whose columns are ``COLUMNS`` and whose rows number ``row_total()``."""

    COLUMNS: ClassVar[tuple[str, ...]] = ()

    def row_total(self) -> int:
        raise NotImplementedError

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else self.row_total()

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(self.COLUMNS)):
            return self.COLUMNS[section]
        return None


def emit_changed_cells(model: QAbstractTableModel, row: int, old: Sequence[object], new: Sequence[object]) -> int:
    """Emit one ``dataChanged`` per run of adjacent cells of ``row`` that differ; how many differ."""
    differs = [a != b for a, b in zip(old, new, strict=True)]
    column = 0
    while column < len(differs):
        if not differs[column]:
            column += 1
            continue
        end = column
        while end + 1 < len(differs) and differs[end + 1]:
            end += 1
        model.dataChanged.emit(model.index(row, column), model.index(row, end))
        column = end + 1
    return sum(differs)


def table_view(parent: QWidget, model: QAbstractItemModel, name: str, widths: tuple[int, ...], *,
               multi: bool = False) -> QTableView:
    """A read-only table selecting whole rows (one, or several with ``multi``), with uniform rows
    (no per-row measuring) and the given column widths."""
    view = QTableView(parent)
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection if multi
                          else QAbstractItemView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.setStyleSheet("QTableView::item { padding: 0px 6px; }")  # numbers and text columns meet
    view.horizontalHeader().setStyleSheet("QHeaderView::section { padding: 2px 6px; }")
    view.verticalHeader().hide()
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)  # like the cells
    for column, width in enumerate(widths):
        view.setColumnWidth(column, width)
    return view
