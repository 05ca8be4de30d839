"""The Roster panel: its commands, selection, breaker controls and a look at it after real work."""
from __future__ import annotations

from pathlib import Path

import pytest
from gui_fixtures import saved_shot
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest

from quarterdeck.core.models import Agent, GuiTransport, InboxTransport, Message, TmuxTransport
from quarterdeck.core.roster.roster import Roster
from quarterdeck.gui.mainwindow import MainWindow
from quarterdeck.gui.roster.model import BREAKER, LAST, STATUS
from quarterdeck.gui.roster.panel import RosterPanel

COMMANDS = ["Add agent…", "Edit agent…", "Remove agent", "Capture chat point", "Capture onboarding point",
            "Show targets", "Force breaker open", "Reset breaker", "Import coordinates…", "Roster as table"]


def swarm() -> Roster:
    return Roster((
        Agent(id="Agent-1", role="frontend", transport=GuiTransport(chat=(420, 980), onboarding=(420, 900))),
        Agent(id="Agent-2", role="backend", transport=TmuxTransport(target="swarm:0.2")),
        Agent(id="Agent-3", role="integration", transport=GuiTransport(chat=(1500, 640))),
        Agent(id="Agent-4", role="docs", transport=InboxTransport(path=Path("/srv/swarm/inbox/agent-4"))),
    ))


def make_panel(make_ctx, qtbot, roster: Roster | None = None, **kw) -> RosterPanel:
    ctx = make_ctx(roster=roster or swarm(), **kw)
    panel = RosterPanel(ctx)
    qtbot.addWidget(panel)
    return panel


def status(panel: RosterPanel, agent_id: str, column: int = STATUS) -> str:
    return panel.model.index(panel.model.row_of(agent_id), column).data()


def send(panel: RosterPanel, qtbot, *recipients: str, content: str = "Status report, please.") -> None:
    with qtbot.waitSignal(panel.ctx.sig_submitted):
        panel.ctx.submit(Message(sender="Captain", recipients=list(recipients), content=content))


def test_the_panel_offers_its_commands_with_the_targets_shortcut(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    assert (panel.NAME, panel.TITLE, panel.AREA) == ("roster", "Roster", Qt.DockWidgetArea.LeftDockWidgetArea)
    actions = panel.commands()
    assert [a.text() for a in actions] == COMMANDS
    assert panel.actions_by_name["targets"].shortcut() == QKeySequence("Ctrl+Shift+T")
    assert all(a.toolTip() for a in actions)
    needs_agent = ("edit", "remove", "capture_chat", "force_open", "reset")
    assert not any(panel.actions_by_name[n].isEnabled() for n in needs_agent)
    assert panel.select_agent("Agent-2") and panel.selected_id() == "Agent-2"
    assert panel.actions_by_name["edit"].isEnabled()
    assert not panel.actions_by_name["capture_chat"].isEnabled()  # a tmux agent has no screen point
    assert "no screen point" in panel.actions_by_name["capture_chat"].toolTip()
    panel.select_agent("Agent-1")
    assert panel.actions_by_name["capture_chat"].isEnabled()
    assert not panel.select_agent("Nobody")
    assert panel.memory_note.isHidden() is False  # make_ctx has no roster file


def test_double_click_focuses_the_agent_and_a_focus_request_selects_its_row(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    panel.show()
    with qtbot.waitSignal(panel.ctx.sig_agent_focused) as focused:
        panel.table.doubleClicked.emit(panel.model.index(2, 0))
    assert focused.args == ["Agent-3"] and panel.selected_id() == "Agent-3"
    panel.ctx.sig_agent_focused.emit("Agent-4")
    assert panel.selected_id() == "Agent-4"


def test_forcing_a_breaker_open_refuses_deliveries_until_it_is_reset(make_ctx, qtbot, transports):
    panel = make_panel(make_ctx, qtbot)
    panel.select_agent("Agent-2")
    with qtbot.waitSignal(panel.ctx.delivery.sig_breaker_event):
        panel.actions_by_name["force_open"].trigger()
    assert status(panel, "Agent-2") == "forced open" and status(panel, "Agent-2", BREAKER) == "forced open"
    assert not panel.actions_by_name["force_open"].isEnabled()
    send(panel, qtbot, "Agent-2")
    qtbot.waitUntil(lambda: status(panel, "Agent-2", LAST).endswith("failed"))
    assert transports.sent_to("Agent-2") == []
    with qtbot.waitSignal(panel.ctx.delivery.sig_breaker_event):
        panel.actions_by_name["reset"].trigger()
    assert status(panel, "Agent-2", BREAKER) == "closed" and status(panel, "Agent-2") == "failed"
    assert panel.actions_by_name["force_open"].isEnabled()
    send(panel, qtbot, "Agent-2", content="Again")
    qtbot.waitUntil(lambda: status(panel, "Agent-2") == "unverified")


@pytest.mark.qt_log_ignore("does not support grabbing the keyboard")  # offscreen popups
def test_the_context_menu_holds_the_agent_commands(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    panel.show()
    qtbot.waitExposed(panel)
    rect = panel.table.visualRect(panel.model.index(1, 0))
    panel.table.customContextMenuRequested.emit(rect.center())
    assert panel.selected_id() == "Agent-2"
    texts = [a.text() for a in panel.menu.actions() if not a.isSeparator()]
    assert set(texts) == set(COMMANDS)
    panel.menu.close()


def test_table_keys_reach_the_commands(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    panel.show()
    panel.select_agent("Agent-2")
    QTest.keyClick(panel.table, Qt.Key.Key_Return)
    assert panel.editor.dialog is not None and panel.editor.dialog.original_id == "Agent-2"
    panel.editor.dialog.reject()
    QTest.keyClick(panel.table, Qt.Key.Key_Delete)
    assert panel.editor.confirm is not None and panel.editor.confirm.property("agent_id") == "Agent-2"
    panel.editor.confirm.reject()
    QTest.keyClick(panel.table, Qt.Key.Key_Down)  # other keys still move the selection
    assert panel.selected_id() == "Agent-3"


def test_the_panel_lives_in_the_main_window_and_its_commands_reach_the_palette(make_ctx, qtbot):
    ctx = make_ctx(roster=swarm())
    window = MainWindow(ctx, [RosterPanel])
    qtbot.addWidget(window)
    panel = window.panels["roster"]
    assert set(COMMANDS) <= {a.text() for a in window.all_commands()}
    window.close()
    assert not panel.live._timer.isActive()


def test_screenshot_after_real_deliveries_with_one_failing(make_ctx, qtbot, transports):
    transports.fail_times["Agent-3"] = 1000
    panel = make_panel(make_ctx, qtbot)
    panel.resize(820, 260)
    panel.show()
    qtbot.waitExposed(panel)
    send(panel, qtbot, "Agent-1", "Agent-2", "Agent-3", "Agent-4")
    send(panel, qtbot, "Agent-1", "Agent-4", content="Second round")
    qtbot.waitUntil(lambda: status(panel, "Agent-3") == "failed" and status(panel, "Agent-1") == "unverified"
                    and status(panel, "Agent-4") == "unverified" and status(panel, "Agent-2") == "unverified",
                    timeout=10_000)
    panel.select_agent("Agent-1")
    saved_shot(panel, "roster.png")
