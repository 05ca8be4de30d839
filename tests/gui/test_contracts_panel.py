"""The Contracts panel end to end: real SQLite beside a real outbox, dialogs driven through their
widgets, another "process" changing contracts underneath, and Send to agent through the rules,
the dispatcher and the history."""
from __future__ import annotations

import pytest
from msgspec.structs import replace
from PySide6.QtCore import QItemSelectionModel, Qt

from quarterdeck.core.contracts import AgentStatus, ContractStore
from quarterdeck.core.models import Agent, DryRunTransport
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.store import search
from quarterdeck.gui.contracts.dialogs import ANYONE, AgentDialog, NewContractDialog, NoteDialog
from quarterdeck.gui.contracts.model import ContractsModel, StatusModel, when
from quarterdeck.gui.contracts.panel import POLL_MS, ContractsPanel


@pytest.fixture
def other(make_ctx, tmp_path):
    """A second store on the same file: what an agent's `quarterdeck contracts` process does."""
    with ContractStore(tmp_path / "data" / "quarterdeck.sqlite3") as store:
        yield store


def _panel(ctx, qtbot) -> ContractsPanel:
    panel = ContractsPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1300, 420)
    panel.show()  # the first query runs when it is first shown
    qtbot.waitUntil(lambda: panel.board is not None)
    return panel


def _rows(panel) -> list[tuple[int, str, str | None]]:
    return [(c.id, str(c.state), c.assignee) for c in panel.model.records()]


def _select(panel, contract_id: int) -> None:
    row = panel.model.row_of(contract_id)
    panel.view.selectionModel().setCurrentIndex(
        panel.model.index(row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)


def _confirm(panel, qtbot, dialog) -> None:
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: panel.changes.dialog is None)


def test_models_pass_the_model_tester_and_merge_without_resets(qtmodeltester, tmp_path):
    with ContractStore(tmp_path / "q.sqlite3") as store:
        a = store.create("Write the parser", description="See issue 9", points=3, assignee="Agent-1")
        b = store.create("Review", points=1)
        model, status = ContractsModel(), StatusModel()
        model.set_rows(store.list())
        status.set_rows(store.status())
        qtmodeltester.check(model)
        qtmodeltester.check(status)
        events: list[tuple] = []
        model.modelReset.connect(lambda: events.append(("reset",)))
        model.rowsInserted.connect(lambda _p, first, last: events.append(("insert", first, last)))
        model.rowsRemoved.connect(lambda _p, first, last: events.append(("remove", first, last)))
        model.dataChanged.connect(lambda tl, br, _r: events.append(("changed", tl.row(), tl.column(), br.column())))
        assert model.set_rows(store.list()) == 0 and events == []
        store.claim(a.id, "Agent-1")
        c = store.create("Deploy", points=5)
        model.set_rows([store.get(a.id), store.get(c.id)])
        state = ContractsModel.STATE
        assert events == [("remove", 1, 1), ("changed", 0, state, state), ("insert", 1, 1)]
        qtmodeltester.check(model)
        assert model.index(0, ContractsModel.TITLE).data(Qt.ItemDataRole.ToolTipRole) == (
            "Contract #1: Write the parser (3 points)\nSee issue 9")
        assert model.index(0, ContractsModel.STATE).data() == "Claimed"
        assert model.index(1, ContractsModel.AGENT).data() == "anyone"
        assert model.headerData(0, Qt.Orientation.Horizontal) == "#"
        assert model.data(model.index(9, 0)) is None and b.id not in [r.id for r in model.records()]
        status.set_rows(store.status())
        assert [status.index(r, 0).data() for r in range(status.rowCount())] == ["Agent-1", "unassigned"]
        assert status.record(0) == AgentStatus("Agent-1", claimed=1, points_pending=3)


def test_when_shows_today_as_a_time_and_earlier_days_with_the_date():
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    assert when(None) == "–"
    assert when(now) == f"{now.astimezone():%H:%M}"
    assert when(now - timedelta(days=3)) == f"{(now - timedelta(days=3)).astimezone():%d %b %H:%M}"


