"""The Composer panel driven like the captain drives it, over a real outbox and dry-run agents."""
from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QTextCursor
from PySide6.QtTest import QTest

from quarterdeck.core.compose.templates import user_templates_dir
from quarterdeck.core.delivery.prefix import format_for_delivery
from quarterdeck.core.models import Agent, DryRunTransport, Message
from quarterdeck.core.roster.roster import Roster
from quarterdeck.gui.composer.panel import DEBOUNCE_MS, ComposerPanel

COMMANDS = {"Send": "Ctrl+Return", "Broadcast": "Ctrl+Shift+Return", "Preview": "Ctrl+P",
            "Focus composer": "Ctrl+L", "Retry failed": ""}
SECRET = "Use key AKIAQWERTYUIOPASDFGH for the upload."


def roster(*ids: str, roles: dict[str, str] | None = None, groups: dict | None = None,
           disabled: tuple[str, ...] = ()) -> Roster:
    roles = roles or {}
    return Roster(tuple(Agent(id=i, role=roles.get(i, ""), enabled=i not in disabled, transport=DryRunTransport())
                        for i in ids), groups or {})


def make_panel(make_ctx, qtbot, team: Roster | None = None, **kw) -> ComposerPanel:
    ctx = make_ctx(roster=team or roster("Agent-1", "Agent-2", roles={"Agent-1": "frontend"}), **kw)
    panel = ComposerPanel(ctx)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.templates.combo.isEnabled())  # the template list came back
    return panel


def write(panel: ComposerPanel, text: str, *recipients: str) -> None:
    if recipients:
        panel.recipients.set_selected(recipients)
    panel.editor.setPlainText(text)
    panel.run_check()


def states(panel: ComposerPanel) -> dict[str, str]:
    return {r.agent_id: r.state for r in panel.progress.progress.rows}


