"""The problems list under the editor: severity, file:line:col and message of every diagnostic.

The model is an adapter over the checker's latest diagnostics. A new check usually changes a
few rows, so ``set_diagnostics`` updates rows in place (``dataChanged`` for rows that differ)
and inserts or removes only the tail, keeping the selection and scroll position steady while
the user types.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QLabel, QTableView, QVBoxLayout, QWidget

from quarterdeck.core.validation import Diagnostic
from quarterdeck.core.validation.editing import plural
from quarterdeck.gui.ruleedit.editor import SEVERITY_COLOURS
from quarterdeck.gui.tablemodel import ColumnsModel

Index = QModelIndex | QPersistentModelIndex


class ProblemsModel(ColumnsModel):
    COLUMNS = ("Severity", "Where", "Problem")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Diagnostic] = []

    def row_total(self) -> int:
        return len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        diagnostic = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return "● error" if diagnostic.is_error else "▲ warning"
            if column == 1:
                return f"{diagnostic.file}:{diagnostic.line}:{diagnostic.col}"
            return diagnostic.message
        if role == Qt.ItemDataRole.ForegroundRole and column == 0:
            return QColor(SEVERITY_COLOURS[diagnostic.severity])
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{diagnostic}\nEnter or click: go to the spot"
        return None

    def diagnostic(self, row: int) -> Diagnostic:
        return self._rows[row]

    def diagnostics(self) -> list[Diagnostic]:
        return list(self._rows)

    def set_diagnostics(self, diagnostics: list[Diagnostic]) -> None:
        """Show ``diagnostics``: changed rows in place, then the tail inserted or removed."""
        new = list(diagnostics)
        common = min(len(new), len(self._rows))
        changed = [row for row in range(common) if new[row] != self._rows[row]]
        if len(new) < len(self._rows):
            self.beginRemoveRows(QModelIndex(), len(new), len(self._rows) - 1)
            self._rows = self._rows[: len(new)]
            self.endRemoveRows()
        self._rows[:common] = new[:common]
        if changed:
            self.dataChanged.emit(self.index(changed[0], 0), self.index(changed[-1], len(self.COLUMNS) - 1))
        if len(new) > common:
            self.beginInsertRows(QModelIndex(), common, len(new) - 1)
            self._rows.extend(new[common:])
            self.endInsertRows()


class ProblemsView(QTableView):
    """The list; activating a row (click, Enter, double-click) asks to go to that problem."""

    sig_problem_activated = Signal(object)  # quarterdeck.core.validation.Diagnostic

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rule-problems")
        self.problems = ProblemsModel(self)
        self.setModel(self.problems)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.horizontalHeader().setStretchLastSection(True)
        self.setToolTip("Problems in the rule files; Enter or click goes to the spot (F8: next)")
        self.clicked.connect(self._on_self_activated)
        self.activated.connect(self._on_self_activated)

    def select_row(self, row: int) -> None:
        self.selectRow(row)
        self.scrollTo(self.problems.index(row, 0))

    @Slot(QModelIndex)
    def _on_self_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.sig_problem_activated.emit(self.problems.diagnostic(index.row()))


class ProblemsPane(QWidget):
    """A one-line summary over the list, and stepping through the problems (F8, Shift+F8)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel("Problems")
        self.summary.setObjectName("rule-problems-summary")
        self.view = ProblemsView(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)

    @property
    def model(self) -> ProblemsModel:
        return self.view.problems

    def show_problems(self, diagnostics: list[Diagnostic], files: int) -> None:
        self.model.set_diagnostics(diagnostics)
        for column in (0, 1):  # sized to the rows now shown; the user may still drag them
            self.view.resizeColumnToContents(column)
        errors = sum(1 for d in diagnostics if d.is_error)
        if diagnostics:
            self.summary.setText(f"Problems: {plural(errors, 'error')}, "
                                 f"{plural(len(diagnostics) - errors, 'warning')} (F8: next, Shift+F8: previous)")
        else:
            self.summary.setText(f"No problems in {plural(files, 'file')}.")

    def step(self, step: int) -> Diagnostic | None:
        """Select the next (``step`` 1) or previous (-1) problem, wrapping; None if there are none."""
        count = self.model.rowCount()
        if not count:
            return None
        current = self.view.currentIndex().row()
        row = (0 if step > 0 else count - 1) if current < 0 else (current + step) % count
        self.view.select_row(row)
        return self.model.diagnostic(row)
