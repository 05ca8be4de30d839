"""Show targets: crosshairs on every screen where each gui agent's points are.

One frameless, always-on-top, click-through window per screen (``QGuiApplication.screens()``)
draws a crosshair and the agent's name at each chat point (and, in another colour, each
onboarding point), so the captain sees at a glance whether the calibration still matches the
editor windows. The windows never take focus or clicks. Besides being translucent they are shaped
to what they draw on X11 (``setMask``), so on a desktop without a compositor the rest of the screen
still shows through instead of turning black.

An agent bound to its window (``quarterdeck.gui.roster.targets``) gets its window's outline and the point as
computed from the window now, refreshed every second while the marks are up; when a delivery would
be refused (or have to raise the window first) the reason is written in red next to the point.

Points are stored in physical pixels; each window converts them to its own logical pixels
(``quarterdeck.core.roster.edit.to_local``). Esc (while the marks are up) or the toggle hides them; that Esc
is taken by the overlay, so it does not also trigger Stop all.
"""
from __future__ import annotations

import threading

from PySide6.QtCore import QEvent, QObject, QPointF, QRect, QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QRegion,
    QScreen,
)
from PySide6.QtWidgets import QWidget

from quarterdeck.core.roster.edit import to_local
from quarterdeck.core.roster.roster import Roster
from quarterdeck.gui.roster.targets import Target, targets_of

__all__ = ["MARK_COLOURS", "ScreenMarks", "Target", "TargetOverlay", "targets_of"]

MARK_COLOURS = {"chat": QColor("#ff1744"), "onboarding": QColor("#00b0ff")}
FRAME_COLOUR, PROBLEM_COLOUR = QColor("#ffc400"), QColor("#d50000")
ARM = 22  # crosshair half-length in logical pixels
HINT = "Quarterdeck targets · Esc or Ctrl+Shift+T hides them"


class ScreenMarks(QWidget):
    """The marks on one screen; ``marks`` holds (target, local position) for the test's eyes."""

    def __init__(self, screen: QScreen) -> None:
        flags = (Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint
                 | Qt.WindowType.WindowTransparentForInput | Qt.WindowType.WindowDoesNotAcceptFocus)
        super().__init__(None, flags)
        self.setObjectName(f"targets-{screen.name() or 'screen'}")
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.screen_ref = screen
        self.setScreen(screen)
        self.setGeometry(screen.geometry())
        self.marks: list[tuple[Target, QPointF]] = []
        self.frames: list[tuple[Target, QRect]] = []  # window-bound agents' windows, local pixels
        self.off_screen: list[Target] = []
        font = QFont(self.font())
        font.setBold(True)
        self.setFont(font)

    def set_targets(self, targets: list[Target], off_screen: list[Target]) -> None:
        geometry = self.screen_ref.geometry()
        self.setGeometry(geometry)
        origin, size = (geometry.x(), geometry.y()), (geometry.width(), geometry.height())
        ratio = self.screen_ref.devicePixelRatio()
        self.marks, self.frames = [], []
        for target in targets:
            local = to_local(target.point, origin, size, ratio)
            if local is not None:
                self.marks.append((target, QPointF(*local)))
            if target.frame is not None and target.which == "chat":
                x, y, width, height = target.frame
                left, top = (x - origin[0]) / ratio, (y - origin[1]) / ratio
                rect = QRect(round(left), round(top), round(width / ratio), round(height / ratio))
                if rect.intersects(self.rect()):
                    self.frames.append((target, rect))
        self.off_screen = off_screen
        if QGuiApplication.platformName() == "xcb":  # X11 may have no compositor: cut the window to shape
            self.setMask(self.shape_region())
        self.update()

    # -- drawing -------------------------------------------------------------------------------
    def _label_rect(self, target: Target, at: QPointF, text: str = "", below: int = 0) -> QRect:
        metrics = QFontMetrics(self.font())
        text = text or target.label
        width, height = metrics.horizontalAdvance(text) + 12, metrics.height() + 6
        rect = QRect(int(at.x()) + ARM + 4, int(at.y()) - height // 2 + below * (height + 2), width, height)
        if rect.right() > self.width():  # keep the label on screen: put it left of the point
            rect.moveRight(int(at.x()) - ARM - 4)
        return rect

    def _hint_lines(self) -> list[str]:
        lines = [HINT]
        if self.off_screen:
            lines.append("Not on any screen: " + ", ".join(
                f"{t.label} ({t.point[0]}, {t.point[1]})" for t in self.off_screen))
        return lines

    def _hint_rect(self) -> QRect:
        metrics = QFontMetrics(self.font())
        lines = self._hint_lines()
        width = max(metrics.horizontalAdvance(line) for line in lines) + 24
        height = metrics.height() * len(lines) + 12
        return QRect((self.width() - width) // 2, 12, width, height)

    def shape_region(self) -> QRegion:
        """What the window draws: the hint, each crosshair and each label."""
        region = QRegion(self._hint_rect())
        for target, at in self.marks:
            region = region.united(QRect(int(at.x()) - ARM - 2, int(at.y()) - ARM - 2, 2 * ARM + 5, 2 * ARM + 5))
            region = region.united(self._label_rect(target, at).adjusted(-1, -1, 1, 1))
            if target.problem:
                region = region.united(self._label_rect(target, at, target.problem, 1).adjusted(-1, -1, 1, 1))
        for _target, rect in self.frames:  # only the outline: the window itself stays visible
            outer = rect.adjusted(-3, -3, 3, 3)
            region = region.united(QRegion(outer).subtracted(QRegion(rect.adjusted(3, 3, -3, -3))))
        return region

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        hint = self._hint_rect()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(20, 24, 32, 215))
        painter.drawRoundedRect(QRectF(hint), 6, 6)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(hint.adjusted(12, 6, -12, -6), Qt.AlignmentFlag.AlignLeft, "\n".join(self._hint_lines()))
        for _target, rect in self.frames:
            for pen in (QPen(QColor(0, 0, 0, 200), 4), QPen(FRAME_COLOUR, 2, Qt.PenStyle.DashLine)):
                painter.setPen(pen)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(QRectF(rect).adjusted(-1, -1, 1, 1))
        for target, at in self.marks:
            self._draw_mark(painter, target, at)
        painter.end()

    def _draw_mark(self, painter: QPainter, target: Target, at: QPointF) -> None:
        colour = MARK_COLOURS[target.which] if not target.problem else PROBLEM_COLOUR
        for pen in (QPen(QColor(255, 255, 255, 230), 4), QPen(colour, 2)):  # outline, then colour
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(at, ARM * 0.55, ARM * 0.55)
            painter.drawLine(QPointF(at.x() - ARM, at.y()), QPointF(at.x() - 4, at.y()))
            painter.drawLine(QPointF(at.x() + 4, at.y()), QPointF(at.x() + ARM, at.y()))
            painter.drawLine(QPointF(at.x(), at.y() - ARM), QPointF(at.x(), at.y() - 4))
            painter.drawLine(QPointF(at.x(), at.y() + 4), QPointF(at.x(), at.y() + ARM))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawEllipse(at, 1.5, 1.5)  # the exact point the click lands on
        label = self._label_rect(target, at)
        painter.setBrush(colour.darker(150))
        painter.drawRoundedRect(QRectF(label), 4, 4)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(label, Qt.AlignmentFlag.AlignCenter, target.label)
        if target.problem:  # why a delivery would be refused, or raise the window first
            box = self._label_rect(target, at, target.problem, 1)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(PROBLEM_COLOUR)
            painter.drawRoundedRect(QRectF(box), 4, 4)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, target.problem)


