"""The Onboarding panel driven like the captain drives it, over a real outbox and dry-run agents."""
from __future__ import annotations

from gui_fixtures import saved_shot
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest

from quarterdeck.core.compose.templates import user_templates_dir
from quarterdeck.core.models import Agent, DryRunTransport, GuiTransport
from quarterdeck.core.roster.roster import Roster
from quarterdeck.gui.onboarding.model import AGENT, ONBOARDING, ROLE, WRAPUP
from quarterdeck.gui.onboarding.panel import OnboardingPanel


def crew(*specs: tuple[str, str]) -> Roster:
    return Roster(tuple(Agent(id=i, role=r, transport=DryRunTransport()) for i, r in specs))


CREW = crew(("Agent-1", "captain"), ("Agent-2", "api"), ("Agent-3", "tests"))


def make_panel(make_ctx, qtbot, team: Roster = CREW, *, tick_all: bool = True, **kw) -> OnboardingPanel:
    """The panel on ``team``; with ``tick_all`` the captain has pressed All (nobody starts ticked)."""
    ctx = make_ctx(roster=team, **kw)
    panel = OnboardingPanel(ctx)
    panel.confirm = lambda title, text: True
    qtbot.addWidget(panel)
    if tick_all:
        panel.all_button.click()
    return panel


def cell(panel: OnboardingPanel, row: int, column: int) -> str:
    return panel.model.data(panel.model.index(row, column))


def run(panel: OnboardingPanel, qtbot) -> None:
    with qtbot.waitSignal(panel.ctx.sig_submitted):
        assert panel.start()
    qtbot.waitUntil(lambda: panel.model.progress.finished, timeout=5000)


def test_identity_commands_and_rows(make_ctx, qtbot, qtmodeltester):
    panel = make_panel(make_ctx, qtbot, tick_all=False)
    assert (panel.NAME, panel.TITLE, panel.AREA, panel.TAB_WITH) == (
        "onboarding", "Onboarding", Qt.DockWidgetArea.RightDockWidgetArea, "composer")
    actions = {a.text(): a.shortcut() for a in panel.commands()}
    assert actions == {"Onboard agents…": QKeySequence("Ctrl+Shift+O"), "Preview onboarding": QKeySequence(),
                       "Start onboarding": QKeySequence()}
    assert all(a.toolTip() for a in panel.commands())
    assert panel.model.ids() == ["Agent-2", "Agent-3", "Agent-1"]  # captains last
    assert [cell(panel, r, ROLE) for r in range(3)] == ["api", "tests", "captain"]
    assert cell(panel, 0, WRAPUP) == "—"
    qtmodeltester.check(panel.model)
    # onboarding ends each chosen agent's chat: nobody is ticked until the captain says so
    assert panel.model.checked() == []
    assert {panel.model.data(panel.model.index(r, AGENT), Qt.ItemDataRole.CheckStateRole)
            for r in range(3)} == {Qt.CheckState.Unchecked}
    assert not panel.start_button.isEnabled() and not panel.preview_button.isEnabled()
    assert panel.start_button.toolTip() == "Check at least one agent."
    panel.all_button.click()
    assert panel.model.checked() == panel.model.ids()
    assert panel.start_button.isEnabled() and "3 checked agents" in panel.start_button.toolTip()


