"""The first start's column (gui/firststart.py): the roster shows its fleet, as far as the composer
below it can still show everything down to Send."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QRect
from test_composer_live import team

from quarterdeck.gui.app import load_panels
from quarterdeck.gui.firststart import column_heights, composer_need
from quarterdeck.gui.mainwindow import MainWindow


def test_column_heights_give_the_roster_its_wish_only_as_far_as_the_composer_stays_whole():
    # room for both wishes: each gets it, the history the rest
    assert column_heights(1000, 200, 350, 420, 450, [300]) == [200, 420, 380]
    # a big fleet: the roster stops at the cap, the composer keeps what it needs
    assert column_heights(1000, 5000, 350, 420, 450, [300]) == [450, 420, 130]
    # a short column: the composer's need wins over the roster's wish, nothing is left for the history
    assert column_heights(600, 280, 382, 820, 320, []) == [218, 382]
    assert column_heights(600, 280, 382, 820, 320, [100]) == [218, 382, 0]
    # two other panels share the rest in proportion to their heights
    assert column_heights(1000, 100, 300, 300, 450, [100, 300]) == [100, 300, 150, 450]


def send_in_view(window: MainWindow) -> bool:
    """Send is whole in the composer's scroll area."""
    composer = window.panels["composer"]
    scroll = composer.parentWidget().parentWidget()
    button = composer.send_button
    top_left = button.mapTo(scroll.viewport(), button.rect().topLeft())
    return scroll.viewport().rect().contains(QRect(top_left, button.size()))


@pytest.mark.parametrize("agents", [4, 12])
def test_the_roster_table_takes_what_the_composer_leaves(make_ctx, qtbot, agents):
    ctx = make_ctx(roster=team(agents))
    ctx.settings.set("roster/view", "table", "fleet")
    window = MainWindow(ctx, load_panels())
    qtbot.addWidget(window)
    window.compact()  # the demo's layout: roster above the composer (the history a tab on this short screen)
    window.resize(760, 780)  # the offscreen screen's left half is too narrow for the composer's buttons
    window.show()
    qtbot.waitExposed(window)
    roster = window.panels["roster"]
    assert roster.stack.currentWidget() is roster.table
    table = roster.table
    qtbot.waitUntil(lambda: table.model().rowCount() == agents)
    window._size_left_column()

    def whole_rows() -> int:
        return sum(table.visualRect(table.model().index(r, 0)).bottom() < table.viewport().height()
                   for r in range(agents))

    qtbot.waitUntil(lambda: send_in_view(window))
    shown = whole_rows()
    assert shown == agents if agents == 4 else 4 <= shown < agents  # the test screen is 800 px tall
    if shown < agents:  # the composer takes no more than it needs: a row more would hide Send
        composer = window.docks["composer"]
        need = composer_need(composer, window.panels["composer"])
        assert composer.height() < need + table.verticalHeader().defaultSectionSize()
    # switching to the tiles and back sizes the column again
    roster.show_table(False)
    roster.show_table(True)
    qtbot.wait(300)
    assert send_in_view(window) and whole_rows() == shown
    window.close()
