"""Quiet hours set from the panel: the Do not disturb button's menu and the palette open a dialog
whose span is the setting `quarterdeck notify quiet` changes; a span that does not read is said
and changes nothing."""
from __future__ import annotations

import pytest
from gui_fixtures import dry_roster
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialogButtonBox, QToolButton

from quarterdeck.gui.activity.quiet import DIALOG_NAME, QuietHoursDialog, normalise_span
from quarterdeck.gui.app import load_panels
from quarterdeck.gui.mainwindow import MainWindow
from quarterdeck.gui.settings import Settings


@pytest.fixture(autouse=True)
def notifications_off(monkeypatch):
    monkeypatch.setenv("QUARTERDECK_NOTIFICATIONS", "off")


def test_normalise_span():
    assert normalise_span(" 22:00-7:00 ") == "22:00-07:00"
    assert normalise_span("") == normalise_span("off") == ""
    with pytest.raises(ValueError):
        normalise_span("22:00")


def open_dialog(window, qtbot) -> QuietHoursDialog:
    button = next(w for w in window.toolbar.findChildren(QToolButton) if w.defaultAction() is not None
                  and w.defaultAction().objectName() == "notify-dnd")
    [quiet] = button.menu().actions()  # the button's arrow menu
    qtbot.waitUntil(lambda: window.findChild(QuietHoursDialog, DIALOG_NAME) is None)  # the last one is gone
    quiet.trigger()
    qtbot.waitUntil(lambda: window.findChild(QuietHoursDialog, DIALOG_NAME) is not None)
    dialog = window.findChild(QuietHoursDialog, DIALOG_NAME)
    qtbot.waitExposed(dialog)
    return dialog


def ok(dialog: QuietHoursDialog) -> None:
    button = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def test_quiet_hours_are_set_from_the_do_not_disturb_menu_and_cleared(make_ctx, qtbot):
    ctx = make_ctx(roster=dry_roster("Agent-1"))
    window = MainWindow(ctx, load_panels())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    said: list[str] = []
    ctx.sig_status.connect(said.append)
    assert "Quiet hours… (off)" in [a.text() for a in window.all_commands()]  # in the palette too

    dialog = open_dialog(window, qtbot)
    assert dialog.field.text() == ""
    QTest.keyClicks(dialog.field, "22:00-7")  # a mistake: said, nothing changed, still open
    ok(dialog)
    assert dialog.isVisible() and dialog.problem.text().startswith("Not changed:")
    assert Settings().notify_prefs().quiet is None
    dialog.field.clear()
    QTest.keyClicks(dialog.field, "22:00-7:00")
    assert dialog.problem.text() == ""  # typing clears the complaint
    ok(dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert Settings().notify_prefs().quiet_text() == "22:00-07:00"  # what the command line reads
    assert window.notifications.prefs.quiet_text() == "22:00-07:00"
    assert said[-1] == "Quiet hours: 22:00-07:00"
    assert "Quiet hours… (22:00-07:00)" in [a.text() for a in window.all_commands()]

    dialog = open_dialog(window, qtbot)
    assert dialog.field.text() == "22:00-07:00"
    dialog.field.clear()
    ok(dialog)  # empty: none
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert Settings().notify_prefs().quiet is None and said[-1] == "Quiet hours: off"
    window.close()
