"""The roster's fleet view: tiles by default, sized to the fleet, showing real facts (live status,
last message and its outcome, breaker, contract, transport), selected tiles as the composer's
recipients, and the table one toggle away."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from gui_fixtures import saved_shot
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtTest import QTest

from quarterdeck.core.contracts.store import ContractStore
from quarterdeck.core.models import Agent, DryRunTransport, GuiTransport, InboxTransport, Message, TmuxTransport
from quarterdeck.core.roster.roster import Roster
from quarterdeck.gui.composer.panel import ComposerPanel
from quarterdeck.gui.mainwindow import MainWindow
from quarterdeck.gui.roster import fleet_facts
from quarterdeck.gui.roster.fleet_facts import age_text
from quarterdeck.gui.roster.fleet_tile import DENSE_HEIGHT, MIN_TILE_WIDTH, SPACING, TILE_HEIGHT
from quarterdeck.gui.roster.model import COLOURS, STATUS, STATUS_KEY_ROLE
from quarterdeck.gui.roster.panel import RosterPanel

CTRL = Qt.KeyboardModifier.ControlModifier


def fleet(count: int = 16) -> Roster:
    agents = []
    for n in range(1, count + 1):
        transport = (GuiTransport(chat=(100 + n, 200 + n)) if n % 4 == 0 else
                     TmuxTransport(target=f"fleet:{n}") if n % 4 == 3 else
                     InboxTransport(path=Path(f"/srv/fleet/agent-{n}")) if n % 4 == 2 else DryRunTransport())
        agents.append(Agent(id=f"Agent-{n}", role="worker", transport=transport))
    return Roster(tuple(agents), groups={"pair": ("Agent-2", "Agent-4")})


def make_panel(make_ctx, qtbot, roster: Roster | None = None) -> RosterPanel:
    panel = RosterPanel(make_ctx(roster=roster or fleet()))
    qtbot.addWidget(panel)
    return panel


def tile_rect(panel: RosterPanel, agent_id: str) -> QRect:
    return panel.fleet.visualRect(panel.model.index(panel.model.row_of(agent_id), 0))


def click_tile(panel: RosterPanel, agent_id: str, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    QTest.mouseClick(panel.fleet.viewport(), Qt.MouseButton.LeftButton, modifier, tile_rect(panel, agent_id).center())


def test_the_fleet_is_the_default_view_and_the_table_is_one_toggle_away(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    assert panel.stack.currentWidget() is panel.fleet
    toggle = panel.actions_by_name["table"]
    assert toggle.isCheckable() and not toggle.isChecked() and toggle.iconText() == "Table"
    toggle.trigger()
    assert panel.stack.currentWidget() is panel.table
    assert panel.ctx.settings.get("roster/view", "fleet") == "table"
    again = make_panel(make_ctx, qtbot)  # remembered
    assert again.stack.currentWidget() is again.table and again.actions_by_name["table"].isChecked()
    again.actions_by_name["table"].trigger()
    assert again.stack.currentWidget() is again.fleet and panel.ctx.settings.get("roster/view", "x") == "x"


def test_sixteen_tiles_fit_and_the_size_hint_grows_with_the_fleet(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    panel.resize(840, 600)
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.fleet.columns_for(panel.fleet.usable_width()) == 4
    wanted = panel.fleet.sizeHint().height()
    assert wanted == 4 * (TILE_HEIGHT + SPACING) + SPACING + 2 * panel.fleet.frameWidth()
    panel.resize(840, panel.sizeHint().height())  # what the window gives the dock when it has room
    qtbot.waitUntil(lambda: panel.fleet.height() >= wanted)
    assert not panel.fleet.dense

    def all_in_view() -> bool:
        viewport = panel.fleet.viewport().rect()
        return all(viewport.contains(tile_rect(panel, a.id)) and tile_rect(panel, a.id).width() >= MIN_TILE_WIDTH
                   for a in panel.ctx.roster.agents)

    assert all_in_view()
    assert panel.sizeHint().height() < 360  # toolbar and four rows of tiles
    # a shorter panel (a small screen): two-line tiles, all sixteen still in view while they fit
    panel.resize(840, panel.sizeHint().height() - wanted + 4 * (DENSE_HEIGHT + SPACING) + 2 * SPACING)
    qtbot.waitUntil(lambda: panel.fleet.dense)
    assert panel.fleet.tile_size.height() == DENSE_HEIGHT and all_in_view()
    panel.resize(840, 200)  # shorter still: they scroll
    qtbot.waitUntil(lambda: panel.fleet.verticalScrollBar().maximum() > 0)
    small = make_panel(make_ctx, qtbot, fleet(6))
    small.resize(840, 400)
    small.show()
    qtbot.waitExposed(small)
    assert small.fleet.sizeHint().height() < wanted


def test_tiles_show_real_status_last_message_contract_and_target(make_ctx, qtbot, transports, tmp_path):
    transports.fail_times["Agent-3"] = 1000
    panel = make_panel(make_ctx, qtbot, fleet(4))
    ctx = panel.ctx
    panel.resize(840, 300)
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.facts.last_message("Agent-1") is None
    with qtbot.waitSignal(ctx.sig_submitted):
        ctx.submit(Message(sender="Captain", recipients=["Agent-1", "Agent-3"], content="Run   the\nsuite"))
    qtbot.waitUntil(lambda: getattr(panel.facts.last_message("Agent-3"), "outcome", "") == "failed", timeout=10_000)
    qtbot.waitUntil(lambda: panel.facts.last_message("Agent-1").outcome == "unverified")
    last = panel.facts.last_message("Agent-1")
    assert last.excerpt == "Run the suite" and age_text(0) == "now"
    contracts = ContractStore(ctx.store.path)
    contract = contracts.create("Fix the login page", assignee="Agent-2")
    contracts.close()
    with qtbot.waitSignal(panel.facts.sig_changed, timeout=5000):
        panel.facts.reload()
    assert [(c.id, c.state, c.title) for c in panel.facts.contracts("Agent-2")] == [
        (contract.id, "open", "Fix the login page")]
    tip = panel.fleet.tooltip_for(panel.model.index(3, 0))
    assert "4 · Agent-4" in tip and "screen: 104, 204" in tip  # the pixel target is in the tooltip only
    tip = panel.fleet.tooltip_for(panel.model.index(0, 0))
    assert "“Run the suite”" in tip and "unverified" in tip
    assert f"Contract #{contract.id} open: Fix the login page" in panel.fleet.tooltip_for(panel.model.index(1, 0))
    # a fresh panel over the same outbox reads the last messages back from it
    again = RosterPanel(ctx)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitUntil(lambda: again.facts.last_message("Agent-3") is not None, timeout=5000)
    assert again.facts.last_message("Agent-3").outcome == "failed"
    assert again.facts.last_message("Agent-2") is None
    saved_shot(panel, "roster-fleet.png")


@pytest.mark.qt_log_ignore("does not support grabbing the keyboard")  # offscreen popups
def test_selected_tiles_are_the_composers_recipients_both_ways(make_ctx, qtbot):
    ctx = make_ctx(roster=fleet(10))
    window = MainWindow(ctx, [RosterPanel, ComposerPanel])
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    roster, composer = window.panels["roster"], window.panels["composer"]
    qtbot.waitUntil(lambda: roster.link.recipients is composer.recipients)
    click_tile(roster, "Agent-2")
    click_tile(roster, "Agent-5", CTRL)
    click_tile(roster, "Agent-7", CTRL)
    click_tile(roster, "Agent-9", CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert composer.recipients.selected() == ["Agent-2", "Agent-5", "Agent-7", "Agent-8", "Agent-9"]
    assert roster.selected_id() == "Agent-9"  # the table's row follows the current tile
    click_tile(roster, "Agent-5", CTRL)  # Ctrl-click again: out
    assert composer.recipients.selected() == ["Agent-2", "Agent-7", "Agent-8", "Agent-9"]
    click_tile(roster, "Agent-6")
    assert composer.recipients.selected() == ["Agent-6"]
    roster.fleet.setFocus()  # the keys: Shift+arrow extends, Ctrl+arrow moves, Ctrl+Space toggles
    QTest.keyClick(roster.fleet, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert composer.recipients.selected() == ["Agent-6", "Agent-7"]
    QTest.keyClick(roster.fleet, Qt.Key.Key_Right, CTRL)
    QTest.keyClick(roster.fleet, Qt.Key.Key_Space, CTRL)
    assert composer.recipients.selected() == ["Agent-6", "Agent-7", "Agent-8"]
    QTest.keyClicks(composer.recipients.pick_field, "1,3-4")
    QTest.keyClick(composer.recipients.pick_field, Qt.Key.Key_Return)
    assert roster.fleet.selected_ids() == ["Agent-1", "Agent-3", "Agent-4"]
    composer.recipients.all_box.click()
    assert len(roster.fleet.selected_ids()) == 10
    composer.recipients.all_box.click()
    assert roster.fleet.selected_ids() == []
    roster.table.selectRow(5)  # a table row chosen: that tile alone
    assert composer.recipients.selected() == ["Agent-6"] and roster.fleet.selected_ids() == ["Agent-6"]
    rect = tile_rect(roster, "Agent-3")
    roster.fleet.customContextMenuRequested.emit(QPoint(rect.center()))
    assert roster.selected_id() == "Agent-3" and composer.recipients.selected() == ["Agent-3"]
    roster.menu.close()
    window.close()


def test_a_tile_is_painted_in_its_agents_live_status_colour(make_ctx, qtbot, transports):
    transports.fail_times["Agent-3"] = 1000
    panel = make_panel(make_ctx, qtbot, fleet(4))
    panel.resize(840, 300)
    panel.show()
    qtbot.waitExposed(panel)
    with qtbot.waitSignal(panel.ctx.sig_submitted):
        panel.ctx.submit(Message(sender="Captain", recipients=["Agent-1", "Agent-3"], content="Ping"))
    qtbot.waitUntil(lambda: getattr(panel.facts.last_message("Agent-3"), "outcome", "") == "failed", timeout=10_000)

    def edge(agent_id: str) -> str:
        rect = tile_rect(panel, agent_id)
        image = panel.fleet.viewport().grab().toImage()
        return image.pixelColor(rect.left() + 4, rect.center().y()).name()

    for agent_id in ("Agent-1", "Agent-2", "Agent-3"):
        key = panel.model.index(panel.model.row_of(agent_id), STATUS).data(STATUS_KEY_ROLE)
        qtbot.waitUntil(lambda a=agent_id, k=key: edge(a) == COLOURS[k])
    assert COLOURS["idle"] == edge("Agent-2") != edge("Agent-3") == COLOURS["failed"]


def test_a_failed_read_is_said_once_and_the_tiles_keep_what_they_showed(make_ctx, qtbot, monkeypatch):
    panel = make_panel(make_ctx, qtbot, fleet(4))
    panel.show()
    with qtbot.waitSignal(panel.ctx.sig_submitted):
        panel.ctx.submit(Message(sender="Captain", recipients=["Agent-1"], content="Before the fault"))
    qtbot.waitUntil(lambda: panel.facts.last_message("Agent-1") is not None)

    def broken(_store, _ids):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(fleet_facts, "read_last_messages", broken)
    with qtbot.waitSignal(panel.facts.sig_problem, timeout=5000) as problem:
        panel.facts.reload()
    assert problem.args[0].startswith("Fleet: could not read the last messages or contracts from ")
    assert "disk I/O error" in problem.args[0] and "\n" not in problem.args[0]
    assert panel.message_bar.isVisible() and panel.message_bar.label.text() == problem.args[0]
    assert panel.facts.last_message("Agent-1").excerpt == "Before the fault"


def test_the_facts_are_polled_only_while_the_tiles_are_on_screen(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot, fleet(4))
    assert not panel.facts._timer.isActive()
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.facts._timer.isActive()
    panel.actions_by_name["table"].trigger()
    assert not panel.facts._timer.isActive()
    panel.actions_by_name["table"].trigger()
    assert panel.facts._timer.isActive()


def test_a_disabled_agents_tile_is_selectable_but_never_a_recipient(make_ctx, qtbot):
    agents = [Agent(id=f"Agent-{n}", transport=DryRunTransport(), enabled=n != 2) for n in range(1, 4)]
    ctx = make_ctx(roster=Roster(tuple(agents)))
    window = MainWindow(ctx, [RosterPanel, ComposerPanel])
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    roster, composer = window.panels["roster"], window.panels["composer"]
    qtbot.waitUntil(lambda: roster.link.recipients is composer.recipients)
    assert roster.model.index(1, STATUS).data() == "disabled"
    click_tile(roster, "Agent-1")
    with qtbot.waitSignal(ctx.sig_status) as said:
        click_tile(roster, "Agent-2", CTRL)
    assert said.args == ["Agent-2: disabled, so not a recipient"]
    assert composer.recipients.selected() == ["Agent-1"] and roster.fleet.selected_ids() == ["Agent-1", "Agent-2"]
    window.close()
