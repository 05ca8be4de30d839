"""The roster panel's pieces: the table view with its keyboard keys, the slim banners above it
(the capture countdown, and the outcome of the last change), and the agent dialog's labels and buttons."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QToolButton,
    QWidget,
)

TABLE_KEYS = {Qt.Key.Key_Return: "edit", Qt.Key.Key_Enter: "edit", Qt.Key.Key_F2: "edit",
              Qt.Key.Key_Delete: "remove", Qt.Key.Key_Insert: "add"}


def run_roster_key(actions: dict[str, QAction], event: QKeyEvent) -> bool:
    """Enter/F2 edit, Delete removes, Insert adds (``TABLE_KEYS``), in the table and the fleet
    alike; True when the key ran its action."""
    action = actions.get(TABLE_KEYS.get(Qt.Key(event.key()), ""))
    if action is None or not action.isEnabled() or event.modifiers():
        return False
    action.trigger()
    event.accept()
    return True


def wrapped_label(text: str, *, name: str = "", style: str = "", hidden: bool = False) -> QLabel:
    """A word-wrapped label (set one by one: PySide6's type stubs take no inherited property as keyword)."""
    label = QLabel(text)
    label.setWordWrap(True)
    if name:
        label.setObjectName(name)
    if style:
        label.setStyleSheet(style)
    if hidden:
        label.setVisible(False)
    return label


def push_button(text: str, name: str, tip: str, slot: Callable[[], object]) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.setToolTip(tip)
    button.clicked.connect(slot)
    return button


ROWS_SLACK = 6  # the header and scroll bar as drawn are a few pixels taller than their hints


class RosterTable(QTableView):
    """Whole-row, single selection; Enter or F2 edits, Delete removes, Insert adds (``actions``)."""

    def __init__(self, actions: dict[str, QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("roster-table")
        self._actions = actions
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(26)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def rows_height(self) -> int:
        """Tall enough for every row (at least one), the header and a sideways scroll bar."""
        rows = max(1, self.model().rowCount()) if self.model() is not None else 1
        return (self.horizontalHeader().sizeHint().height() + rows * self.verticalHeader().defaultSectionSize()
                + self.horizontalScrollBar().sizeHint().height() + 2 * self.frameWidth() + ROWS_SLACK)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not run_roster_key(self._actions, event):
            super().keyPressEvent(event)

    def steady_column(self, column: int, widest: str) -> None:
        """``column``'s text changes every second ("needs-you · 9 s", "· 10 s"): it keeps one
        width, room for ``widest`` and its dot, so the columns right of it never shift."""
        self.horizontalHeader().setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
        self.setColumnWidth(column, self.fontMetrics().horizontalAdvance(widest) + 36)


class Banner(QFrame):
    """A line of text with one button; hidden until there is something to say."""

    def __init__(self, name: str, colour: str, button_text: str, on_click: Callable[[], object],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setStyleSheet(f"QFrame#{name} {{ background: {colour}; border-radius: 3px; }}")
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 4, 4)
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.label, 1)
        if len(button_text) > 1:
            self.button: QPushButton | QToolButton = QPushButton(button_text)
        else:
            self.button = QToolButton()
            self.button.setText(button_text)
            self.button.setToolTip("Dismiss")
            self.button.setAutoRaise(True)
        self.button.clicked.connect(on_click)
        row.addWidget(self.button, 0, Qt.AlignmentFlag.AlignTop)
        self.setVisible(False)

    def say(self, text: str, *, error: bool = False) -> None:
        self.label.setText(text)
        self.label.setStyleSheet("color: #c62828;" if error else "color: #333;")
        self.setVisible(True)

    def dismiss(self) -> None:
        self.setVisible(False)
