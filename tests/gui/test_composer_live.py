"""The composer's live send chips, the mode-aware check and never-silent refusals, driven with
real keys over a real outbox and dry-run agents."""
from __future__ import annotations

import time

from gui_fixtures import saved_shot
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from quarterdeck.core.models import Agent, DryRunTransport
from quarterdeck.core.roster.roster import Roster
from quarterdeck.gui.composer.panel import ComposerPanel
from quarterdeck.gui.composer.progress import REREAD_MS
from quarterdeck.gui.composer.sending import LEAVE_OUT
from quarterdeck.gui.mainwindow import MainWindow
from quarterdeck.gui.ruleedit.panel import RulesPanel

TOKEN = "ghp_aJer8GFWcNzTFM2aCVpCUGMjVCy9y1kPAr82"


def team(n: int = 4) -> Roster:
    return Roster(tuple(Agent(id=f"Agent-{i}", transport=DryRunTransport()) for i in range(1, n + 1)), {})


def make(make_ctx, qtbot, n: int = 4) -> ComposerPanel:
    panel = ComposerPanel(make_ctx(roster=team(n)))
    qtbot.addWidget(panel)
    panel.resize(520, 900)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: panel.templates.combo.isEnabled())
    return panel


def type_text(panel: ComposerPanel, text: str) -> None:
    QTest.mouseClick(panel.editor.viewport(), Qt.MouseButton.LeftButton)
    QTest.keyClicks(panel.editor, text)
    panel.run_check()


def test_chips_go_live_and_end_with_a_red_outcome_line(make_ctx, qtbot, transports):
    transports.fail_times["Agent-3"] = 1000
    panel = make(make_ctx, qtbot)
    panel.sending.confirm = lambda _t, _x: True
    type_text(panel, "Rebase on main and rerun the tests.")
    QTest.keyClick(panel.editor, Qt.Key.Key_Return,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: len(panel.chips.chips) == 4, timeout=5000)
    assert panel.chips.isVisible() and panel.chips.y() < panel.checks.y()  # right under the text box
    assert panel.notice.text() == ""  # no "Queued for …" left behind
    rows = panel.progress.progress.rows
    qtbot.waitUntil(lambda: all(r.finished for r in rows), timeout=15_000)
    qtbot.waitUntil(lambda: panel.chips.outcome.property("bad") is True)
    assert panel.chips.outcome.text() == "0/4 submitted · 3 unverified · 1 failed"
    assert "#c62828" in panel.chips.outcome.styleSheet()
    chips = dict(zip([r.agent_id for r in rows], panel.chips.chips, strict=True))
    assert chips["Agent-3"].text() == "Agent-3 · failed ✗" and chips["Agent-3"].property("state") == "failed"
    assert "injected failure" in chips["Agent-3"].toolTip() and "Delivery #" in chips["Agent-3"].toolTip()
    assert chips["Agent-1"].text() == "Agent-1 · unverified" and "dry run" in chips["Agent-1"].toolTip().lower()
    assert panel.notice.text() == ""  # the outcome line is not repeated above the To list
    last = panel.chips.chips[-1]
    assert (panel.chips.outcome.y(), panel.chips.outcome.x()) > (last.y(), last.x())  # it ends the chips' flow


def test_all_delivered_leaves_a_green_outcome_and_no_queued_banner(make_ctx, qtbot):
    panel = make(make_ctx, qtbot, 2)
    panel.recipients.set_selected(["Agent-1", "Agent-2"])
    type_text(panel, "Standup in five.")
    with qtbot.waitSignal(panel.ctx.sig_submitted):
        QTest.keyClick(panel.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: panel.chips.outcome.property("bad") is False, timeout=15_000)
    assert panel.chips.outcome.text() == "0/2 submitted · 2 unverified"
    assert "#2e7d32" in panel.chips.outcome.styleSheet()
    assert "Queued for" not in panel.notice.text()


