"""The history's Message column: right after State, taking the width the others leave, never less
than ``FLOOR``.

A stretched section alone would shrink to a few pixels in a narrow table (the dock half a 1920
screen wide showed "Please pu"), since Qt gives a stretched section only what the other columns
leave. So while the table is wide enough the column stretches (no sideways scroll); once it is
not, the column keeps ``FLOOR`` pixels and the table scrolls sideways under Time and Agent (see
``quarterdeck.gui.history.frozen``), the columns after Message going out of view first.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QHeaderView, QTableView

from quarterdeck.gui.history.columns import MESSAGE_COLUMN, STATE_COLUMN

FLOOR = 220  # about 32 characters: enough to tell messages apart


class MessageColumn(QObject):
    """Keeps ``view``'s Message column stretched or at ``FLOOR`` as its width allows."""

    def __init__(self, view: QTableView) -> None:
        super().__init__(view)
        self.view = view
        header = view.horizontalHeader()
        header.moveSection(header.visualIndex(MESSAGE_COLUMN), header.visualIndex(STATE_COLUMN) + 1)
        header.sectionResized.connect(self._on_section_resized)
        view.viewport().installEventFilter(self)
        self.fit()

    def fit(self) -> None:
        header = self.view.horizontalHeader()
        others = sum(header.sectionSize(n) for n in range(header.count())
                     if n != MESSAGE_COLUMN and not header.isSectionHidden(n))
        wide = self.view.viewport().width() - others >= FLOOR
        mode = QHeaderView.ResizeMode.Stretch if wide else QHeaderView.ResizeMode.Interactive
        if header.sectionResizeMode(MESSAGE_COLUMN) != mode:
            header.setSectionResizeMode(MESSAGE_COLUMN, mode)
        if not wide and header.sectionSize(MESSAGE_COLUMN) != FLOOR:
            header.resizeSection(MESSAGE_COLUMN, FLOOR)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self.fit()
        return False

    def _on_section_resized(self, column: int, _old: int, _new: int) -> None:
        if column != MESSAGE_COLUMN:  # a column the captain widened takes from Message, down to the floor
            self.fit()
