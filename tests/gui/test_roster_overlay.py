"""Show targets: one click-through window per screen with a crosshair at every gui agent's points."""
from __future__ import annotations

from gui_fixtures import shots_dir
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QColor, QGuiApplication, QKeyEvent, QPainter, QPixmap
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from quarterdeck.core.models import Agent, GuiTransport, TmuxTransport
from quarterdeck.core.roster.roster import Roster
from quarterdeck.gui.mainwindow import MainWindow
from quarterdeck.gui.roster.overlay import MARK_COLOURS, TargetOverlay
from quarterdeck.gui.roster.panel import RosterPanel
from quarterdeck.gui.roster.targets import targets_of


def calibrated() -> Roster:
    return Roster((
        Agent(id="Agent-1", transport=GuiTransport(chat=(120, 500), onboarding=(120, 180))),
        Agent(id="Agent-2", transport=TmuxTransport(target="swarm:0.2")),
        Agent(id="Agent-3", transport=GuiTransport(chat=(560, 420))),
        Agent(id="Agent-4", transport=GuiTransport(chat=(-1269, 481))),  # a monitor that is not attached
    ))


def test_targets_are_the_gui_agents_points():
    assert [(t.agent_id, t.which, t.point, t.label) for t in targets_of(calibrated())] == [
        ("Agent-1", "chat", (120, 500), "Agent-1"),
        ("Agent-1", "onboarding", (120, 180), "Agent-1 · onboarding"),
        ("Agent-3", "chat", (560, 420), "Agent-3"),
        ("Agent-4", "chat", (-1269, 481), "Agent-4"),
    ]


def test_every_screen_gets_a_click_through_window_marking_the_points_on_it(qapp, qtbot):
    overlay = TargetOverlay()
    with qtbot.waitSignal(overlay.sig_visibility_changed) as shown:
        overlay.show_targets(calibrated())
    assert shown.args == [True]
    screens = QGuiApplication.screens()
    assert len(overlay.windows) == len(screens)
    window = overlay.windows[0]
    assert window.geometry() == screens[0].geometry() and window.isVisible()
    flags = window.windowFlags()
    for flag in (Qt.WindowType.WindowTransparentForInput, Qt.WindowType.WindowStaysOnTopHint,
                 Qt.WindowType.FramelessWindowHint):
        assert flags & flag
    assert window.testAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
    marks = {(t.agent_id, t.which): (p.x(), p.y()) for t, p in window.marks}
    assert marks == {("Agent-1", "chat"): (120, 500), ("Agent-1", "onboarding"): (120, 180),
                     ("Agent-3", "chat"): (560, 420)}
    assert [t.agent_id for t in window.off_screen] == ["Agent-4"]
    shape = window.shape_region()  # the window's mask on X11
    assert shape.contains(QPoint(120, 500)) and not shape.contains(QPoint(400, 700))
    image = window.grab().toImage()
    assert image.pixelColor(120 + 15, 500) == MARK_COLOURS["chat"]  # on the crosshair's arm
    assert image.pixelColor(120 + 15, 180) == MARK_COLOURS["onboarding"]
    save_screenshot(window)
    overlay.update_roster(Roster(calibrated().agents[:2]))
    assert len(window.marks) == 2 and window.off_screen == []
    with qtbot.waitSignal(overlay.sig_visibility_changed) as hidden:
        overlay.hide_targets()
    assert hidden.args == [False] and overlay.windows == []
    overlay.hide_targets()  # already hidden: nothing happens


def save_screenshot(window) -> None:
    """The overlay is transparent: draw it over a plain desktop-like backdrop to look at it."""
    shot = QPixmap(window.size())
    shot.fill(QColor("#3c4655"))
    painter = QPainter(shot)
    painter.fillRect(60, 440, 360, 120, QColor("#e8e8e8"))  # stand-ins for editor chat inputs
    painter.fillRect(500, 380, 260, 80, QColor("#e8e8e8"))
    painter.drawPixmap(0, 0, window.grab())
    painter.end()
    assert shot.save(str(shots_dir() / "overlay.png"))


def test_the_toggle_and_esc_hide_the_targets_and_that_esc_is_not_stop_all(make_ctx, qtbot):
    ctx = make_ctx(roster=calibrated())
    window = MainWindow(ctx, [RosterPanel])
    qtbot.addWidget(window)
    window.show()
    panel = window.panels["roster"]
    toggle = panel.actions_by_name["targets"]
    toggle.trigger()
    assert panel.overlay.visible and toggle.isChecked() and toggle.text() == "Hide targets"
    toggle.trigger()
    assert not panel.overlay.visible and toggle.text() == "Show targets"
    toggle.trigger()
    # Qt asks the focused widget first whether it wants Esc (ShortcutOverride); an accepted event
    # keeps the Stop all shortcut from firing. Offscreen has no active window, so ask directly.
    override = QKeyEvent(QEvent.Type.ShortcutOverride, Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier)
    override.ignore()
    QApplication.sendEvent(panel.table, override)
    assert override.isAccepted() and panel.overlay.visible
    QTest.keyClick(panel.table, Qt.Key.Key_Escape)
    assert not panel.overlay.visible and not toggle.isChecked()
    assert not ctx.delivery.halted
    after = QKeyEvent(QEvent.Type.ShortcutOverride, Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier)
    after.ignore()
    QApplication.sendEvent(panel.table, after)
    assert not after.isAccepted()  # with the marks gone, Esc is Stop all again
    toggle.trigger()
    ctx.set_roster(Roster(calibrated().agents[1:]))
    qtbot.waitUntil(lambda: len(panel.overlay.windows[0].marks) == 1)
    window.close()
    assert not panel.overlay.visible
