"""The base of every dockable panel: a widget given the app context, with a title, a stable
object name (the dock layout is saved by it) and the commands it offers the command palette."""
from __future__ import annotations

from typing import Any, ClassVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QWidget


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

    def bring_forward(self) -> None:
        """Show this panel's dock and put it in front of its tab group."""
        widget = self.parentWidget()
        while widget is not None and not isinstance(widget, QDockWidget):
            widget = widget.parentWidget()
        if widget is not None:
            widget.show()
            widget.raise_()

    def shutdown(self) -> None:
        """The window is closing: stop timers, save what the panel keeps. No blocking I/O."""
