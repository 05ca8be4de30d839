"""The Composer in the main window, and a look at it after a real send with one failure."""
from __future__ import annotations

from gui_fixtures import saved_shot

from quarterdeck.core.models import Agent, DryRunTransport
from quarterdeck.core.roster.roster import Roster
from quarterdeck.gui.composer.panel import ComposerPanel
from quarterdeck.gui.mainwindow import MainWindow


def swarm() -> Roster:
    roles = {"Agent-1": "frontend", "Agent-2": "backend", "Agent-3": "integration", "Agent-4": "docs",
             "Agent-5": "captain"}
    return Roster(tuple(Agent(id=i, role=r, transport=DryRunTransport()) for i, r in roles.items()),
                  {"web": ("Agent-1", "Agent-2")})


def test_in_the_main_window_its_commands_reach_the_palette(make_ctx, qtbot):
    window = MainWindow(make_ctx(roster=swarm()), [ComposerPanel])
    qtbot.addWidget(window)
    panel = window.panels["composer"]
    names = {a.text() for a in window.all_commands()}
    assert {"Send", "Broadcast", "Preview", "Focus composer", "Retry failed"} <= names
    window.show()
    qtbot.waitExposed(window)
    window.docks["composer"].hide()
    panel.focus_action.trigger()
    assert window.docks["composer"].isVisible()
    qtbot.waitUntil(panel.editor.hasFocus)
    window.close()
    assert not panel.check_timer.isActive()


def test_screenshot_with_violations_and_a_finished_send(make_ctx, qtbot, transports):
    transports.fail_times["Agent-3"] = 1000
    panel = ComposerPanel(make_ctx(roster=swarm()))
    qtbot.addWidget(panel)
    panel.resize(470, 860)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: panel.templates.combo.isEnabled())
    panel.recipients.set_selected(["Agent-1", "Agent-2", "Agent-3"])
    panel.editor.setPlainText("Please rebase your branch on main and rerun the integration tests.")
    panel.captain_last.setChecked(True)
    panel.sending.confirm = lambda _title, _text: True
    with qtbot.waitSignal(panel.ctx.sig_submitted):
        assert panel.send()
    rows = panel.progress.progress.rows
    qtbot.waitUntil(lambda: len(rows) == 3 and all(r.finished for r in rows), timeout=10_000)
    assert {r.agent_id: r.state for r in rows} == {"Agent-1": "delivered", "Agent-2": "delivered",
                                                   "Agent-3": "failed"}
    panel.recipients.set_selected(["Agent-4", "Agent-5"])
    panel.fields.urgent.setChecked(True)
    panel.fields.tag_buttons["wrapup"].setChecked(True)
    panel.editor.setPlainText("🚀 Release is out! TODO: wrap up, and send me the FIXME list.\n"
                              "The staging token is AKIAQWERTYUIOPASDFGH, rotate it after.")
    qtbot.waitUntil(lambda: panel.last_check is not None and panel.checks.list.count() == 3)
    assert panel.checks.score.text() == "63 · FAIL" and not panel.send_button.isEnabled()
    assert panel.progress.retry_button.isEnabled()
    saved_shot(panel, "composer.png")
