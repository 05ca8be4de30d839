"""The dead letters as a table model, kept current by merging each fresh listing in.

A refresh every few seconds must not disturb the captain's selection or scroll position, so
``set_entries`` never resets: rows that left the store are removed, new ones inserted at their
place by id, and rows whose cells changed (a replay that failed again) get ``dataChanged`` for
those cells only. Display texts are made once per entry, not on every paint.
"""
from __future__ import annotations

import bisect
import json
from datetime import datetime
from typing import Any, NamedTuple

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from quarterdeck.core.integration.deadletter import DeadLetter

ENTRY_ROLE = Qt.ItemDataRole.UserRole
EXCERPT_CHARS = 120

HEADERS = ("ID", "Event type", "Reason", "When", "Attempts", "Last error", "Payload")
WIDTHS = (40, 120, 70, 135, 65, 230, 260)
TIPS = ("The entry's number in the store", "The event's type, as it was processed",
        "failed, rejected (breaker open), invalid (payload broke the rules) or no_handler",
        "When the event was first dead-lettered (local time)",
        "Attempts made by the last try (first processing or the latest replay)",
        "The last error, redacted as it was stored", "The start of the payload; select a row for all of it")
_NUMERIC = {0, 4}
AnyIndex = QModelIndex | QPersistentModelIndex


def when(stamp: float) -> str:
    return datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M:%S")


def payload_text(payload: object, *, indent: int | None = None) -> str:
    return json.dumps(payload, ensure_ascii=False, default=str, indent=indent)


def _cells(entry: DeadLetter) -> tuple[str, ...]:
    excerpt = " ".join(payload_text(entry.payload).split())
    if len(excerpt) > EXCERPT_CHARS:
        excerpt = excerpt[:EXCERPT_CHARS - 1] + "…"
    return (str(entry.id), entry.event_type, entry.reason, when(entry.created_at),
            str(entry.attempts), " ".join(entry.error.split()), excerpt)


class _Row(NamedTuple):
    entry: DeadLetter
    cells: tuple[str, ...]


class DeadLettersModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[_Row] = []

    # -- Qt's model interface ------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return TIPS[section]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row, column = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return row.cells[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row.entry, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in _NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ENTRY_ROLE:
            return row.entry
        return None

    @staticmethod
    def _tooltip(entry: DeadLetter, column: int) -> str:
        if column == 5:
            return entry.error
        if column == 3:
            return f"Dead-lettered {when(entry.created_at)}, last touched {when(entry.updated_at)}"
        return f"#{entry.id} {entry.event_type}: {entry.reason}, replayed {entry.replays} time(s)"

    # -- the adapter -----------------------------------------------------------------------------
    def entry(self, row: int) -> DeadLetter:
        return self._rows[row].entry

    def ids(self) -> list[int]:
        return [row.entry.id for row in self._rows]

    def row_of(self, entry_id: int) -> int | None:
        ids = self.ids()
        at = bisect.bisect_left(ids, entry_id)
        return at if at < len(ids) and ids[at] == entry_id else None

    def set_entries(self, entries: list[DeadLetter]) -> None:
        """Merge a fresh listing in (see the module docstring)."""
        fresh = {entry.id: entry for entry in entries}
        for row in reversed(range(len(self._rows))):
            if self._rows[row].entry.id not in fresh:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self.endRemoveRows()
        for row, old in enumerate(self._rows):
            entry = fresh.pop(old.entry.id)
            if entry == old.entry:
                continue
            cells = _cells(entry)
            changed = [c for c, (a, b) in enumerate(zip(old.cells, cells, strict=True)) if a != b]
            self._rows[row] = _Row(entry, cells)
            first, last = (min(changed), max(changed)) if changed else (0, len(HEADERS) - 1)
            self.dataChanged.emit(self.index(row, first), self.index(row, last))
        for entry in sorted(fresh.values(), key=lambda e: e.id):
            at = bisect.bisect_left(self.ids(), entry.id)
            self.beginInsertRows(QModelIndex(), at, at)
            self._rows.insert(at, _Row(entry, _cells(entry)))
            self.endInsertRows()
