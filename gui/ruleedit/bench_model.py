"""The test bench's table: each sample message with its result, score and the rules it broke.

An adapter over a list of ``BenchSample``s and their reports under one validator. A new
validator (the rules being edited changed) re-scores every sample but signals ``dataChanged``
only for the rows whose report really changed.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from quarterdeck.core.validation import Report, Validator
from quarterdeck.core.validation.bench import BenchSample
from quarterdeck.gui.tablemodel import ColumnsModel

Index = QModelIndex | QPersistentModelIndex
STATUS_COLOURS = {"PASS": "#43a047", "WARN": "#ef6c00", "FAIL": "#d32f2f"}


class BenchModel(ColumnsModel):
    COLUMNS = ("Sample", "Result", "Score", "Rules broken")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._samples: list[BenchSample] = []
        self._reports: list[Report | None] = []
        self._validator: Validator | None = None

    # -- Qt ----------------------------------------------------------------------------------
    def row_total(self) -> int:
        return len(self._samples)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._samples):
            return None
        sample, report = self._samples[index.row()], self._reports[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return sample.name
            if report is None:
                return "—"
            if column == 1:
                return report.status
            if column == 2:
                return report.score
            return ", ".join(dict.fromkeys(v.rule_id for v in report.violations)) or "none"
        if role == Qt.ItemDataRole.ForegroundRole and column == 1 and report is not None:
            return QColor(STATUS_COLOURS[report.status])
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and report is not None:
            lines = [f"{v.severity}: {v.rule_id}: {v.message}" for v in report.violations]
            return "\n".join(lines) or "No rule is broken"
        return None

    # -- samples -----------------------------------------------------------------------------
    def samples(self) -> list[BenchSample]:
        return list(self._samples)

    def sample(self, row: int) -> BenchSample:
        return self._samples[row]

    def report(self, row: int) -> Report | None:
        return self._reports[row]

    def _score(self, sample: BenchSample) -> Report | None:
        return None if self._validator is None else self._validator.validate(sample)

    def set_samples(self, samples: list[BenchSample]) -> None:
        """Replace the whole list (loading the file, restoring the defaults)."""
        self.beginResetModel()
        self._samples = list(samples)
        self._reports = [self._score(s) for s in self._samples]
        self.endResetModel()

    def set_validator(self, validator: Validator | None) -> None:
        """Score every sample under ``validator``; only rows whose report changed are signalled."""
        self._validator = validator
        for row, sample in enumerate(self._samples):
            report = self._score(sample)
            old = self._reports[row]
            if old is None or report is None:
                changed = old is not report  # a report appeared or went away
            else:
                changed = old.to_dict() != report.to_dict()
            if changed:
                self._reports[row] = report
                self.dataChanged.emit(self.index(row, 1), self.index(row, len(self.COLUMNS) - 1))

    def update_sample(self, row: int, sample: BenchSample) -> None:
        self._samples[row] = sample
        self._reports[row] = self._score(sample)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.COLUMNS) - 1))

    def add_sample(self, sample: BenchSample) -> int:
        row = len(self._samples)
        self.beginInsertRows(QModelIndex(), row, row)
        self._samples.append(sample)
        self._reports.append(self._score(sample))
        self.endInsertRows()
        return row

    def remove_sample(self, row: int) -> None:
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._samples[row]
        del self._reports[row]
        self.endRemoveRows()