def test_is_a_bottom_panel_whose_actions_follow_the_selection(make_ctx, qtbot, other):
    other.create("open one", assignee="Agent-1")
    claimed = other.claim(other.create("claimed one").id, "Agent-2")
    panel = _panel(make_ctx(start=False), qtbot)
    assert (panel.NAME, panel.TITLE, panel.AREA) == ("contracts", "Contracts", Qt.DockWidgetArea.BottomDockWidgetArea)
    names = [a.objectName() for a in panel.commands()]
    assert names == [f"action-contracts-{n}" for n in ("create", "assign", "claim", "complete", "cancel", "send",
                                                       "refresh")]
    assert panel.actions_by_name["create"].shortcut().toString() == "Ctrl+Shift+N"
    enabled = lambda: {n for n, b in panel.buttons.items() if b.isEnabled()}  # noqa: E731
    assert enabled() == {"create"}
    _select(panel, 1)
    assert enabled() == {"create", "assign", "claim", "cancel", "send"}
    _select(panel, claimed.id)
    assert enabled() == {"create", "complete", "cancel", "send"}
    assert panel.count_label.text() == "2 contracts shown · 2 active · 0 of 2 points done"
    assert panel._poll.interval() == POLL_MS == 2000 and panel._poll.isActive()
    panel.hide()
    assert not panel._poll.isActive()


def test_create_assign_claim_complete_through_the_dialogs(make_ctx, qtbot, other):
    panel = _panel(make_ctx(start=False), qtbot)
    panel.buttons["create"].click()
    dialog = panel.changes.dialog
    assert isinstance(dialog, NewContractDialog) and not dialog.ok_button.isEnabled()
    dialog.title_edit.setText("  Fix the   login redirect ")
    dialog.description_edit.setPlainText("Keep ?next= through OAuth.")
    dialog.points_spin.setValue(3)
    assert dialog.assignee_combo.itemText(0) == ANYONE
    _confirm(panel, qtbot, dialog)
    qtbot.waitUntil(lambda: _rows(panel) == [(1, "open", None)])
    assert other.get(1).title == "Fix the login redirect" and other.get(1).points == 3
    assert panel.outcome_label.text() == "Contract #1 created: Fix the login redirect"
    qtbot.waitUntil(lambda: panel.selected() is not None and panel.selected().id == 1)

    panel.buttons["assign"].click()
    dialog = panel.changes.dialog
    assert isinstance(dialog, AgentDialog) and dialog.agent_combo.count() == 3
    dialog.agent_combo.setCurrentIndex(dialog.agent_combo.findData("Agent-2"))
    _confirm(panel, qtbot, dialog)
    qtbot.waitUntil(lambda: _rows(panel) == [(1, "open", "Agent-2")])

    panel.buttons["claim"].click()
    dialog = panel.changes.dialog
    assert [dialog.agent_combo.itemData(i) for i in range(dialog.agent_combo.count())] == ["Agent-2"]
    _confirm(panel, qtbot, dialog)
    qtbot.waitUntil(lambda: _rows(panel) == [(1, "claimed", "Agent-2")])

    panel.buttons["complete"].click()
    dialog = panel.changes.dialog
    assert isinstance(dialog, NoteDialog) and dialog.ok_button.text() == "Mark done"
    dialog.note_edit.setPlainText("Merged in #12")
    _confirm(panel, qtbot, dialog)
    qtbot.waitUntil(lambda: _rows(panel) == [(1, "done", "Agent-2")])
    assert other.get(1).note == "Merged in #12"
    assert panel.status_model.record(0) == AgentStatus("Agent-2", done=1, points_done=3)
    assert panel.count_label.text() == "1 contract shown · 0 active · 3 of 3 points done"
    assert {n for n, b in panel.buttons.items() if b.isEnabled()} == {"create"}