def test_checking_agents_by_box_and_buttons(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    index = panel.model.index(1, AGENT)
    with qtbot.waitSignal(panel.model.dataChanged):
        assert panel.model.setData(index, Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert panel.model.checked() == ["Agent-2", "Agent-1"]
    assert panel.model.data(index, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    panel.none_button.click()
    assert panel.model.checked() == [] and not panel.start_button.isEnabled()
    assert panel.start_button.toolTip() == "Check at least one agent."
    with qtbot.assertNotEmitted(panel.ctx.sig_submitted, wait=100):
        assert panel.start() is False
    assert panel.notice.text() == "Not started: check at least one agent."
    panel.all_button.click()
    assert panel.model.checked() == ["Agent-2", "Agent-3", "Agent-1"]
    panel.table.setCurrentIndex(panel.model.index(2, AGENT))
    QTest.keyClick(panel.table, Qt.Key.Key_Space)  # the keyboard way
    assert panel.model.checked() == ["Agent-2", "Agent-3"]
    assert not panel.model.setData(panel.model.index(0, ROLE), True, Qt.ItemDataRole.CheckStateRole)


def test_preview_shows_both_texts_and_sends_nothing(make_ctx, qtbot, transports):
    panel = make_panel(make_ctx, qtbot)
    panel.style_combo.setCurrentIndex(panel.style_combo.findData("professional"))
    assert panel.show_preview()
    qtbot.waitUntil(lambda: panel.plan is not None)
    text = panel.preview.toPlainText()
    assert "Agent-2 · api · dryrun" in text and "1 · Wrap-up, to the current chat" in text
    assert "[C2A] Captain → Agent-2\nTime to wrap up, Agent-2." in text
    assert "2 · Onboarding, in the same place (this agent has no new-chat keys)" in text
    assert "[C2A] Captain → Agent-2 | ONBOARDING\nAgent-2: you are assigned to this project as api." in text
    assert panel.notice.text().startswith("Preview of 3 agents (select a row to read its texts); nothing was sent.")
    panel.table.setCurrentIndex(panel.model.index(2, AGENT))
    assert "Agent-1: you are assigned to this project as captain." in panel.preview.toPlainText()
    assert panel.ctx.store.pending_count() == 0 and transports.sent_to("Agent-2") == []
    panel.urgent.setChecked(True)  # a changed option: the preview is stale and goes
    assert panel.plan is None and panel.preview.toPlainText() == ""


def test_start_delivers_wrapup_then_onboarding_per_agent_captain_last(make_ctx, qtbot, transports):
    panel = make_panel(make_ctx, qtbot)
    order: list[tuple[str, str]] = []
    panel.ctx.delivery.sig_delivery_event.connect(
        lambda e: order.append((e.agent_id, panel.model.progress.where(e.message_id)[1]))
        if e.state == "delivered" else None)
    run(panel, qtbot)
    assert order == [("Agent-2", "wrap-up"), ("Agent-2", "onboarding"), ("Agent-3", "wrap-up"),
                     ("Agent-3", "onboarding"), ("Agent-1", "wrap-up"), ("Agent-1", "onboarding")]
    for step in panel.plan.steps:
        assert transports.sent_to(step.agent_id) == list(step.texts())
    [request] = transports.by_agent["Agent-3"].sent[1:]
    assert request.onboarding and request.priority == "normal"
    assert cell(panel, 0, WRAPUP).startswith("unverified") and cell(panel, 2, ONBOARDING).startswith("unverified")
    assert panel.model.data(panel.model.index(0, WRAPUP), Qt.ItemDataRole.ForegroundRole).name() == "#2e7d32"
    assert panel.summary.text() == "3 of 3 agents onboarded"
    assert panel.notice.text() == "Queued 6 messages for 3 agents."


def test_only_checked_agents_urgent(make_ctx, qtbot, transports):
    panel = make_panel(make_ctx, qtbot)
    panel.model.set_checked(["Agent-3"])
    panel.urgent.setChecked(True)
    run(panel, qtbot)
    assert [r.priority for r in transports.by_agent["Agent-3"].sent] == ["urgent", "urgent"]
    assert transports.sent_to("Agent-2") == [] and cell(panel, 0, WRAPUP) == "—"
    assert panel.ctx.settings.get("onboarding/urgent", False, bool) is True


def test_a_cancelled_confirmation_queues_nothing(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    panel.confirm = lambda title, text: title != "Onboard 3 agents?"
    with qtbot.assertNotEmitted(panel.ctx.sig_submitted, wait=200):
        assert panel.start() is False
    assert panel.notice.text() == "Not started: cancelled."


def test_unknown_placeholder_is_reported_with_its_place_and_nothing_is_sent(make_ctx, qtbot, transports):
    folder = user_templates_dir()
    folder.mkdir(parents=True)
    (folder / "onboarding-friendly.md").write_text("Hi {agent_id}\nyou are {roel}\n", encoding="utf-8")
    panel = make_panel(make_ctx, qtbot)
    with qtbot.assertNotEmitted(panel.ctx.sig_submitted, wait=300):
        assert panel.start()
        qtbot.waitUntil(lambda: not panel.busy)
    assert f"{folder / 'onboarding-friendly.md'}:2:9: unknown placeholder {{roel}}" in panel.notice.text()
    assert panel.notice.text().startswith("Nothing was sent.") and "#c62828" in panel.notice.styleSheet()
    assert panel.ctx.store.pending_count() == 0 and transports.sent_to("Agent-2") == []
    assert cell(panel, 0, WRAPUP) == "—"


def test_a_failed_wrapup_cancels_that_onboarding(make_ctx, qtbot, transports):
    transports.fail_times["Agent-2"] = 50
    panel = make_panel(make_ctx, qtbot)
    heard = []
    panel.ctx.delivery.sig_delivery_event.connect(lambda e: heard.append(e.state) if e.agent_id == "Agent-2" else None)
    run(panel, qtbot)
    assert panel.model.state("Agent-2", "wrap-up") == "failed"
    assert cell(panel, 0, ONBOARDING).startswith("cancelled (not sent, its wrap-up failed")
    assert heard[-1] == "cancelled"  # every panel hears of it
    assert transports.sent_to("Agent-2") == [] and len(transports.sent_to("Agent-3")) == 2
    assert panel.summary.text() == "2 of 3 agents onboarded, 1 not"


def test_stop_all_cancels_what_is_still_queued(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot, start=False)  # no delivery thread: everything stays queued
    with qtbot.waitSignal(panel.ctx.sig_submitted):
        panel.start()
    qtbot.waitUntil(lambda: panel.model.state("Agent-1", "onboarding") == "queued")
    assert panel.summary.text() == "0 of 3 agents onboarded (in progress)"
    assert panel.start() is False  # one run at a time
    assert panel.notice.text() == "Not started: the last onboarding is still being delivered (Stop all ends it)."
    with qtbot.waitSignal(panel.ctx.delivery.sig_stopped):
        panel.ctx.delivery.stop_all()
    assert {panel.model.state(a, s) for a in panel.model.ids() for s in ("wrap-up", "onboarding")} == {"cancelled"}
    assert panel.summary.text() == "0 of 3 agents onboarded, 3 not"


def test_an_unexpected_queuing_error_is_reported(make_ctx, qtbot, monkeypatch):
    import quarterdeck.gui.onboarding.panel as module

    def broken(session, plan, gate):
        raise OSError("disk full")

    monkeypatch.setattr(module, "queue_plan", broken)
    panel = make_panel(make_ctx, qtbot)
    panel.start()
    qtbot.waitUntil(lambda: not panel.busy)
    assert panel.notice.text().startswith("Queuing stopped: OSError: disk full.")
    assert panel.start_button.isEnabled() and not panel.model.progress.active
    assert panel.start() is True  # nothing of the broken run is in flight: the captain may try again
    qtbot.waitUntil(lambda: not panel.busy)


def test_roster_changes_and_remembered_style(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    panel.style_combo.setCurrentIndex(panel.style_combo.findData("professional"))
    panel.model.set_checked(["Agent-2"])
    with qtbot.waitSignal(panel.ctx.sig_roster_changed):
        panel.ctx.set_roster(crew(("Agent-2", "api"), ("Agent-5", "docs")))
    assert panel.model.ids() == ["Agent-2", "Agent-5"]
    assert panel.model.checked() == ["Agent-2"]  # a new agent starts unchecked, like every other
    again = OnboardingPanel(panel.ctx)
    qtbot.addWidget(again)
    assert again.style_combo.currentData() == "professional"
    assert panel.ctx.session.dispatcher._listeners.count(panel.gate) == 1


def test_preview_names_gui_new_chat_keys(make_ctx, qtbot):
    team = Roster((Agent(id="Agent-7", role="ui", transport=GuiTransport(chat=(10, 10), new_chat_keys=("ctrl", "n"))),))
    panel = make_panel(make_ctx, qtbot, team=team, start=False)
    panel.show_preview()
    qtbot.waitUntil(lambda: panel.plan is not None)
    assert "2 · Onboarding, after ctrl+n opens a new chat" in panel.preview.toPlainText()


def test_screenshot(make_ctx, qtbot, transports):
    transports.fail_times["Agent-4"] = 50
    team = crew(("Agent-1", "captain"), ("Agent-2", "api"), ("Agent-3", "tests"), ("Agent-4", "docs"),
                ("Agent-5", "infra"))
    panel = make_panel(make_ctx, qtbot, team=team)
    panel.model.set_checked(["Agent-1", "Agent-2", "Agent-3", "Agent-4"])
    panel.resize(620, 760)
    panel.show()
    run(panel, qtbot)
    panel.table.setCurrentIndex(panel.model.index(1, AGENT))
    saved_shot(panel, "onboarding.png")
