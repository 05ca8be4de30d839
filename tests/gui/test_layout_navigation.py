"""Keyboard navigation between panels: F6 / Shift+F6 and Ctrl+Tab cycle the focus through the
panels on screen, Ctrl+N shows panel N with the focus in it, the View menu names the keys, and
the command palette offers "View: …", puts recent commands first and never preselects a command
an Enter would run by accident."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication

from quarterdeck.gui.app import load_panels
from quarterdeck.gui.mainwindow import MainWindow
from quarterdeck.gui.navigation import in_front


@pytest.fixture
def window(make_ctx, qtbot):
    ctx = make_ctx()
    made = MainWindow(ctx, load_panels())
    qtbot.addWidget(made)
    made.show()
    made.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is made)
    yield made
    made.close()


def press(qtbot, window, key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(QApplication.focusWidget() or window, key, modifiers)


def test_f6_and_ctrl_tab_cycle_the_focus_through_the_panels_on_screen(window, qtbot):
    shown = window.navigator.on_screen()
    assert len(shown) >= 3 and all(in_front(window.panels[name]) for name in shown)
    assert len(shown) < len(window.panels)  # panels behind a tab are not in the cycle
    seen = []
    for _ in shown:
        press(qtbot, window, Qt.Key.Key_F6)
        qtbot.waitUntil(lambda: window.navigator.current() is not None)
        seen.append(window.navigator.current())
    assert sorted(seen) == sorted(shown) and len(set(seen)) == len(shown)
    press(qtbot, window, Qt.Key.Key_F6, Qt.KeyboardModifier.ShiftModifier)
    assert window.navigator.current() == seen[-2]
    press(qtbot, window, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert window.navigator.current() == seen[-1]
    assert window.navigator.on_screen() == shown  # moving the focus switched no tab


def test_ctrl_number_shows_the_panel_in_front_with_the_focus(window, qtbot):
    names = list(window.panels)
    window.docks["contracts"].close()
    press(qtbot, window, Qt.Key.Key_7, Qt.KeyboardModifier.ControlModifier)  # Contracts is the 7th
    assert names[6] == "contracts"
    qtbot.waitUntil(lambda: in_front(window.panels["contracts"]))
    assert window.navigator.current() == "contracts"
    assert window.navigator.show_actions["contracts"].isChecked()
    press(qtbot, window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.navigator.current() == "rules")
    assert not in_front(window.panels["contracts"])  # the same tab group: Rules is in front now


def test_the_view_menu_shows_each_panel_with_its_shortcut_and_reset_layout(window):
    entries = {a.text(): a.shortcut().toString() for a in window.view_menu.actions() if a.text()}
    assert entries["Roster"] == "Ctrl+1" and entries["Composer"] == "Ctrl+2" and entries["Rules"] == "Ctrl+3"
    assert entries["Next panel"] == "F6" and entries["Previous panel"] == "Shift+F6"
    assert "Reset layout" in entries
    assert [s.toString() for s in window.navigator.next_action.shortcuts()] == ["F6", "Ctrl+Tab"]


def test_the_palette_opens_with_nothing_chosen_so_enter_stops_nothing(window, qtbot):
    halted = []
    window.ctx.delivery.sig_halted.connect(lambda *a: halted.append(a))
    window.open_palette()
    palette = window.palette_dialog
    assert palette.list.currentItem() is None
    assert palette.visible_items()[0].text().startswith("Stop all")  # listed, but not chosen
    with qtbot.waitSignal(palette.query.returnPressed):  # Return was handled (synchronously)
        qtbot.keyClick(palette.query, Qt.Key.Key_Return)
    assert not halted and not window.ctx.delivery.halted and palette.isVisible()  # running a choice closes it
    qtbot.keyClick(palette.query, Qt.Key.Key_Down)  # an arrow chooses the first one
    assert palette.list.currentItem() is palette.visible_items()[0]
    palette.reject()
    assert palette.windowFlags() & Qt.WindowType.WindowStaysOnTopHint


def test_the_palette_offers_view_commands_and_lists_recent_ones_first(window, qtbot):
    window.open_palette()
    palette = window.palette_dialog
    labels = [item.text() for item in palette.visible_items()]
    shortcut = QKeySequence("Ctrl+4").toString(QKeySequence.SequenceFormat.NativeText)
    assert f"View: Charts    {shortcut}" in labels and "View: Reset layout" in labels
    palette.query.setText("view charts")
    qtbot.keyClick(palette.query, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.navigator.current() == "charts")
    window.open_palette()
    palette.query.setText("view health")
    qtbot.keyClick(palette.query, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: in_front(window.panels["health"]))
    window.open_palette()
    first = [item.text() for item in palette.visible_items()[:2]]
    assert first[0].startswith("View: Health") and first[1].startswith("View: Charts")
    assert palette.list.currentItem() is None  # recent first, still nothing chosen
    palette.reject()
    assert window.ctx.settings.get("palette/recent", [], list)[:2] == ["View: Health", "View: Charts"]


@pytest.mark.parametrize("panel", ["composer", "rules"])
def test_the_keys_leave_a_text_editor_too(window, qtbot, panel):
    from PySide6.QtWidgets import QPlainTextEdit

    window.navigator.focus_panel(panel)

    def editors():  # a panel behind a tab is made when first shown; its files are read after
        return [e for e in window.panels[panel].findChildren(QPlainTextEdit) if in_front(e) and e.isEnabled()]

    qtbot.waitUntil(lambda: bool(editors()))
    editor = editors()[0]
    editor.setFocus()
    qtbot.waitUntil(editor.hasFocus)
    before = editor.toPlainText()
    press(qtbot, window, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert window.navigator.current() != panel and editor.toPlainText() == before  # no tab typed
    editor.setFocus()
    press(qtbot, window, Qt.Key.Key_F6)
    assert window.navigator.current() != panel and editor.toPlainText() == before