def test_identity_and_commands(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    assert (panel.NAME, panel.TITLE, panel.AREA) == ("composer", "Composer", Qt.DockWidgetArea.RightDockWidgetArea)
    actions = panel.commands()
    assert {a.text(): a.shortcut().toString() for a in actions} == {
        k: QKeySequence(v).toString() for k, v in COMMANDS.items()}
    assert all(a.toolTip() for a in actions)
    assert panel.recipients.ids() == ["Agent-1", "Agent-2"]
    assert panel.recipients.list.item(0).text() == "Agent-1  ·  frontend"
    assert not panel.send_button.isEnabled() and panel.send_button.toolTip() == "Write a message first."
    panel.recipients.set_selected(["Agent-1"])
    panel.editor.setPlainText("ok")
    assert panel.send_button.isEnabled()  # at once, not 250 ms later
    panel.editor.setPlainText("   ")
    assert not panel.send() and panel.notice.text() == "Not sent: Write a message first."


def test_rule_check_waits_for_a_pause_in_typing(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    panel.recipients.set_selected(["Agent-1"])
    panel.check_timer.stop()
    assert panel.last_check is None
    started = time.monotonic()
    panel.editor.setPlainText("Ship it. FIXME: TODO tests")
    assert panel.check_timer.isActive() and panel.last_check is None
    # typing goes on 120 ms later; no event is handled meanwhile, so the first wait cannot end
    # before the next keystroke however long this sleep oversleeps (time passing is the point here)
    time.sleep(0.12)
    assert panel.check_timer.remainingTime() <= DEBOUNCE_MS - 100
    panel.editor.moveCursor(QTextCursor.MoveOperation.End)
    panel.editor.insertPlainText("!")  # another keystroke restarts the wait
    restarted = time.monotonic()
    assert panel.check_timer.isActive() and panel.check_timer.remainingTime() > DEBOUNCE_MS - 50
    qtbot.waitUntil(lambda: panel.last_check is not None, timeout=2000)
    # one check, a whole pause after the last keystroke (not 250 ms after the first one)
    assert time.monotonic() - restarted >= (DEBOUNCE_MS - 10) / 1000
    assert time.monotonic() - started >= (120 + DEBOUNCE_MS - 10) / 1000
    assert [p.rule_id for p in panel.checks.problems()] == ["placeholder-text", "todo-marker"]
    assert panel.checks.score.text() == "88 · WARN"
    assert "#ef6c00" in panel.checks.score.styleSheet()
    assert panel.checks.list.count() == 2 and not panel.checks.list.item(0).icon().isNull()
    assert panel.send_button.isEnabled()  # warnings do not block


def test_underline_lands_on_the_span_after_an_emoji(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    text = "🚀🚀 launch 🎉 then TODO the docs"
    write(panel, text, "Agent-1")
    [selection] = panel.editor.extraSelections()
    start = text.index("TODO")  # 17 code points, 20 UTF-16 units
    assert selection.cursor.selectionStart() == start + 3
    assert selection.cursor.selectionEnd() == start + 3 + 4
    assert selection.cursor.selectedText() == "TODO"
    assert selection.format.underlineStyle().name == "WaveUnderline"


def test_a_secret_cannot_be_sent(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    write(panel, SECRET, "Agent-1")
    assert panel.last_check.status == "FAIL" and panel.checks.score.text() == "75 · FAIL"
    assert panel.checks.problems()[0].rule_id == "no-credentials"
    assert not panel.send_button.isEnabled()
    assert "credential must never be pasted" in panel.send_button.toolTip()
    with qtbot.assertNotEmitted(panel.ctx.sig_submitted, wait=300):
        panel.send_action.trigger()  # the key stays live so a fast typist is never ignored: it re-checks
    assert panel.notice.error and "Not sent: Fix the errors first: A credential" in panel.notice.text()
    write(panel, "Upload the build.")
    assert panel.send_button.isEnabled()
    panel.editor.setPlainText(SECRET)  # pasted, then sent before the 250 ms check ran
    assert panel.check_timer.isActive() and panel.send_button.isEnabled()
    with qtbot.assertNotEmitted(panel.ctx.sig_submitted, wait=300):
        assert panel.send() is False


def test_send_to_two_agents_delivers_the_exact_text(make_ctx, qtbot, transports):
    panel = make_panel(make_ctx, qtbot)
    write(panel, "Please rebase on main and rerun the tests.", "Agent-1", "Agent-2")
    panel.fields.urgent.setChecked(True)
    panel.fields.tag_buttons["captain"].setChecked(True)
    with qtbot.waitSignal(panel.ctx.sig_submitted) as submitted:
        assert panel.send_button.isEnabled()
        panel.send_button.click()
    message = submitted.args[0].message
    assert (message.recipients, message.priority, message.tags) == (["Agent-1", "Agent-2"], "urgent", ["captain"])
    qtbot.waitUntil(lambda: states(panel) == {"Agent-1": "delivered", "Agent-2": "delivered"})
    for agent_id in ("Agent-1", "Agent-2"):
        expected = f"[C2A] Captain → {agent_id} | URGENT\nPlease rebase on main and rerun the tests."
        assert transports.sent_to(agent_id) == [expected] == [format_for_delivery(message, agent_id)]
    texts = panel.progress.model.texts()
    assert texts["Agent-1"].startswith("unverified") and texts["Agent-1"].endswith("a dry run types nothing")
    assert panel.progress.summary.text() == "2 recipients: 2 unverified"
    assert panel.editor.toPlainText() == "" and panel.restore_button.isEnabled()
    assert panel.checks.list.isHidden() and panel.checks.score.isHidden()  # no "blank" error after a send
    panel.restore_button.click()
    assert panel.editor.toPlainText() == "Please rebase on main and rerun the tests."


def test_a_failed_delivery_is_retried_on_the_same_live_transport(make_ctx, qtbot, transports):
    transports.fail_times["Agent-2"] = 10
    panel = make_panel(make_ctx, qtbot)
    write(panel, "Run the migration dry-run and report.", "Agent-1", "Agent-2")
    panel.send()
    qtbot.waitUntil(lambda: states(panel) == {"Agent-1": "delivered", "Agent-2": "failed"}, timeout=10_000)
    failed = panel.progress.progress.rows[1]
    assert failed.text().startswith("failed ✗ injected failure 4 of 10")
    assert panel.progress.retry_button.isEnabled() and panel.retry_action.isEnabled()
    assert "(1)" in panel.progress.retry_button.text()
    live = transports.by_agent["Agent-2"]
    assert len(live.attempts) == 4 and live.sent == []
    live.fail_times = 0  # the agent is back: the dispatcher reuses this cached transport
    seen: list[tuple[str, int, int]] = []
    panel.progress.sig_reported.connect(
        lambda _t, _e: seen.append((states(panel)["Agent-2"], panel.progress.progress.rows[1].delivery_id,
                                    panel.progress.progress.rows[1].retries)))
    with qtbot.waitSignal(panel.progress.sig_reported):
        panel.retry_action.trigger()
    state, new_id, retries = seen[0]
    assert state in ("queued", "sending", "delivered") and new_id != failed.delivery_id and retries == 1
    qtbot.waitUntil(lambda: states(panel)["Agent-2"] == "delivered", timeout=10_000)
    assert transports.by_agent["Agent-2"] is live
    assert live.sent[0].text == "[C2A] Captain → Agent-2 | RESENT\nRun the migration dry-run and report."
    assert transports.sent_to("Agent-1") == ["[C2A] Captain → Agent-1\nRun the migration dry-run and report."]
    assert not panel.progress.retry_button.isEnabled()
    assert panel.ctx.store.delivery(new_id).retry_of == failed.delivery_id


def test_broadcast_over_the_limit_asks_first(make_ctx, qtbot, transports):
    team = roster("Agent-1", "Agent-2", "Agent-3", "Agent-4", "Agent-5", disabled=("Agent-5",))
    panel = make_panel(make_ctx, qtbot, team)
    asked: list[tuple[str, str]] = []
    answer = [False]
    panel.sending.confirm = lambda title, text: asked.append((title, text)) or answer[0]
    write(panel, "Freeze merges: release in 10 minutes.")
    with qtbot.assertNotEmitted(panel.ctx.sig_submitted, wait=200):
        assert panel.broadcast() is True  # under way: who can be reached is looked at first
        qtbot.waitUntil(lambda: panel.notice.text() == "Not sent: cancelled.")
    assert asked[0][0] == "Broadcast to 4 agents?" and "more than 3" in asked[0][1]
    assert "cannot be reached" not in asked[0][1]
    answer[0] = True
    with qtbot.waitSignal(panel.ctx.sig_submitted) as submitted:
        panel.broadcast_action.trigger()
    message = submitted.args[0].message
    assert (message.type, message.recipients) == ("broadcast", [])
    assert submitted.args[0].recipients == ("Agent-1", "Agent-2", "Agent-3", "Agent-4")
    qtbot.waitUntil(lambda: set(states(panel).values()) == {"delivered"} and len(states(panel)) == 4)
    assert transports.sent_to("Agent-4") == [
        "[C2A] Captain → Agent-4 | BROADCAST\nFreeze merges: release in 10 minutes."]
    assert len(asked) == 2


def test_no_question_at_or_under_the_limit(make_ctx, qtbot):
    team = roster("Agent-1", "Agent-2", "Agent-3", "Agent-4")
    panel = make_panel(make_ctx, qtbot, team)
    panel.sending.confirm = lambda title, text: pytest.fail("asked")
    write(panel, "Standup in five.", "Agent-1", "Agent-2", "Agent-3")
    with qtbot.waitSignal(panel.ctx.sig_submitted):
        assert panel.send()
    panel.ctx.settings.set("composer/confirm_over", 10, 3)
    write(panel, "Standup now.")
    with qtbot.waitSignal(panel.ctx.sig_submitted):
        assert panel.broadcast()


def test_template_gives_each_agent_its_own_text(make_ctx, qtbot, transports):
    folder = user_templates_dir()
    folder.mkdir(parents=True)
    (folder / "handover.md").write_text("Agent-{agent_id}: hand over your {role} notes.", encoding="utf-8")
    team = roster("Agent-1", "Agent-2", roles={"Agent-1": "frontend", "Agent-2": "backend"})
    panel = make_panel(make_ctx, qtbot, team)
    assert "handover (yours)" in [panel.templates.combo.itemText(i) for i in range(panel.templates.combo.count())]
    with qtbot.waitSignal(panel.templates.sig_template_loaded):
        panel.templates.load("handover")
    assert panel.editor.toPlainText() == "Agent-{agent_id}: hand over your {role} notes."
    assert panel.templates.fill.isChecked()
    panel.recipients.set_selected(["Agent-1", "Agent-2"])
    dialog = panel.show_preview()
    assert [t for _a, t in dialog.texts] == ["[C2A] Captain → Agent-1\nAgent-1: hand over your frontend notes.",
                                             "[C2A] Captain → Agent-2\nAgent-2: hand over your backend notes."]
    assert dialog.shown_text() == dialog.texts[0][1] and "2 different texts" in dialog.note.text()
    dialog.close()
    with qtbot.waitSignals([panel.ctx.sig_submitted, panel.ctx.sig_submitted]):
        panel.send()
    qtbot.waitUntil(lambda: states(panel) == {"Agent-1": "delivered", "Agent-2": "delivered"})
    assert transports.sent_to("Agent-2") == ["[C2A] Captain → Agent-2\nAgent-2: hand over your backend notes."]
    assert len({r.message_id for r in panel.progress.progress.rows}) == 2
    panel.editor.undo()  # the cleared text comes back
    assert panel.editor.toPlainText() == "Agent-{agent_id}: hand over your {role} notes."


def test_unknown_placeholder_is_shown_and_blocks_sending(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    panel.templates.fill.setChecked(True)
    write(panel, "Hi {agent_id},\nplease check {tem}.", "Agent-1")
    [problem] = panel.checks.problems()
    assert "line 2, column 14: unknown placeholder {tem}" in problem.message
    [selection] = panel.editor.extraSelections()
    assert selection.cursor.selectedText() == "{tem}"
    assert not panel.send_button.isEnabled() and "unknown placeholder {tem}" in panel.send_button.toolTip()
    assert panel.checks.score.isHidden()
    with qtbot.assertNotEmitted(panel.ctx.sig_submitted, wait=200):
        assert not panel.send()
    assert panel.show_preview() is None and "No preview" in panel.notice.text()
    panel.templates.fill.setChecked(False)  # braces sent as typed
    panel.run_check()
    assert panel.send_button.isEnabled()


def test_focusing_an_agent_selects_it_alone_and_focuses_the_text(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    panel.show()
    qtbot.waitExposed(panel)
    panel.recipients.set_selected(["Agent-1", "Agent-2"])
    panel.ctx.sig_agent_focused.emit("Agent-2")
    assert panel.recipients.selected() == ["Agent-2"]
    qtbot.waitUntil(panel.editor.hasFocus)
    panel.ctx.sig_agent_focused.emit("Nobody")
    assert panel.notice.error and "Nobody" in panel.notice.text()


def test_roster_changes_and_rule_changes_are_followed(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    write(panel, "Hello", "Agent-2")
    team = roster("Agent-2", "Agent-3", "Agent-4", disabled=("Agent-4",))
    with qtbot.waitSignal(panel.ctx.sig_roster_changed):
        panel.ctx.set_roster(team)
    assert panel.recipients.ids() == ["Agent-2", "Agent-3"] and panel.recipients.selected() == ["Agent-2"]
    panel.editor.setPlainText("Hello TODO")
    assert panel.check_timer.isActive()
    panel.ctx.rules_activated()
    assert not panel.check_timer.isActive() and panel.last_check.problems[0].rule_id == "todo-marker"


def test_a_recipient_gone_from_the_roster_is_refused_clearly(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    write(panel, "Status?", "Agent-2")
    panel.ctx.session.set_roster(roster("Agent-1", "Agent-2", disabled=("Agent-2",)))  # no signal yet
    with qtbot.waitSignal(panel.sending.sig_reported):
        panel.send()
    assert panel.notice.error and "'Agent-2' is disabled in the roster" in panel.notice.text()
    assert panel.editor.toPlainText() == "Status?" and panel.send_button.isEnabled()


def test_stop_all_cancels_rows_still_queued(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot, start=False)  # no delivery thread: everything stays queued
    write(panel, "Hold on.", "Agent-1", "Agent-2")
    with qtbot.waitSignal(panel.ctx.sig_submitted):
        panel.send()
    assert states(panel) == {"Agent-1": "queued", "Agent-2": "queued"}
    with qtbot.waitSignal(panel.ctx.delivery.sig_stopped):
        panel.ctx.delivery.stop_all()
    assert panel.progress.model.texts() == {"Agent-1": "cancelled (stop all)", "Agent-2": "cancelled (stop all)"}


def test_preview_shows_the_delivered_text_and_the_broadcast_when_nobody_is_ticked(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    write(panel, "Deploy window opens at 14:00.")
    everyone = panel.show_preview()  # nobody ticked: what Broadcast would send
    assert everyone is not None and everyone.note.text().startswith("Nobody ticked: this is what Broadcast sends")
    assert [agent for agent, _ in everyone.texts] == ["Agent-1", "Agent-2"]
    assert everyone.shown_text() == format_for_delivery(
        Message(sender="Captain", type="broadcast", content="Deploy window opens at 14:00."), "Agent-1")
    everyone.close()
    panel.recipients.set_selected(["Agent-1", "Agent-2"])
    panel.fields.set_type("broadcast")
    panel.preview_action.trigger()
    dialog = panel.preview_dialog
    assert dialog is not None and "the same text" in dialog.note.text()
    message = Message(sender="Captain", recipients=["Agent-1", "Agent-2"], type="broadcast",
                      content="Deploy window opens at 14:00.")
    dialog.agents.setCurrentRow(1)
    assert dialog.shown_text() == format_for_delivery(message, "Agent-2")


def test_focus_command_puts_the_cursor_in_the_text_box(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    panel.show()
    qtbot.waitExposed(panel)
    panel.recipients.list.setFocus()
    panel.focus_action.trigger()
    qtbot.waitUntil(panel.editor.hasFocus)


def test_keyboard_shortcuts_work_from_the_text_box(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    panel.focus_composer()
    qtbot.waitUntil(panel.editor.hasFocus)
    write(panel, "Pull main before you push.", "Agent-1")
    QTest.keyClick(panel.editor, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert panel.preview_dialog is not None
    panel.preview_dialog.close()
    panel.editor.setFocus()
    with qtbot.waitSignal(panel.ctx.sig_submitted) as submitted:
        QTest.keyClick(panel.editor, Qt.Key.Key_Enter,
                       Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.KeypadModifier)
    assert submitted.args[0].recipients == ("Agent-1",)
    assert "\n" not in panel.last_sent  # the key sent the message, it did not type a newline


def test_activating_a_problem_selects_its_text(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    write(panel, "🚀 done, TODO docs", "Agent-1")
    item = panel.checks.list.item(0)
    panel.checks.list.clicked.emit(panel.checks.list.indexFromItem(item))
    assert panel.editor.textCursor().selectedText() == "TODO"


def test_one_send_at_a_time_and_text_typed_meanwhile_is_kept(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    write(panel, "First", "Agent-1")
    with qtbot.waitSignal(panel.ctx.sig_submitted):
        assert panel.send()
        assert panel.sending.busy and not panel.send_button.isEnabled()
        assert panel.send_button.toolTip() == "The last send is still being queued."
        assert not panel.send()
        assert "still being queued" in panel.notice.text()
        panel.editor.setPlainText("Second, typed while the first was queued")
    assert panel.editor.toPlainText() == "Second, typed while the first was queued"
    assert panel.last_sent == "First"


def test_with_validation_off_no_score_but_template_errors_still_block(make_ctx, qtbot, monkeypatch):
    monkeypatch.setenv("COORDINATION_ENABLE_VALIDATION", "false")
    panel = make_panel(make_ctx, qtbot)
    assert panel.ctx.session.validator is None
    write(panel, "hello {agent_id}", "Agent-1")
    assert panel.checks.score.isHidden() and "Rule checks are off" in panel.checks.summary.text()
    assert panel.send_button.isEnabled()  # the hint about {agent_id} is only info
    panel.templates.fill.setChecked(True)
    write(panel, "hello {agentid}")
    assert not panel.send_button.isEnabled()
    assert [p.rule_id for p in panel.checks.problems()] == ["template"]
    assert panel.checks.summary.text() == "Rule checks are off in the settings.  1 error"


def test_broadcast_is_gated_like_send(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    panel.editor.setPlainText("  ")
    assert not panel.broadcast() and panel.notice.text() == "Not sent: the message is empty."
    panel.editor.setPlainText(SECRET)
    assert not panel.broadcast() and "credential must never be pasted" in panel.notice.text()
    panel.editor.setPlainText("All hands: pull main.")
    with qtbot.waitSignal(panel.ctx.sig_submitted):
        assert panel.broadcast()
        assert not panel.broadcast() and "still being queued" in panel.notice.text()
    team = roster("Agent-1", disabled=("Agent-1",))
    with qtbot.waitSignal(panel.ctx.sig_roster_changed):
        panel.ctx.set_roster(team)
    panel.editor.setPlainText("Anyone there?")
    assert not panel.broadcast_button.isEnabled()
    assert not panel.broadcast() and panel.notice.text() == "Not sent: no enabled agent on the roster."