def test_a_blank_title_is_explained_and_a_cancel_keeps_its_reason(make_ctx, qtbot, other):
    panel = _panel(make_ctx(start=False), qtbot)
    panel.new_contract()
    dialog = panel.changes.dialog
    dialog.title_edit.setText("ok")
    dialog.description_edit.setPlainText("x" * 6001)
    dialog.ok_button.click()
    assert dialog.error_label.isVisibleTo(dialog) and "the limit is 6000" in dialog.error_label.text()
    assert dialog.ok_button.isEnabled() and panel.changes.dialog is dialog
    dialog.description_edit.setPlainText("")
    _confirm(panel, qtbot, dialog)
    qtbot.waitUntil(lambda: len(_rows(panel)) == 1)
    _select(panel, 1)
    panel.open_action("cancel")
    dialog = panel.changes.dialog
    dialog.note_edit.setPlainText("duplicate")
    _confirm(panel, qtbot, dialog)
    qtbot.waitUntil(lambda: _rows(panel) == [(1, "cancelled", None)])
    assert other.get(1).note == "duplicate"
    panel.open_action("complete")
    assert panel.changes.dialog is None and panel.outcome_label.text() == (
        "Contract #1 is cancelled: it cannot be done now.")


def test_a_claim_lost_to_another_process_is_shown_in_the_dialog(make_ctx, qtbot, other):
    other.create("race")
    panel = _panel(make_ctx(start=False), qtbot)
    _select(panel, 1)
    panel.buttons["claim"].click()
    dialog = panel.changes.dialog
    dialog.agent_combo.setCurrentIndex(dialog.agent_combo.findData("Agent-1"))
    other.claim(1, "Agent-2")  # the agent's own process wins while the captain hesitates
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.error_label.isVisibleTo(dialog))
    assert dialog.error_label.text() == "Contract #1 is already claimed by Agent-2"
    assert dialog.ok_button.isEnabled() and dialog.ok_button.text() == "Claim"
    qtbot.waitUntil(lambda: _rows(panel) == [(1, "claimed", "Agent-2")])
    dialog.reject()
    qtbot.waitUntil(lambda: panel.changes.dialog is None)


def test_changes_from_other_processes_appear_on_the_poll(make_ctx, qtbot, other):
    panel = _panel(make_ctx(start=False), qtbot)
    panel._poll.setInterval(50)
    assert _rows(panel) == [] and panel._poll.isActive()
    other.create("from the command line", assignee="Agent-9")
    qtbot.waitUntil(lambda: _rows(panel) == [(1, "open", "Agent-9")])
    assert panel.filter_bar.agent_combo.findData("Agent-9") > 0  # agents with contracts can be filtered too
    other.claim(1, "Agent-9")
    qtbot.waitUntil(lambda: _rows(panel) == [(1, "claimed", "Agent-9")])


def test_filters_by_state_and_agent_and_remembers_them(make_ctx, qtbot, other):
    other.create("a", assignee="Agent-1")
    other.claim(other.create("b").id, "Agent-2")
    other.complete(2)
    other.create("c", assignee="Agent-2")
    ctx = make_ctx(start=False)
    panel = _panel(ctx, qtbot)
    bar = panel.filter_bar
    bar.state_combo.setCurrentIndex(bar.state_combo.findData("active"))
    qtbot.waitUntil(lambda: [r[0] for r in _rows(panel)] == [1, 3])
    bar.agent_combo.setCurrentIndex(bar.agent_combo.findData("Agent-2"))
    qtbot.waitUntil(lambda: [r[0] for r in _rows(panel)] == [3])
    bar.state_combo.setCurrentIndex(bar.state_combo.findData("done"))
    qtbot.waitUntil(lambda: [r[0] for r in _rows(panel)] == [2])
    assert panel.count_label.text() == "1 contract shown · 2 active · 1 of 3 points done"
    again = _panel(ctx, qtbot)
    assert again.filter_bar.filters() == bar.filters()
    qtbot.waitUntil(lambda: [r[0] for r in _rows(again)] == [2])


