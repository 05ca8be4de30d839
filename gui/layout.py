"""Keeping the main window on its screen and every panel within reach.

A window that grows past the bottom of the screen hides its status bar (STOPPED, GUI PAUSED,
health) and the panels at the bottom, and on a small screen it cannot be dragged back into view.
``WindowLayout`` watches the docks and, after any change (a panel shown, moved, tabbed, the window
moved to another screen), puts the window's frame back inside the available geometry of the
screen it is on. A panel shown from the View menu joins the tab group of a panel already showing
when standing it beside them would not fit. It also remembers the layout the window started with
for its screen size, so View → Reset layout can go back to it and forget the saved one.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QEvent, QObject, QRect, QTimer, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QMainWindow

from quarterdeck.gui.navigation import in_front

if TYPE_CHECKING:  # annotations only
    from quarterdeck.gui.settings import Settings

DEFAULT_SIZE = (1400, 900)


def fit_rect(frame: QRect, margins: tuple[int, int, int, int], area: QRect) -> QRect:
    """The client geometry that keeps a window whose frame is ``frame`` (client plus ``margins``:
    left, top, right, bottom) inside ``area``: as big as it was, at most the area, moved in."""
    left, top, right, bottom = margins
    width = min(frame.width(), area.width())
    height = min(frame.height(), area.height())
    x = min(max(frame.x(), area.x()), area.x() + area.width() - width)
    y = min(max(frame.y(), area.y()), area.y() + area.height() - height)
    return QRect(x + left, y + top, width - left - right, height - top - bottom)


def available_area(window: QMainWindow) -> QRect:
    screen = window.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry()


class WindowLayout(QObject):
    """The fit-to-screen guard, the default layout and its reset for ``window``'s docks."""

    def __init__(self, window: QMainWindow, docks: dict[str, QDockWidget], settings: Settings) -> None:
        super().__init__(window)
        self.window, self.docks, self.settings = window, docks, settings
        self.key = "window"  # the settings' group the layout is kept in ("demo/window": the demo's, apart)
        self.default_state: QByteArray | None = None
        self.default_frame: QRect | None = None  # where the window's frame goes by default (None: centred)
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self.fit)
        self._framed_timer = QTimer(self)  # the window manager has framed a new window by then
        self._framed_timer.setSingleShot(True)
        self._framed_timer.setInterval(300)
        self._framed_timer.timeout.connect(self._place_default_frame)
        for dock in docks.values():
            dock.visibilityChanged.connect(self._on_dock_changed)
            dock.topLevelChanged.connect(self._on_dock_changed)
            dock.dockLocationChanged.connect(self._on_dock_changed)
        window.installEventFilter(self)

    # -- the default layout ----------------------------------------------------------------------
    def capture_default(self, frame: QRect | None = None) -> None:
        """The current docks (and ``frame``, the window's place) are this screen's default layout."""
        self.default_state = self.window.saveState()
        if frame is not None:
            self.default_frame = QRect(frame)

    def default_client_rect(self) -> QRect:
        area = available_area(self.window)
        if self.default_frame is not None:
            return fit_rect(self.default_frame, self.margins(), area)
        width, height = min(DEFAULT_SIZE[0], area.width()), min(DEFAULT_SIZE[1], area.height())
        frame = QRect(area.x() + (area.width() - width) // 2, area.y() + (area.height() - height) // 2,
                      width, height)
        return fit_rect(frame, self.margins(), area)

    def kept(self) -> bool:
        """Whether a layout is kept under ``key`` (none: the first start's sizing still applies)."""
        return self.settings.get_bytes(f"{self.key}/state") is not None

    def reset(self) -> None:
        """Back to the layout the window started with on this screen; the one kept (``key``) is forgotten."""
        if self.default_state is not None:
            self.window.restoreState(self.default_state)
        self.settings.set(f"{self.key}/state", None)
        self.settings.set(f"{self.key}/geometry", None)
        self.place(self.default_client_rect())

    def place(self, client: QRect) -> None:
        """Put the window at ``client`` (the inside of its frame); fitted to the screen after."""
        if self.window.isMaximized() or self.window.isFullScreen():
            self.window.showNormal()
        self.window.setGeometry(client)
        self.schedule_fit()

    def place_frame(self, frame: QRect, *, move: bool = True) -> None:
        """Make ``frame`` the default place of the window's frame and (with ``move``) put it there, now
        and once the window manager has framed it (the frame's size is known only then)."""
        self.default_frame = QRect(frame)
        if not move:  # the window keeps the place it was given (a kept layout)
            return
        self._place_default_frame()
        self._framed_timer.start()

    @Slot()
    def _place_default_frame(self) -> None:
        if self.default_frame is not None:
            self.place(fit_rect(self.default_frame, self.margins(), available_area(self.window)))

    # -- fitting ---------------------------------------------------------------------------------
    def margins(self) -> tuple[int, int, int, int]:
        frame, inner = self.window.frameGeometry(), self.window.geometry()
        if not self.window.isVisible():
            return 0, 0, 0, 0
        return (inner.x() - frame.x(), inner.y() - frame.y(),
                frame.right() - inner.right(), frame.bottom() - inner.bottom())

    def schedule_fit(self) -> None:
        self._fit_timer.start()

    @Slot()
    def fit(self) -> None:
        """Put the window's frame inside its screen's available geometry (not when maximised:
        the window manager sizes it then)."""
        window = self.window
        if not window.isVisible() or window.isMaximized() or window.isFullScreen():
            return
        area = available_area(window)
        margins = self.margins()
        room_height = area.height() - margins[1] - margins[3]
        if window.minimumSizeHint().height() > room_height:
            self._squeeze(room_height)
        target = fit_rect(window.frameGeometry(), margins, area)
        if target != window.geometry():
            window.setGeometry(target)

    def fits(self) -> bool:
        """Whether the window's frame is inside its screen's available geometry."""
        return available_area(self.window).contains(self.window.frameGeometry())

    def _squeeze(self, room_height: int) -> None:
        """Tab docked panels that stand one above another until the window's minimum fits."""
        window = self.window
        for _ in range(len(self.docks)):
            if window.minimumSizeHint().height() <= room_height:
                return
            stacked = self._stacked_pair()
            if stacked is None:
                return
            window.tabifyDockWidget(*stacked)

    def _stacked_pair(self) -> tuple[QDockWidget, QDockWidget] | None:
        """Two docked, showing docks in one area one above the other (the lower one last)."""
        shown = [d for d in self.docks.values() if d.isVisible() and not d.isFloating()]
        for dock in sorted(shown, key=lambda d: d.mapTo(self.window, d.rect().topLeft()).y(), reverse=True):
            area = self.window.dockWidgetArea(dock)
            tabbed = set(self.window.tabifiedDockWidgets(dock))
            for other in shown:
                if (other is not dock and other not in tabbed and self.window.dockWidgetArea(other) == area
                        and other.geometry().bottom() <= dock.geometry().top()):
                    return other, dock
        return None

    # -- showing a panel -------------------------------------------------------------------------
    def show_dock(self, dock: QDockWidget) -> None:
        """Show ``dock`` in front of its tab group, where it fits."""
        if dock.isHidden():
            dock.show()
            if dock.isFloating():
                dock.setFloating(False)  # a panel once floated off screen comes back into the window
        dock.raise_()
        self.fit()
        self._untangle(dock)
        dock.raise_()

    def _untangle(self, dock: QDockWidget) -> None:
        """A panel shown where its area has no room left overlaps a panel of another area (a column on
        the left over the history along the bottom): it joins that panel's tab group instead. Never
        the roster's or the composer's (Send must stay in view); only panels in front (a tab behind
        another is kept shown, moved out of the window)."""
        if dock.isFloating() or (layout := self.window.layout()) is None:
            return
        layout.activate()
        if not in_front(dock):
            return
        tabbed = set(self.window.tabifiedDockWidgets(dock))
        keep = {self.docks.get("roster"), self.docks.get("composer")}
        for other in self.docks.values():
            if (other is not dock and other not in tabbed and other not in keep and in_front(other)
                    and not other.isFloating() and other.geometry().intersects(dock.geometry())):
                self.window.tabifyDockWidget(other, dock)
                return

    # -- events ----------------------------------------------------------------------------------
    @Slot()
    def _on_dock_changed(self, *_args: object) -> None:
        self.schedule_fit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() in (QEvent.Type.Show, QEvent.Type.LayoutRequest,
                                                        QEvent.Type.ScreenChangeInternal):
            self.schedule_fit()
        return False
