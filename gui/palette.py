"""Ctrl+K: every command of the window and every agent, filtered as you type, run with Enter.

Choosing an agent announces ``sig_agent_focused`` on the app context (the composer selects that
agent alone and takes the focus; the roster selects its row).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import QDialog, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

_ACTION, _AGENT = Qt.ItemDataRole.UserRole, Qt.ItemDataRole.UserRole + 1


def matches(query: str, text: str) -> bool:
    """Every word of ``query`` appears in ``text`` (case-insensitive), in any order."""
    haystack = text.casefold()
    return all(word in haystack for word in query.casefold().split())


class CommandPalette(QDialog):
    def __init__(self, window: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.window_ = window
        self.setObjectName("command-palette")
        self.setWindowTitle("Command palette")
        self.setModal(True)
        self.resize(520, 360)
        self.query = QLineEdit(self)
        self.query.setPlaceholderText("Type a command or an agent…")
        self.query.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.query)
        layout.addWidget(self.list)
        self.query.textChanged.connect(self._on_query_text_changed)
        self.query.returnPressed.connect(self.run_current)
        self.list.itemActivated.connect(self._on_list_item_activated)
        self.query.installEventFilter(self)

    def open_with(self, actions: Sequence[QAction], agent_ids: Sequence[str]) -> None:
        self.list.clear()
        for action in actions:
            if not action.isEnabled():
                continue
            shortcut = action.shortcut().toString()
            label = action.text().replace("&", "") + (f"    {shortcut}" if shortcut else "")
            item = QListWidgetItem(label, self.list)
            item.setData(_ACTION, action)
        for agent_id in agent_ids:
            item = QListWidgetItem(f"Agent: {agent_id}", self.list)
            item.setData(_AGENT, agent_id)
        self.query.clear()
        self._on_query_text_changed("")
        self.show()
        self.raise_()
        self.query.setFocus()

    @Slot(str)
    def _on_query_text_changed(self, text: str) -> None:
        first = None
        for row in range(self.list.count()):
            item = self.list.item(row)
            hidden = not matches(text, item.text())
            item.setHidden(hidden)
            if not hidden and first is None:
                first = item
        self.list.setCurrentItem(first)

    def visible_items(self) -> list[QListWidgetItem]:
        return [self.list.item(r) for r in range(self.list.count()) if not self.list.item(r).isHidden()]

    @Slot()
    def run_current(self) -> None:
        item = self.list.currentItem()
        if item is not None and not item.isHidden():
            self._run(item)

    @Slot(QListWidgetItem)
    def _on_list_item_activated(self, item: QListWidgetItem) -> None:
        self._run(item)

    def _run(self, item: QListWidgetItem) -> None:
        self.accept()
        action = item.data(_ACTION)
        if action is not None:
            action.trigger()
            return
        agent_id = item.data(_AGENT)
        if agent_id:
            self.window_.ctx.sig_agent_focused.emit(agent_id)

    def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802 (Qt's name)
        if watched is self.query and isinstance(event, QKeyEvent) and event.type() == QKeyEvent.Type.KeyPress:
            if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                self._step(1 if event.key() == Qt.Key.Key_Down else -1)
                return True
        return super().eventFilter(watched, event)

    def _step(self, delta: int) -> None:
        items = self.visible_items()
        if not items:
            return
        current = self.list.currentItem()
        index = items.index(current) if current in items else -1
        self.list.setCurrentItem(items[max(0, min(len(items) - 1, index + delta))])
