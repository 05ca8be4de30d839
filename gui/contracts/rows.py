"""A table model whose rows are keyed records that get replaced wholesale by a fresh query.

Each refresh hands :meth:`KeyedRowsModel.set_rows` the full list the query returned. It is merged
in row by row: rows whose key vanished are removed, new keys are inserted where they belong,
moved ones move, and a kept row emits ``dataChanged`` only for the runs of cells whose content
changed. So a two-second poll that finds nothing new costs no repaint, and the view keeps its
selection and scroll position. Subclasses say what the columns are and how a record looks.
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from quarterdeck.gui.tablemodel import emit_changed_cells

Index = QModelIndex | QPersistentModelIndex
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
MUTED = "#8a8a8a"
R = TypeVar("R")  # a record: one row


@dataclass(frozen=True)
class Cell:
    text: str
    tooltip: str = ""
    colour: str = ""  # foreground colour; "" for the palette's
    bold: bool = False


class KeyedRowsModel(QAbstractTableModel, Generic[R]):
    """See the module docstring. Subclasses set COLUMNS, RIGHT_ALIGNED and implement key/cells."""

    COLUMNS: ClassVar[tuple[str, ...]] = ()
    HEADER_TIPS: ClassVar[dict[int, str]] = {}
    RIGHT_ALIGNED: ClassVar[frozenset[int]] = frozenset()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._records: list[R] = []
        self._cells: list[tuple[Cell, ...]] = []

    # -- what subclasses provide -------------------------------------------------------------------
    def key(self, record: R) -> Hashable:
        raise NotImplementedError

    def cells(self, record: R) -> tuple[Cell, ...]:
        raise NotImplementedError

    # -- Qt's model interface ------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.HEADER_TIPS.get(section)
        if role == Qt.ItemDataRole.TextAlignmentRole and section in self.RIGHT_ALIGNED:
            return RIGHT
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._cells):
            return None
        cell = self._cells[index.row()][index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return cell.text
        if role == Qt.ItemDataRole.ToolTipRole:
            return cell.tooltip or None
        if role == Qt.ItemDataRole.ForegroundRole and cell.colour:
            return QBrush(QColor(cell.colour))
        if role == Qt.ItemDataRole.FontRole and cell.bold:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in self.RIGHT_ALIGNED:
            return RIGHT
        return None

    # -- the adapter's own interface -----------------------------------------------------------
    def record(self, row: int) -> R | None:
        return self._records[row] if 0 <= row < len(self._records) else None

    def records(self) -> list[R]:
        return list(self._records)

    def row_of(self, key: Hashable) -> int:
        return next((i for i, r in enumerate(self._records) if self.key(r) == key), -1)

    def set_rows(self, records: Sequence[R]) -> int:
        """Merge ``records`` in (see the module docstring); returns how many cells changed."""
        keep = {self.key(r) for r in records}
        for row in range(len(self._records) - 1, -1, -1):
            if self.key(self._records[row]) not in keep:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._records[row], self._cells[row]
                self.endRemoveRows()
        changed = 0
        for target, record in enumerate(records):
            current = self.row_of(self.key(record))
            if current == -1:
                self.beginInsertRows(QModelIndex(), target, target)
                self._records.insert(target, record)
                self._cells.insert(target, self.cells(record))
                self.endInsertRows()
                continue
            if current != target:  # current > target: every row before target is already placed
                self.beginMoveRows(QModelIndex(), current, current, QModelIndex(), target)
                self._records.insert(target, self._records.pop(current))
                self._cells.insert(target, self._cells.pop(current))
                self.endMoveRows()
            self._records[target] = record
            changed += self._update_row(target, self.cells(record))
        return changed

    def _update_row(self, row: int, cells: tuple[Cell, ...]) -> int:
        old = self._cells[row]
        if old == cells:
            return 0
        self._cells[row] = cells
        return emit_changed_cells(self, row, old, cells)
