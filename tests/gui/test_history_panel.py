"""The History panel driven end to end: real submissions, real deliveries, real SQLite."""
from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow
from test_history_model import fill_history

from quarterdeck.core.models import Agent, DryRunTransport, Message
from quarterdeck.core.roster.roster import Roster
from quarterdeck.gui.history import filters as filters_module
from quarterdeck.gui.history.panel import HistoryPanel


def _panel(ctx, qtbot) -> HistoryPanel:
    panel = HistoryPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1300, 460)
    qtbot.waitUntil(lambda: not panel.model.busy and panel.model.total is not None)
    return panel


def _send(ctx, qtbot, *agents: str, content: str = "Status report, please.") -> Message:
    message = Message(sender="Captain", recipients=list(agents), content=content)
    with qtbot.waitSignal(ctx.sig_submitted):
        ctx.submit(message)
    return message


def _states(panel: HistoryPanel) -> list[tuple[str, str]]:
    model = panel.model
    return [(model.line(r).agent_id, model.line(r).state) for r in range(model.rowCount())]


def _select(panel: HistoryPanel, row: int) -> None:
    panel.view.selectionModel().setCurrentIndex(
        panel.model.index(row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)


def test_is_a_bottom_panel_with_three_commands(make_ctx, qtbot):
    panel = _panel(make_ctx(start=False), qtbot)
    assert (panel.NAME, panel.TITLE, panel.AREA) == ("history", "History", Qt.DockWidgetArea.BottomDockWidgetArea)
    focus, resend, refresh = panel.commands()
    assert focus.shortcut().toString() == "Ctrl+H"
    assert not resend.isEnabled() and refresh.isEnabled()
    assert panel.count_label.text() == "No deliveries match"


def test_new_deliveries_appear_and_change_state_without_a_reset(make_ctx, qtbot):
    ctx = make_ctx()
    panel = _panel(ctx, qtbot)
    resets = []
    panel.model.modelReset.connect(lambda: resets.append(1))
    _send(ctx, qtbot, "Agent-1", "Agent-2")
    qtbot.waitUntil(lambda: sorted(_states(panel)) == [("Agent-1", "delivered"), ("Agent-2", "delivered")],
                    timeout=5000)
    assert resets == []
    qtbot.waitUntil(lambda: panel.count_label.text() == "2 deliveries")


def test_failed_delivery_detail_lists_every_attempt_and_resend_delivers_it(make_ctx, transports, qtbot):
    transports.fail_times["Agent-2"] = 4  # the first delivery uses up all 4 attempts; a resend gets through
    ctx = make_ctx()
    panel = _panel(ctx, qtbot)
    message = _send(ctx, qtbot, "Agent-1", "Agent-2", content="Deploy v2 now.")
    qtbot.waitUntil(lambda: sorted(_states(panel)) == [("Agent-1", "delivered"), ("Agent-2", "failed")])
    row = _states(panel).index(("Agent-2", "failed"))
    assert panel.model.index(row, 7).data()  # the reason is shown
    with qtbot.waitSignal(panel.detail.sig_shown) as shown:
        _select(panel, row)
    assert shown.args[0].message.id == message.id
    detail = panel.detail
    assert detail.content.toPlainText() == "Deploy v2 now."
    assert detail.fields["To"].text() == "Agent-1, Agent-2"
    assert detail.fields["From"].text() == "Captain (captain)"
    failed = next(detail.tree.topLevelItem(n) for n in range(detail.tree.topLevelItemCount())
                  if detail.tree.topLevelItem(n).text(1) == "failed")
    assert failed.text(0) == "Agent-2" and failed.text(3) == "4" and failed.text(2).startswith("injected failure")
    attempts = [failed.child(n) for n in range(failed.childCount())]
    assert [a.text(0) for a in attempts] == ["attempt 1", "attempt 2", "attempt 3", "attempt 4"]
    assert {a.text(1) for a in attempts} == {"error"} and all(a.text(2) for a in attempts)
    assert detail.resend_button.isEnabled() and panel.resend_action.isEnabled()

    detail.resend_button.click()
    qtbot.waitUntil(lambda: detail.outcome.text() == "1 requeued (Agent-2).")
    qtbot.waitUntil(lambda: ("Agent-2", "delivered") in _states(panel))
    assert transports.sent_to("Agent-2") and transports.sent_to("Agent-2")[-1].endswith("Deploy v2 now.")
    qtbot.waitUntil(lambda: any(detail.tree.topLevelItem(n).text(0).startswith("Agent-2  (retry of #")
                                and detail.tree.topLevelItem(n).text(1) == "unverified"
                                for n in range(detail.tree.topLevelItemCount())))
    assert not detail.resend_button.isEnabled()
    panel.resend_action.trigger()  # again, from the command: nothing is sent twice
    qtbot.waitUntil(lambda: detail.outcome.text() == "Nothing requeued; 1 was already resent once.")


def test_filters_narrow_the_table_and_search_waits_for_typing_to_pause(make_ctx, qtbot):
    ctx = make_ctx(start=False)
    total = fill_history(ctx.store, 300)
    panel = _panel(ctx, qtbot)
    assert panel.model.total == total and panel.count_label.text() == f"{total} deliveries · 250 loaded"
    bar = panel.filter_bar
    assert [bar.agent.itemText(n) for n in range(bar.agent.count())] == ["Any agent", "Agent-1", "Agent-2"]
    with qtbot.waitSignal(panel.model.sig_count_changed):
        bar.agent.setCurrentIndex(bar.agent.findData("Agent-2"))
    assert {agent for agent, _ in _states(panel)} == {"Agent-2"}
    with qtbot.waitSignal(panel.model.sig_count_changed):
        bar.state.setCurrentIndex(bar.state.findData("failed"))
    assert set(_states(panel)) == {("Agent-2", "failed")}
    with qtbot.waitSignal(panel.model.sig_count_changed):
        bar.agent.setCurrentIndex(0)
        bar.state.setCurrentIndex(0)
    bar.search.setText("zephyr")
    assert panel.model.filters.text is None  # not yet: the debounce is running
    with qtbot.waitSignal(panel.model.sig_count_changed, timeout=2000):
        pass
    assert panel.model.filters.text == "zephyr" and panel.model.total == 8
    assert all("zephyr" in panel.model.line(r).excerpt for r in range(panel.model.rowCount()))
    with qtbot.waitSignal(panel.model.sig_count_changed):
        bar.span.setCurrentIndex(bar.span.findData("hour"))  # the filled history is from 2025
    assert panel.model.total == 0 and panel.count_label.text() == "No deliveries match"


def test_search_text_applies_at_once_on_enter_and_debounce_is_300_ms(make_ctx, qtbot):
    assert filters_module.SEARCH_DEBOUNCE_MS == 300
    panel = _panel(make_ctx(start=False), qtbot)
    panel.filter_bar.search.setText("deploy")
    with qtbot.waitSignal(panel.filter_bar.sig_filters_changed, timeout=100) as applied:
        panel.filter_bar.search.returnPressed.emit()
    assert applied.args[0].text == "deploy"


def test_roster_changes_update_the_agent_choice_and_keep_a_chosen_agent(make_ctx, qtbot):
    ctx = make_ctx(start=False)
    panel = _panel(ctx, qtbot)
    bar = panel.filter_bar
    with qtbot.waitSignal(panel.model.sig_count_changed):
        bar.agent.setCurrentIndex(bar.agent.findData("Agent-1"))
    roster = Roster(tuple(Agent(id=i, transport=DryRunTransport()) for i in ("Agent-2", "Agent-9")))
    with qtbot.waitSignal(ctx.sig_roster_changed):
        ctx.set_roster(roster)
    assert [bar.agent.itemData(n) for n in range(bar.agent.count())] == [None, "Agent-2", "Agent-9", "Agent-1"]
    assert bar.agent.currentData() == "Agent-1" and panel.model.filters.agent == "Agent-1"


def test_focus_command_raises_the_dock_and_focuses_the_search_box(make_ctx, qtbot):
    ctx = make_ctx(start=False)
    window = QMainWindow()
    qtbot.addWidget(window)
    panel = HistoryPanel(ctx)
    dock = QDockWidget("History", window)
    dock.setWidget(panel)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    window.show()
    qtbot.waitExposed(window)
    panel.filter_bar.search.setText("abc")
    panel.focus_action.trigger()
    qtbot.waitUntil(lambda: panel.filter_bar.search.hasFocus())
    assert panel.filter_bar.search.selectedText() == "abc"


def test_layout_is_remembered(make_ctx, qtbot):
    ctx = make_ctx(start=False)
    panel = _panel(ctx, qtbot)
    panel.view.setColumnWidth(1, 222)
    panel.shutdown()
    again = _panel(ctx, qtbot)
    assert again.view.columnWidth(1) == 222


def test_resend_without_a_selection_or_for_a_vanished_message_says_why(make_ctx, qtbot):
    ctx = make_ctx(start=False)
    panel = _panel(ctx, qtbot)
    panel.resend_selected()
    assert panel.detail.outcome.text() == "Select a delivery first."
    statuses: list[str] = []
    ctx.sig_status.connect(statuses.append)
    panel.resend(["no-such-message"])
    qtbot.waitUntil(lambda: panel.detail.outcome.text().startswith("Resend failed: UnknownMessage"))
    assert statuses and statuses[-1].startswith("History: Resend failed")


def test_detail_of_a_missing_message_and_a_redacted_one(make_ctx, qtbot):
    ctx = make_ctx(start=False)
    message = Message(sender="Captain", recipients=["Agent-1"], content="token ghp_x")
    ctx.store.enqueue(message, [("Agent-1", "dryrun")], content_to_store="token [REDACTED:github]", redacted=True)
    panel = _panel(ctx, qtbot)
    assert "Stored redacted" in panel.model.index(0, 5).data(Qt.ItemDataRole.ToolTipRole)
    with qtbot.waitSignal(panel.detail.sig_shown):
        _select(panel, 0)
    assert "stored redacted" in panel.detail.heading.text()
    assert panel.detail.content.toPlainText() == "token [REDACTED:github]"
    assert not panel.detail.resend_button.isEnabled()
    panel.detail.show_message("no-such-message")
    qtbot.waitUntil(lambda: "Could not read the message" in panel.detail.heading.text())
    assert panel.detail.tree.topLevelItemCount() == 0 and panel.detail.content.toPlainText() == ""


def test_panel_keys_refresh_and_resend_and_a_failing_history_is_reported(make_ctx, qtbot, tmp_path):
    from PySide6.QtGui import QShortcut

    from quarterdeck.core.store import Store

    ctx = make_ctx(start=False)
    panel = _panel(ctx, qtbot)
    keys = {s.key().toString(): s for s in panel.findChildren(QShortcut)}
    with qtbot.waitSignal(panel.model.modelReset):
        keys["F5"].activated.emit()
    keys["Ctrl+R"].activated.emit()
    assert panel.detail.outcome.text() == "Select a delivery first."
    closed = Store(tmp_path / "gone.sqlite3")
    closed.close()
    panel.model._store = closed  # the file became unreadable under the panel
    with qtbot.waitSignal(panel.model.sig_load_failed):
        panel.refresh_action.trigger()
    assert panel.count_label.text() == "History unavailable"
    assert "closed" in panel.count_label.toolTip()


def test_the_window_offers_the_history_commands_in_its_palette(make_ctx, qtbot):
    from quarterdeck.gui.mainwindow import MainWindow

    ctx = make_ctx(start=False)
    window = MainWindow(ctx, [HistoryPanel])
    qtbot.addWidget(window)
    panel = window.panels["history"]
    assert window.docks["history"].isAncestorOf(panel)
    texts = [action.text() for action in window.all_commands()]
    assert {"Focus history search", "Refresh history"} <= set(texts)
    qtbot.waitUntil(lambda: panel.model.total is not None)
    window.close()


def test_a_search_matching_more_than_a_thousand_says_so_without_counting_them_all(make_ctx, qtbot):
    ctx = make_ctx(start=False)
    fill_history(ctx.store, 1300)  # 1,517 deliveries; "routine" in 1,274 messages
    panel = _panel(ctx, qtbot)
    assert panel.model.total == 1517 and panel.count_label.text() == "1,517 deliveries · 250 loaded"
    with qtbot.waitSignal(panel.model.sig_count_changed, timeout=2000):
        panel.filter_bar.search.setText("routine")
    assert panel.model.total == 1001
    assert panel.count_label.text() == "more than 1,000 deliveries · 250 loaded"
    with qtbot.waitSignal(panel.model.sig_count_changed, timeout=2000):
        panel.filter_bar.search.setText("zephyr")  # 26 messages, 35 deliveries: counted exactly
    assert panel.count_label.text() == "35 deliveries"