def test_send_to_agent_goes_through_the_outbox_into_the_history(make_ctx, qtbot, other, transports):
    ctx = make_ctx()
    other.create("Fix the login redirect", description="Keep ?next= through OAuth.", points=3,
                 assignee="Agent-1")
    panel = _panel(ctx, qtbot)
    _select(panel, 1)
    with qtbot.waitSignal(ctx.sig_submitted):
        panel.buttons["send"].click()
    qtbot.waitUntil(lambda: len(transports.sent_to("Agent-1")) == 1)
    (text,) = transports.sent_to("Agent-1")
    assert "Contract #1: Fix the login redirect (3 points)\nKeep ?next= through OAuth." in text
    assert "quarterdeck contracts claim 1 Agent-1" in text
    assert transports.sent_to("Agent-2") == []
    qtbot.waitUntil(lambda: other.get(1).sent_at is not None)
    (row,) = search(ctx.store, agent="Agent-1")
    assert str(row.state) == "delivered" and "Contract #1: Fix the login redirect" in row.content
    assert other.get(1).sent_message_id == row.message_id
    qtbot.waitUntil(lambda: panel.model.index(0, ContractsModel.SENT).data() != "–")
    assert panel.outcome_label.text() == "Delivered contract #1 to Agent-1"


def test_a_failed_send_is_reported_and_not_recorded(make_ctx, qtbot, other, transports):
    transports.fail_times["Agent-1"] = 99
    ctx = make_ctx()
    other.create("t", assignee="Agent-1")
    panel = _panel(ctx, qtbot)
    _select(panel, 1)
    panel.send_selected()
    qtbot.waitUntil(lambda: panel.outcome_label.text().startswith("Could not deliver contract #1 to Agent-1 "
                                                                  "(failed"), timeout=10000)
    assert panel.sending.pending == 0 and other.get(1).sent_at is None


def test_what_cannot_be_sent_says_why(make_ctx, qtbot, other):
    disabled = Agent(id="Agent-3", transport=DryRunTransport(), enabled=False)
    roster = Roster((Agent(id="Agent-1", transport=DryRunTransport()), disabled))
    ctx = make_ctx(roster)
    other.create("nobody's")
    other.create("gone", assignee="Agent-7")
    other.create("disabled", assignee="Agent-3")
    panel = _panel(ctx, qtbot)
    panel.send_selected()
    assert panel.outcome_label.text() == "Select an open or claimed contract that is assigned to an agent."
    _select(panel, 1)
    panel.send_selected()
    assert panel.outcome_label.text() == "Select an open or claimed contract that is assigned to an agent."
    _select(panel, 2)
    panel.send_selected()
    assert panel.outcome_label.text() == "Agent-7 is not on the roster: add the agent or reassign the contract."
    _select(panel, 3)
    panel.send_selected()
    qtbot.waitUntil(lambda: "was not sent: 'Agent-3' is disabled" in panel.outcome_label.text())
    assert panel.sending.pending == 0


def test_roster_changes_reach_the_agent_filter_and_shutdown_closes_the_store(make_ctx, qtbot, other):
    ctx = make_ctx(start=False)
    panel = _panel(ctx, qtbot)
    assert panel.count_label.text() == "No contracts yet"
    ctx.set_roster(replace(ctx.roster, agents=(*ctx.roster.agents, Agent(id="Agent-5", transport=DryRunTransport()))))
    qtbot.waitUntil(lambda: panel.filter_bar.agent_combo.findData("Agent-5") > 0)
    panel.new_contract()
    dialog = panel.changes.dialog
    assert dialog.assignee_combo.findData("Agent-5") > 0
    panel.shutdown()
    assert panel.changes.dialog is None and not panel._poll.isActive()
    qtbot.waitUntil(lambda: ctx.jobs.pending == 0)
    with pytest.raises(Exception, match="closed"):
        panel.store.list()


def test_a_store_that_cannot_be_read_is_reported(make_ctx, qtbot, tmp_path):
    ctx = make_ctx(start=False)
    panel = _panel(ctx, qtbot)
    ctx.jobs.run(panel.store.close)  # on the runner's thread, after the reads already queued
    panel.refresh()
    qtbot.waitUntil(lambda: panel.count_label.text() == "Contracts unavailable")
    assert panel.outcome_label.text() == "Could not read the contracts: the contract store is closed"
