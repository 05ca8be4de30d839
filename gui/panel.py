"""The base of every dockable panel: a widget given the app context, with a title, a stable
object name (the dock layout is saved by it) and the commands it offers the command palette."""
from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QFrame, QScrollArea, QWidget

if TYPE_CHECKING:  # annotations only: the context imports the delivery and job threads
    from quarterdeck.gui.context import AppContext

# A dock insists on its panel's minimum up to this share of the screen (width, height), and
# scrolls below it: three panels standing one above another, with the window's menu, toolbars and
# status bar, still fit a 1366x768 screen.
MIN_SHARE = (0.45, 0.15)


class Panel(QWidget):
    TITLE: ClassVar[str] = ""
    NAME: ClassVar[str] = ""  # stable: QMainWindow.saveState keys the docks by it
    AREA: ClassVar[Qt.DockWidgetArea] = Qt.DockWidgetArea.LeftDockWidgetArea
    TAB_WITH: ClassVar[str] = ""  # NAME of a panel to share a tab group with by default

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx: AppContext = ctx
        self.setObjectName(f"panel-{self.NAME}")

    def commands(self) -> list[QAction]:
        """Actions the command palette lists (their shortcuts work while the window is active)."""
        return []

    def dock(self) -> QDockWidget | None:
        """The dock this panel is in (None: it is not in one)."""
        widget = self.parentWidget()
        while widget is not None and not isinstance(widget, QDockWidget):
            widget = widget.parentWidget()
        return widget

    def bring_forward(self) -> None:
        """Show this panel's dock and put it in front of its tab group."""
        dock = self.dock()
        if dock is not None:
            dock.show()
            dock.raise_()

    def came_in_front(self) -> None:
        """Its dock came in front: shown, or its tab chosen (the window calls this; a panel behind a
        tab is shown too, only out of sight). What a panel makes only to be seen, it makes here."""

    def shutdown(self) -> None:
        """The window is closing: stop timers, save what the panel keeps. No blocking I/O."""


class PanelScroll(QScrollArea):
    """A panel's dock content: as big as the panel would like, and never smaller than the panel
    needs, unless that is more than ``MIN_SHARE`` of the screen: then it can shrink and scroll."""

    def __init__(self, panel: Panel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"scroll-{panel.NAME}")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a click on a label keeps the focus in the panel
        self.setWidget(panel)

    def sizeHint(self) -> QSize:
        panel = self.widget()
        return panel.sizeHint() if panel is not None else super().sizeHint()

    def minimumSizeHint(self) -> QSize:
        panel, screen = self.widget(), self.screen()
        if panel is None or screen is None:
            return super().minimumSizeHint()
        need, room = panel.minimumSizeHint(), screen.availableGeometry().size()
        return QSize(min(need.width(), int(room.width() * MIN_SHARE[0])),
                     min(need.height(), int(room.height() * MIN_SHARE[1])))
