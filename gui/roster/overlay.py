"""Show targets: crosshairs on every screen where each gui agent's points are.

One frameless, always-on-top, click-through window per screen (``QGuiApplication.screens()``)
draws a crosshair and the agent's name at each chat point (and, in another colour, each
onboarding point), so the captain sees at a glance whether the calibration still matches the
editor windows. The windows never take focus or clicks. Besides being translucent they are shaped
to what they draw on X11 (``setMask``), so on a desktop without a compositor the rest of the screen
still shows through instead of turning black.

Points are stored in physical pixels; each window converts them to its own logical pixels
(``core.roster_edit.to_local``). Esc (while the marks are up) or the toggle hides them; that Esc
is taken by the overlay, so it does not also trigger Stop all.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPointF, QRect, QRectF, Qt, Signal, Slot
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

from core.roster_edit import to_local

MARK_COLOURS = {"chat": QColor("#ff1744"), "onboarding": QColor("#00b0ff")}
ARM = 22  # crosshair half-length in logical pixels
HINT = "Quarterdeck targets · Esc or Ctrl+Shift+T hides them"


@dataclass(frozen=True)
class Target:
    """One point to mark: whose, which point, and where (physical pixels)."""

    agent_id: str
    which: str  # chat | onboarding
    point: tuple[int, int]

    @property
    def label(self) -> str:
        return self.agent_id if self.which == "chat" else f"{self.agent_id} · onboarding"


def targets_of(roster: Any) -> list[Target]:
    """Every gui agent's chat point and, where set, onboarding point."""
    found: list[Target] = []
    for agent in roster.agents:
        transport = agent.transport
        if transport.kind != "gui":
            continue
        found.append(Target(agent.id, "chat", tuple(transport.chat)))
        if transport.onboarding is not None:
            found.append(Target(agent.id, "onboarding", tuple(transport.onboarding)))
    return found


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
        self.off_screen: list[Target] = []
        font = QFont(self.font())
        font.setBold(True)
        self.setFont(font)

    def set_targets(self, targets: list[Target], off_screen: list[Target]) -> None:
        geometry = self.screen_ref.geometry()
        self.setGeometry(geometry)
        origin, size = (geometry.x(), geometry.y()), (geometry.width(), geometry.height())
        ratio = self.screen_ref.devicePixelRatio()
        self.marks = []
        for target in targets:
            local = to_local(target.point, origin, size, ratio)
            if local is not None:
                self.marks.append((target, QPointF(*local)))
        self.off_screen = off_screen
        if QGuiApplication.platformName() == "xcb":  # X11 may have no compositor: cut the window to shape
            self.setMask(self.shape_region())
        self.update()

    # -- drawing -------------------------------------------------------------------------------
    def _label_rect(self, target: Target, at: QPointF) -> QRect:
        metrics = QFontMetrics(self.font())
        width, height = metrics.horizontalAdvance(target.label) + 12, metrics.height() + 6
        rect = QRect(int(at.x()) + ARM + 4, int(at.y()) - height // 2, width, height)
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
        return region

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        hint = self._hint_rect()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(20, 24, 32, 215))
        painter.drawRoundedRect(QRectF(hint), 6, 6)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(hint.adjusted(12, 6, -12, -6), Qt.AlignmentFlag.AlignLeft, "\n".join(self._hint_lines()))
        for target, at in self.marks:
            self._draw_mark(painter, target, at)
        painter.end()

    def _draw_mark(self, painter: QPainter, target: Target, at: QPointF) -> None:
        colour = MARK_COLOURS[target.which]
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


class TargetOverlay(QObject):
    """The marks on all screens, shown and hidden together; follows screens coming and going."""

    sig_visibility_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.windows: list[ScreenMarks] = []
        self._targets: list[Target] = []
        app = QGuiApplication.instance()
        app.screenAdded.connect(self._on_app_screens_changed)
        app.screenRemoved.connect(self._on_app_screens_changed)

    @property
    def visible(self) -> bool:
        return bool(self.windows)

    def show_targets(self, roster: Any) -> None:
        self._targets = targets_of(roster)
        if self.windows:
            self._place()
        else:
            self._open()

    def update_roster(self, roster: Any) -> None:
        """Follow a roster change while the marks are up."""
        if self.visible:
            self.show_targets(roster)

    def hide_targets(self) -> None:
        if not self.windows:
            return
        QGuiApplication.instance().removeEventFilter(self)
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

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        kind = event.type()
        if kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) and isinstance(event, QKeyEvent) \
                and event.key() == Qt.Key.Key_Escape and self.visible:
            event.accept()
            if kind == QEvent.Type.KeyPress:
                self.hide_targets()
            return True
        return False

    @Slot(QScreen)
    def _on_app_screens_changed(self, _screen: QScreen) -> None:
        if self.visible:
            self.hide_targets()
            self._open()

    def _open(self) -> None:
        self.windows = [ScreenMarks(screen) for screen in QGuiApplication.screens()]
        QGuiApplication.instance().installEventFilter(self)
        self._place()
        for window in self.windows:
            window.show()
        self.sig_visibility_changed.emit(True)
