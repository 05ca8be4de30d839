"""What the panel's table models share: fixed named columns over a list, and change
notification for exactly the cells that changed (never a reset per tick)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

Index = QModelIndex | QPersistentModelIndex


class ColumnsModel(QAbstractTableModel):
    """A flat table whose columns are ``COLUMNS`` and whose rows number ``row_total()``."""

    COLUMNS: ClassVar[tuple[str, ...]] = ()

    def row_total(self) -> int:
        raise NotImplementedError

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt's name)
        return 0 if parent.isValid() else self.row_total()

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt's name)
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 (Qt's name)
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(self.COLUMNS)):
            return self.COLUMNS[section]
        return None


def emit_changed_cells(model: QAbstractTableModel, row: int, old: Sequence[Any], new: Sequence[Any]) -> int:
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