def test_tab_is_not_trapped_in_the_progress_table(make_ctx, qtbot):
    panel = make(make_ctx, qtbot, 2)
    panel.recipients.set_selected(["Agent-1", "Agent-2"])
    type_text(panel, "Standup in five.")
    with qtbot.waitSignal(panel.ctx.sig_submitted):
        panel.send()
    qtbot.waitUntil(lambda: panel.progress.model.rowCount() == 2)
    table = panel.progress.table
    table.setFocus()
    table.setCurrentIndex(panel.progress.model.index(0, 0))
    qtbot.waitUntil(table.hasFocus)
    QTest.keyClick(table, Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: not table.hasFocus())
    assert table.currentIndex().row() == 0  # Tab left the table instead of walking its cells


def test_nobody_ticked_is_checked_as_a_broadcast_and_send_says_tick_someone(make_ctx, qtbot):
    panel = make(make_ctx, qtbot, 3)
    type_text(panel, "Wrap up and push your branch.")
    assert panel.last_check.problems == () and panel.checks.score.text() == "100 · PASS"
    assert panel.checks.summary.text().startswith("Nobody ticked: checked as a broadcast to all 3")
    assert panel.broadcast_button.isEnabled() and not panel.send_button.isEnabled()
    QTest.keyClick(panel.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert panel.notice.error and panel.notice.isVisible()
    assert panel.notice.text().startswith("Not sent: Nobody is ticked: tick at least one agent")


def test_a_blocked_send_flashes_the_problems_and_one_token_counts_once(make_ctx, qtbot):
    panel = make(make_ctx, qtbot, 2)
    panel.recipients.set_selected(["Agent-1"])
    type_text(panel, f"Use {TOKEN} for the push.")
    assert [p.rule_id for p in panel.last_check.problems] == ["no-credentials"]
    assert panel.checks.score.text() == "75 · FAIL"
    assert not panel.broadcast_button.isEnabled() and "Fix the errors first" in panel.broadcast_button.toolTip()
    statuses: list[str] = []
    panel.ctx.sig_status.connect(statuses.append)
    QTest.keyClick(panel.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert panel.checks.property("flashing") is True and panel.notice.error
    assert panel.notice.text().startswith("Not sent: Fix the errors first: A credential")
    assert statuses and statuses[-1].startswith("Composer: not sent:")
    assert panel.checks.current_problem().rule_id == "no-credentials"
    qtbot.waitUntil(lambda: panel.checks.property("flashing") is False, timeout=3000)
    assert "#c62828" in panel.checks.list.styleSheet()  # the list stays outlined in red
    QTest.keyClicks(panel.editor, "!")  # the refusal was about that draft: it goes once the draft changes
    assert panel.notice.text() == ""


def test_hovering_the_underline_names_the_rule(make_ctx, qtbot):
    panel = make(make_ctx, qtbot, 2)
    panel.recipients.set_selected(["Agent-1"])
    type_text(panel, f"Use {TOKEN} now")
    cursor = panel.editor.textCursor()
    cursor.setPosition(10)
    point = panel.editor.cursorRect(cursor).center() + QPoint(2, 0)
    tip = panel.tips.tip_at(point)
    assert tip.startswith("no-credentials (error): A credential must never be pasted")
    cursor.setPosition(1)
    assert panel.tips.tip_at(panel.editor.cursorRect(cursor).center()) == ""


def test_allow_here_takes_a_warning_for_one_send_but_never_an_error(make_ctx, qtbot):
    panel = make(make_ctx, qtbot, 2)
    panel.recipients.set_selected(["Agent-1"])
    type_text(panel, "Ship it, FIXME later.")
    assert panel.checks.score.text() == "90 · WARN" and panel.checks.allow_button.isEnabled()
    QTest.mouseClick(panel.checks.allow_button, Qt.MouseButton.LeftButton)
    assert panel.last_check.problems == () and panel.checks.score.text() == "100 · PASS"
    assert panel.notice.text() == "Allowed placeholder-text for this send only."
    with qtbot.waitSignal(panel.ctx.sig_submitted):
        panel.send()
    qtbot.waitUntil(lambda: panel.editor.toPlainText() == "")
    assert panel.allowed == set()  # the next message is checked in full again
    type_text(panel, f"key {TOKEN}")
    assert not panel.checks.allow_button.isEnabled()
    panel.allow_here(panel.last_check.problems[0])
    assert panel.notice.error and "cannot be allowed" in panel.notice.text()
    assert panel.last_check.blocking


def test_open_rule_shows_the_rule_in_the_rules_panel(make_ctx, qtbot):
    window = MainWindow(make_ctx(roster=team(2)), [ComposerPanel, RulesPanel])
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    panel, rules = window.panels["composer"], window.panels["rules"]
    qtbot.waitUntil(lambda: bool(rules.tabs.texts()), timeout=5000)
    panel.recipients.set_selected(["Agent-1"])
    type_text(panel, f"key {TOKEN}")
    assert panel.checks.open_rule_button.isEnabled()
    QTest.mouseClick(panel.checks.open_rule_button, Qt.MouseButton.LeftButton)
    editor = rules.tabs.currentWidget()
    assert editor.name == "security.yaml" and window.docks["rules"].isVisible()
    assert editor.textCursor().block().text().strip() == "no-credentials:"
    assert panel.notice.text().startswith("Rule no-credentials: security.yaml, line ")
    window.close()


def test_preview_warns_about_a_secret_and_shows_it_redacted(make_ctx, qtbot):
    panel = make(make_ctx, qtbot, 2)
    panel.recipients.set_selected(["Agent-1"])
    type_text(panel, f"key {TOKEN}")
    dialog = panel.show_preview()
    assert dialog is not None and dialog.warning.isVisibleTo(dialog)
    assert "looks like a secret (github token)" in dialog.warning.text()
    assert TOKEN not in dialog.shown_text() and "[REDACTED:github_token]" in dialog.shown_text()
    dialog.close()
    type_text(panel, "")
    panel.replace_text("All clear")
    clean = panel.show_preview()
    assert not clean.warning.isVisibleTo(clean) and "All clear" in clean.shown_text()
    clean.close()


def test_the_confirmation_warns_about_a_forced_open_breaker_and_can_leave_it_out(make_ctx, qtbot, transports):
    panel = make(make_ctx, qtbot, 3)
    panel.ctx.delivery.dispatcher.breakers.get("Agent-2").force_open()
    asked: list[str] = []
    panel.sending.confirm = lambda _title, text: asked.append(text) or LEAVE_OUT
    type_text(panel, "Release freeze starts now.")
    with qtbot.waitSignal(panel.ctx.sig_submitted, timeout=5000) as submitted:
        QTest.keyClick(panel.editor, Qt.Key.Key_Return,
                       Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert "Agent-2: forced open by you" in asked[0] and "2/3 reachable" in asked[0]
    assert submitted.args[0].recipients == ("Agent-1", "Agent-3")
    assert submitted.args[0].message.type == "broadcast"
    qtbot.waitUntil(lambda: len(panel.chips.chips) == 2)
    assert QApplication.activeModalWidget() is None


def test_the_outcome_notice_never_pushes_the_chips_out_of_a_small_dock(make_ctx, qtbot):
    from quarterdeck.gui.panel import PanelScroll

    panel = ComposerPanel(make_ctx(roster=team(4)))
    scroll = PanelScroll(panel)
    qtbot.addWidget(scroll)
    scroll.resize(660, 600)  # the composer's dock on a 1366x768 screen
    scroll.show()
    qtbot.waitExposed(scroll)
    qtbot.waitUntil(lambda: panel.templates.combo.isEnabled())
    panel.recipients.set_selected(["Agent-1", "Agent-2"])
    type_text(panel, "Standup in five.")
    with qtbot.waitSignal(panel.ctx.sig_submitted):
        panel.send()
    qtbot.waitUntil(lambda: panel.chips.outcome.property("bad") is False, timeout=15_000)
    assert panel.notice.text() == ""
    qtbot.waitUntil(lambda: panel.chips.outcome.y() == panel.chips.chips[-1].y())  # two chips and it: one line
    panel.notice.say("Not sent: Nobody is ticked: tick at least one agent to send to, or press Broadcast "
                     "(Ctrl+Shift+Enter) to send to all 4. " * 2, True)
    label = panel.notice.label
    # the layout settles through posted layout requests: wait until the notice has its two lines
    qtbot.waitUntil(lambda: panel.notice.isVisible() and label.height() >= 2 * label.fontMetrics().height())
    qtbot.waitUntil(lambda: panel.height() == scroll.viewport().height())
    assert scroll.verticalScrollBar().maximum() == 0
    bottom = panel.chips.outcome.mapTo(panel, panel.chips.outcome.rect().bottomLeft()).y()
    assert panel.chips.outcome.isVisible() and bottom < scroll.viewport().height()


def test_a_delivery_cancelled_elsewhere_is_shown_cancelled_from_the_outbox(make_ctx, qtbot):
    panel = ComposerPanel(make_ctx(roster=team(2), start=False))  # no delivery thread: all stay queued
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.templates.combo.isEnabled())
    panel.recipients.set_selected(["Agent-1", "Agent-2"])
    type_text(panel, "Hold on.")
    with qtbot.waitSignal(panel.ctx.sig_submitted):
        panel.send()
    qtbot.waitUntil(lambda: panel.chips.texts() == ["Agent-1 · queued", "Agent-2 · queued"])
    assert panel.progress.doubt_timer.isActive()
    assert panel.ctx.store.cancel_queued("Agent-1") == 1  # another window or process: no event comes
    qtbot.waitUntil(lambda: panel.chips.texts()[0] == "Agent-1 · cancelled", timeout=5000)
    assert panel.chips.texts()[1] == "Agent-2 · queued"
    with qtbot.waitSignal(panel.ctx.delivery.sig_stopped):
        panel.ctx.delivery.stop_all()
    qtbot.waitUntil(lambda: panel.chips.outcome.property("bad") is True)
    assert panel.chips.outcome.text() == "0/2 submitted · 2 cancelled"
    assert not panel.progress.doubt_timer.isActive()  # nothing left in doubt
    panel.shutdown()


def test_a_read_back_that_fails_once_is_tried_again_and_said_once(make_ctx, qtbot, monkeypatch):
    from quarterdeck.core.store.faults import StorageFault

    panel = ComposerPanel(make_ctx(roster=team(2), start=False))  # no delivery thread: all stay queued
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.templates.combo.isEnabled())
    panel.recipients.set_selected(["Agent-1"])
    type_text(panel, "Hold on.")
    with qtbot.waitSignal(panel.ctx.sig_submitted):
        panel.send()
    store, said = panel.ctx.store, []
    panel.progress.sig_reported.connect(lambda text, bad: said.append(text))
    real, failures = store.delivery, []

    def locked(delivery_id: int):
        if len(failures) < 2:  # two read-backs in a row meet a lock held long
            failures.append(delivery_id)
            raise StorageFault("locked", store.path, "SQLite: database is locked")
        return real(delivery_id)

    monkeypatch.setattr(store, "delivery", locked)
    assert store.cancel_queued("Agent-1") == 1  # another window or process: no event comes
    qtbot.waitUntil(lambda: panel.chips.texts() == ["Agent-1 · cancelled"], timeout=30_000)  # 2 s ticks
    assert len(failures) == 2 and len(said) == 1 and said[0].endswith("; trying again")
    panel.shutdown()


def test_sixteen_chips_wrap_and_stay_in_view_above_the_check(make_ctx, qtbot):
    from quarterdeck.gui.panel import PanelScroll

    panel = ComposerPanel(make_ctx(roster=team(16)))
    scroll = PanelScroll(panel)
    qtbot.addWidget(scroll)
    scroll.resize(660, 640)
    scroll.show()
    qtbot.waitExposed(scroll)
    qtbot.waitUntil(lambda: panel.templates.combo.isEnabled())
    panel.sending.confirm = lambda _t, _x: True
    type_text(panel, "All hands: pull main.")
    with qtbot.waitSignal(panel.ctx.sig_submitted):
        panel.broadcast()
    qtbot.waitUntil(lambda: panel.chips.outcome.property("bad") is False, timeout=20_000)
    chips = panel.chips.chips
    assert len(chips) == 16
    # the layout settles through posted layout requests: wait until the chips are laid out
    qtbot.waitUntil(lambda: all(chip.isVisible() for chip in chips) and len({chip.y() for chip in chips}) >= 2)
    for chip in chips:
        top_left = chip.mapTo(panel, chip.rect().topLeft())
        assert chip.isVisible() and 0 <= top_left.x() and top_left.x() + chip.width() <= panel.width()
    last = chips[-1].mapTo(panel, chips[-1].rect().bottomLeft()).y()
    assert last < panel.chips.outcome.mapTo(panel, panel.chips.outcome.rect().topLeft()).y()
    outcome = panel.chips.outcome
    assert outcome.mapTo(panel, outcome.rect().bottomLeft()).y() < scroll.viewport().height()
    assert scroll.verticalScrollBar().maximum() == 0
    saved_shot(panel, "composer-chips-16.png")


def test_a_row_turns_confirmed_when_the_agents_hook_confirms_it_after_the_verdict(make_ctx, qtbot, transports):
    """The agent's own hook reports the delivered prompt after the transport's verdict: the
    confirmation the watch service records in the outbox reaches the composer's row and chip;
    a prompt that does not match changes nothing."""
    from quarterdeck.core.activity.confirm import confirm_deliveries
    from quarterdeck.core.activity.events import MAX_TEXT, PROMPT_SUBMITTED, ActivityEvent, clip
    from quarterdeck.core.store.db import connect
    from quarterdeck.gui.history.columns import STATE_COLUMN
    from quarterdeck.gui.history.panel import HistoryPanel

    panel = make(make_ctx, qtbot, 2)
    history = HistoryPanel(panel.ctx)  # the same window's history
    qtbot.addWidget(history)
    panel.recipients.set_selected(["Agent-1", "Agent-2"])
    type_text(panel, "Rebase on main and rerun the tests.")
    with qtbot.waitSignal(panel.ctx.sig_submitted):
        panel.send()
    qtbot.waitUntil(lambda: panel.chips.outcome.text() == "0/2 submitted · 2 unverified", timeout=15_000)

    def history_states() -> list[str]:
        return sorted(history.model.index(r, STATE_COLUMN).data() for r in range(history.model.rowCount()))

    qtbot.waitUntil(lambda: history_states() == ["unverified", "unverified"])
    rows = panel.progress.progress.rows
    assert [r.outcome for r in rows] == ["unverified", "unverified"]
    [pasted] = transports.sent_to("Agent-1")

    def hook(text: str) -> list[int]:
        event = ActivityEvent(agent_id="Agent-1", source="claude-code", kind=PROMPT_SUBMITTED,
                              name="UserPromptSubmit", at=time.time(), text=clip(text, MAX_TEXT))
        conn = connect(panel.ctx.store.path)
        try:
            return confirm_deliveries(conn, [event])
        finally:
            conn.close()

    assert hook("Rebase on main and rerun the tests.") == []  # the content alone: not the delivered text
    time.sleep(REREAD_MS / 1000 * 1.5)  # a read-back or more went by
    qtbot.wait(50)
    assert [r.outcome for r in panel.progress.progress.rows] == ["unverified", "unverified"]
    assert hook(pasted) == [rows[0].delivery_id]
    index = panel.progress.model.index(0, 1)
    qtbot.waitUntil(lambda: panel.progress.model.data(index).startswith("confirmed by agent ✓"), timeout=10_000)
    assert panel.progress.progress.rows[1].outcome == "unverified"  # Agent-2's hook said nothing
    assert panel.chips.texts()[0].startswith("Agent-1 · confirmed by agent")
    assert "UserPromptSubmit hook" in panel.progress.progress.rows[0].evidence
    qtbot.waitUntil(lambda: panel.chips.outcome.text() == "1/2 submitted · 1 unverified")
    qtbot.waitUntil(lambda: history_states() == ["confirmed by agent", "unverified"])  # no F5 needed
    history.shutdown()
    panel.shutdown()
