"""Ctrl+K: every command of the window and every agent, filtered as you type, run with Enter.

The commands used last come first (kept in the settings). Nothing is chosen until something is
typed or an arrow key pressed, so a stray Enter never runs a command (least of all Stop all).
Choosing an agent announces ``sig_agent_focused`` on the app context (the composer selects that
agent alone and takes the focus; the roster selects its row). The palette stays in front of
other applications' windows (the agents' chat windows) while it is open.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, Slot
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QDialog, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

if TYPE_CHECKING:  # annotations only
    from quarterdeck.gui.mainwindow import MainWindow

_ACTION, _AGENT, _KEY = Qt.ItemDataRole.UserRole, Qt.ItemDataRole.UserRole + 1, Qt.ItemDataRole.UserRole + 2
RECENT_KEY = "palette/recent"
RECENT_LIMIT = 8
PALETTE_TEXT = "palette_text"  # an action's name in the palette when it differs from its menu text


def matches(query: str, text: str) -> bool:
    """Every word of ``query`` appears in ``text`` (case-insensitive), in any order."""
    haystack = text.casefold()
    return all(word in haystack for word in query.casefold().split())


class CommandPalette(QDialog):
    def __init__(self, window: MainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.window_ = window
        self.setObjectName("command-palette")
        self.setWindowTitle("Command palette")
        self.setModal(True)
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
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
        entries: list[tuple[str, str, QAction | None, str | None]] = []  # key, label, action, agent
        for action in actions:
            if not action.isEnabled():
                continue
            name = (action.property(PALETTE_TEXT) or action.text()).replace("&", "")
            shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            entries.append((name, name + (f"    {shortcut}" if shortcut else ""), action, None))
        for agent_id in agent_ids:
            entries.append((f"Agent: {agent_id}", f"Agent: {agent_id}", None, agent_id))
        recent = self.recent()
        rank = {key: n for n, key in enumerate(recent)}
        entries.sort(key=lambda entry: rank.get(entry[0], len(rank)))  # stable: the rest keep their order
        for key, label, command, agent in entries:
            item = QListWidgetItem(label, self.list)
            item.setData(_KEY, key)
            item.setData(_ACTION, command)
            item.setData(_AGENT, agent)
        self.query.clear()
        self._on_query_text_changed("")
        self.show()
        self.raise_()
        self.query.setFocus()

    def recent(self) -> list[str]:
        """The names of the commands and agents chosen last, the latest first."""
        return [str(key) for key in self.window_.ctx.settings.get(RECENT_KEY, [], list)]

    def _remember(self, key: str) -> None:
        recent = [key, *(k for k in self.recent() if k != key)][:RECENT_LIMIT]
        self.window_.ctx.settings.set(RECENT_KEY, recent)

    @Slot(str)
    def _on_query_text_changed(self, text: str) -> None:
        first = None
        for row in range(self.list.count()):
            item = self.list.item(row)
            hidden = not matches(text, item.text())
            item.setHidden(hidden)
            if not hidden and first is None:
                first = item
        if text.strip() and first is not None:
            self.list.setCurrentItem(first)
        else:  # nothing typed: nothing chosen, so Enter alone runs nothing
            self.list.setCurrentRow(-1)
            self.list.scrollToTop()

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
        self._remember(item.data(_KEY))
        action = item.data(_ACTION)
        if action is not None:
            action.trigger()
            return
        agent_id = item.data(_AGENT)
        if agent_id:
            self.window_.ctx.sig_agent_focused.emit(agent_id)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
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