def gui_app() -> QGuiApplication:
    """The running application; the overlay follows its screens, so it needs a GUI one."""
    app = QGuiApplication.instance()
    if not isinstance(app, QGuiApplication):
        raise RuntimeError("the Targets overlay needs a running QGuiApplication")
    return app


class TargetOverlay(QObject):
    """The marks on all screens, shown and hidden together; follows screens coming and going."""

    sig_visibility_changed = Signal(bool)
    sig_targets_read = Signal(object)  # (roster, targets): read off the UI thread (X round trips)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.windows: list[ScreenMarks] = []
        self._targets: list[Target] = []
        self._roster: Roster | None = None
        self._reading = False
        self._refresh = QTimer(self, interval=1000)  # window-bound targets follow their windows
        self._refresh.timeout.connect(self._on_refresh_timeout)
        self.sig_targets_read.connect(self._on_targets_read)
        app = gui_app()
        app.screenAdded.connect(self._on_app_screens_changed)
        app.screenRemoved.connect(self._on_app_screens_changed)

    @property
    def visible(self) -> bool:
        return bool(self.windows)

    def show_targets(self, roster: Roster) -> None:
        self._roster = roster
        self._targets = targets_of(roster)
        if any(t.bound for t in self._targets):
            self._refresh.start()
        else:
            self._refresh.stop()
        if self.windows:
            self._place()
        else:
            self._open()

    def update_roster(self, roster: Roster) -> None:
        """Follow a roster change while the marks are up."""
        if self.visible:
            self.show_targets(roster)

    def hide_targets(self) -> None:
        if not self.windows:
            return
        gui_app().removeEventFilter(self)
        self._refresh.stop()
        for window in self.windows:
            window.close()
            window.deleteLater()
        self.windows = []
        self.sig_visibility_changed.emit(False)

    def _place(self) -> None:
        rest = list(self._targets)
        for window in self.windows:
            window.set_targets(self._targets, [])
            shown = {(t.agent_id, t.which) for t, _ in window.marks}
            rest = [t for t in rest if (t.agent_id, t.which) not in shown]
        if self.windows:  # points on no screen are named on the first screen's hint
            first = self.windows[0]
            first.set_targets(self._targets, rest)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) and isinstance(event, QKeyEvent) \
                and event.key() == Qt.Key.Key_Escape and self.visible:
            event.accept()
            if kind == QEvent.Type.KeyPress:
                self.hide_targets()
            return True
        return False

    @Slot()
    def _on_refresh_timeout(self) -> None:
        """Look at the bound agents' windows again, on a thread of its own: the X server (and a
        delivery holding the desk) must never hold up the panel."""
        if not (self.visible and self._roster is not None) or self._reading:
            return
        self._reading, roster = True, self._roster

        def read() -> None:
            targets = None
            try:
                targets = targets_of(roster)
            finally:
                self.sig_targets_read.emit((roster, targets))

        threading.Thread(target=read, name="targets-read", daemon=True).start()

    @Slot(object)
    def _on_targets_read(self, read: tuple[Roster, list[Target] | None]) -> None:
        self._reading = False
        roster, targets = read
        if self.visible and roster is self._roster and targets is not None and targets != self._targets:
            self._targets = targets
            self._place()

    @Slot(QScreen)
    def _on_app_screens_changed(self, _screen: QScreen) -> None:
        if self.visible:
            self.hide_targets()
            self._open()

    def _open(self) -> None:
        self.windows = [ScreenMarks(screen) for screen in QGuiApplication.screens()]
        gui_app().installEventFilter(self)
        self._place()
        for window in self.windows:
            window.show()
        self.sig_visibility_changed.emit(True)
