"""The window on its screen: it never grows past the available geometry (the offscreen test screen
is 800x800, smaller than any laptop), every panel shown from the View menu comes in front with
the focus, the status bar stays in view, View → Reset layout goes back to the default, and the
demo's place for the panel is the left half of the screen."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, QSize, Qt

from quarterdeck.gui.app import _beside_the_swarm, load_panels
from quarterdeck.gui.layout import fit_rect
from quarterdeck.gui.mainwindow import MainWindow
from quarterdeck.gui.navigation import in_front


@pytest.fixture
def window(make_ctx, qtbot):
    ctx = make_ctx()
    made = MainWindow(ctx, load_panels())
    qtbot.addWidget(made)
    made.show()
    qtbot.waitExposed(made)
    yield made
    made.close()


def inside_screen(window) -> bool:
    return window.screen().availableGeometry().contains(window.frameGeometry())


def status_bar_in_view(window) -> bool:
    bar = window.statusBar()
    top_left = bar.mapTo(window, bar.rect().topLeft())
    return bar.isVisible() and QRect(top_left, bar.size()).intersected(window.rect()) == QRect(top_left, bar.size())


def test_fit_rect_keeps_the_frame_inside_the_area():
    area = QRect(0, 0, 1366, 740)
    assert fit_rect(QRect(100, 50, 400, 300), (0, 0, 0, 0), area) == QRect(100, 50, 400, 300)
    # taller than the screen and below it: as tall as the screen, moved up; the frame's title bar counts
    assert fit_rect(QRect(10, 300, 700, 1085), (4, 24, 4, 4), area) == QRect(14, 24, 692, 712)
    assert fit_rect(QRect(-50, -20, 2000, 200), (0, 0, 0, 0), area) == QRect(0, 0, 1366, 200)


def test_the_first_window_fits_its_screen(window, qtbot):
    qtbot.waitUntil(lambda: inside_screen(window))
    assert window.minimumSizeHint().height() <= window.screen().availableGeometry().height()
    assert status_bar_in_view(window)


def test_showing_every_panel_from_the_view_menu_keeps_the_window_on_screen(window, qtbot):
    for dock in window.docks.values():
        dock.hide()
    window.resize(780, 760)
    for name, action in window.navigator.show_actions.items():
        action.trigger()  # View → <panel>
        panel = window.panels[name]
        qtbot.waitUntil(lambda p=panel: in_front(p))
        qtbot.waitUntil(lambda: inside_screen(window))
        assert status_bar_in_view(window), name
        assert action.isChecked()
        focus = window.focusWidget()
        assert focus is not None and window.navigator.current() == name, (name, focus)
    assert all(not dock.isHidden() for dock in window.docks.values())
    assert window.minimumSizeHint().height() <= window.screen().availableGeometry().height()


def test_a_panel_behind_a_tab_comes_in_front_with_the_focus(window, qtbot):
    window.docks["history"].raise_()
    qtbot.waitUntil(lambda: in_front(window.panels["history"]))
    assert not in_front(window.panels["charts"])  # tabbed behind the history
    assert "charts" not in window.navigator.on_screen()
    window.navigator.show_actions["charts"].trigger()
    qtbot.waitUntil(lambda: in_front(window.panels["charts"]))
    assert not in_front(window.panels["history"])
    assert window.navigator.current() == "charts"


def test_a_window_saved_on_a_bigger_screen_is_fitted_when_it_opens(make_ctx, qtbot):
    ctx = make_ctx()
    big = MainWindow(ctx, load_panels())
    qtbot.addWidget(big)
    big.setGeometry(200, 300, 1900, 1300)
    big.close()
    again = MainWindow(ctx, load_panels())
    qtbot.addWidget(again)
    again.show()
    qtbot.waitUntil(lambda: inside_screen(again))
    assert again.height() <= again.screen().availableGeometry().height()
    again.close()


def test_reset_layout_brings_back_the_default_and_forgets_the_saved_one(window, qtbot):
    default = {name for name, dock in window.docks.items() if not dock.isHidden()}
    window.docks["roster"].hide()
    window.docks["contracts"].close()
    window.docks["composer"].setFloating(True)
    window.close()  # the changed layout is saved
    assert window.ctx.settings.get_bytes("window/state") is not None
    window.show()
    window.navigator.reset_action.trigger()  # View → Reset layout
    assert {name for name, dock in window.docks.items() if not dock.isHidden()} == default
    assert not window.docks["composer"].isFloating()
    assert window.ctx.settings.get_bytes("window/state") is None
    assert window.ctx.settings.get_bytes("window/geometry") is None
    assert all(window.navigator.show_actions[name].isChecked() for name in default)
    assert "contracts" in default and "roster" in default
    qtbot.waitUntil(lambda: inside_screen(window))


def test_the_roster_gets_up_to_45_percent_of_the_window_height(window, qtbot, monkeypatch):
    roster = window.panels["roster"]
    monkeypatch.setattr(type(roster), "sizeHint", lambda self: QSize(400, 5000))  # a big fleet
    window.resize(780, 760)
    qtbot.waitUntil(lambda: window.height() == 760 or inside_screen(window))
    window._size_left_column()
    dock = window.docks["roster"]
    qtbot.waitUntil(lambda: dock.height() > window.height() // 4)
    assert dock.height() <= window.height() * 45 // 100 + 2


def test_on_a_short_screen_panels_opened_later_are_tabs_beside_the_composer(window, qtbot):
    _beside_the_swarm(window, 4)  # the test screen is short (800 px)
    roster, composer = window.docks["roster"], window.docks["composer"]
    qtbot.waitUntil(lambda: window.navigator.on_screen() == ["roster", "composer"])
    rows = roster.height()
    for name in ("rules", "charts", "health"):
        window.navigator.show_actions[name].trigger()  # View → Rules, Charts, Health
        qtbot.waitUntil(lambda n=name: window.navigator.on_screen() == ["roster", n])
        # a tab beside the composer, not a third panel stacked under it: the roster keeps its rows
        assert window.docks[name] in window.tabifiedDockWidgets(composer)
        assert roster.height() == rows
    tabs = window.tabifiedDockWidgets(composer)
    assert tabs.index(window.docks["history"]) < tabs.index(window.docks["rules"])  # the history first


def test_the_demo_puts_the_panel_in_the_left_half_and_reset_returns_there(window, qtbot):
    area = window.screen().availableGeometry()
    _beside_the_swarm(window, 4)
    left = QRect(area.x(), area.y(), area.width() // 2, area.height())
    qtbot.waitUntil(lambda: left.contains(window.frameGeometry()))
    assert {n for n, d in window.docks.items() if not d.isHidden()} == {"roster", "composer", "history"}
    assert window.dockWidgetArea(window.docks["composer"]) == Qt.DockWidgetArea.LeftDockWidgetArea
    # the test screen is short (800 px): the history is a tab behind the composer, which keeps its height
    assert window.docks["history"] in window.tabifiedDockWidgets(window.docks["composer"])
    qtbot.waitUntil(lambda: window.navigator.on_screen() == ["roster", "composer"])
    window.navigator.show_actions["rules"].trigger()
    window.setGeometry(area.x() + 300, area.y() + 10, 400, 300)
    window.navigator.reset_action.trigger()
    qtbot.waitUntil(lambda: window.frameGeometry().left() == area.x() and left.contains(window.frameGeometry()))
    assert window.docks["rules"].isHidden()
    qtbot.waitUntil(lambda: window.navigator.on_screen() == ["roster", "composer"])
    window.close()
    assert window.ctx.settings.get_bytes("window/state") is None  # the demo layout is not kept
