"""Time and Agent stay in view while the history table scrolls sideways.

In a dock half a small screen wide the table is narrower than its columns, and scrolling right to
read a reason used to take away the two columns that say when and to whom. :class:`FrozenColumns`
is a second view over the same model and selection, showing only the first ``count`` columns,
laid over the table's left edge: it scrolls up and down with the table, never sideways, and
clicks on it select rows in the table. Widths follow the table's header both ways, so the
captain can still resize Time and Agent.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractItemView, QFrame, QHeaderView, QTableView


class FrozenColumns(QTableView):
    def __init__(self, table: QTableView, count: int) -> None:
        super().__init__(table)
        self.table, self.count = table, count
        self.setObjectName(f"{table.objectName()}-frozen")
        self.setModel(table.model())
        self.setSelectionModel(table.selectionModel())
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the table underneath
        self.setFrameShape(QFrame.Shape.NoFrame)
        for same in ("SelectionBehavior", "SelectionMode", "AlternatingRowColors", "ShowGrid", "WordWrap",
                     "TextElideMode", "VerticalScrollMode"):
            getattr(self, f"set{same}")(getattr(table, same[0].lower() + same[1:])())
        self.setStyleSheet(table.styleSheet() + " QTableView { border-right: 1px solid palette(mid); }")
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalHeader().hide()
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(table.verticalHeader().defaultSectionSize())
        header, theirs = self.horizontalHeader(), table.horizontalHeader()
        header.setStyleSheet(theirs.styleSheet())
        header.setHighlightSections(False)
        header.setDefaultAlignment(theirs.defaultAlignment())
        header.setToolTip(theirs.toolTip())
        header.setStretchLastSection(False)
        header.setSectionsClickable(theirs.sectionsClickable())
        theirs.sectionResized.connect(self._on_table_section_resized)
        header.sectionResized.connect(self._on_own_section_resized)
        table.verticalScrollBar().valueChanged.connect(self.verticalScrollBar().setValue)
        self.verticalScrollBar().valueChanged.connect(table.verticalScrollBar().setValue)
        table.model().modelReset.connect(self.sync)
        table.model().layoutChanged.connect(self.sync)
        table.installEventFilter(self)
        table.viewport().stackUnder(self)
        self.sync()
        self.show()

    def sync(self) -> None:
        """Show only the frozen columns, at the table's widths (after a reset or a restored layout)."""
        for column in range(self.model().columnCount()):
            self.setColumnHidden(column, column >= self.count)
            if column < self.count:
                self.setColumnWidth(column, self.table.columnWidth(column))
        self.place()

    def place(self) -> None:
        """Lay the view over the table's first columns: its header cells and its rows."""
        table = self.table
        width = sum(table.columnWidth(c) for c in range(self.count))
        frame = table.frameWidth()
        self.setGeometry(frame + table.verticalHeader().width(), frame, width,
                         table.viewport().height() + table.horizontalHeader().height())
        self.horizontalHeader().setFixedHeight(table.horizontalHeader().height())
        self.verticalScrollBar().setValue(table.verticalScrollBar().value())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table and event.type() in (QEvent.Type.Resize, QEvent.Type.LayoutRequest):
            self.place()
        return super().eventFilter(watched, event)

    def _on_table_section_resized(self, column: int, _old: int, new: int) -> None:
        if column < self.count and self.columnWidth(column) != new:
            self.setColumnWidth(column, new)
            self.place()

    def _on_own_section_resized(self, column: int, _old: int, new: int) -> None:
        if column < self.count and self.table.columnWidth(column) != new:
            self.table.setColumnWidth(column, new)
            self.place()
