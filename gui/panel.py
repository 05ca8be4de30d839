"""The base of every dockable panel: a widget given the app context, with a title, a stable
object name (the dock layout is saved by it) and the commands it offers the command palette."""
from __future__ import annotations

from typing import Any, ClassVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget


class Panel(QWidget):
    TITLE: ClassVar[str] = ""
    NAME: ClassVar[str] = ""  # stable: QMainWindow.saveState keys the docks by it
    AREA: ClassVar[Qt.DockWidgetArea] = Qt.DockWidgetArea.LeftDockWidgetArea
    TAB_WITH: ClassVar[str] = ""  # NAME of a panel to share a tab group with by default

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName(f"panel-{self.NAME}")

    def commands(self) -> list[QAction]:
        """Actions the command palette lists (their shortcuts work while the window is active)."""
        return []

    def shutdown(self) -> None:
        """The window is closing: stop timers, save what the panel keeps. No blocking I/O."""
