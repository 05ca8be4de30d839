"""Stop all between processes, seen from the panel: a stop recorded by another process halts the
panel's delivery (even mid-backoff) and shows the same STOPPED state with Resume; the panel's own
Stop all is recorded for the other processes and is not heard back."""
from __future__ import annotations

from gui_fixtures import WatchLooks, jobs_done
from msgspec.structs import replace

from quarterdeck.core.models import Message
from quarterdeck.core.store import Store
from quarterdeck.gui.mainwindow import MainWindow

WAIT_MS = 5000  # generous: the watch looks every 50 ms


def window_for(ctx, qtbot) -> MainWindow:
    window = MainWindow(ctx, [])
    qtbot.addWidget(window)
    return window


def test_a_stop_from_another_process_halts_the_panel_mid_backoff_and_resume_lifts_it(
        make_ctx, qtbot, transports):
    transports.fail_times["Agent-1"] = 10
    ctx = make_ctx(start=False)
    dispatcher = ctx.session.dispatcher
    dispatcher.policy = replace(dispatcher.policy, base_delay=30.0, jitter=0.0)
    window = window_for(ctx, qtbot)
    ctx.start()
    events: list = []
    ctx.delivery.sig_delivery_event.connect(events.append)
    pending_counts: list[int] = []  # connected after the banner: it has each count first
    ctx.delivery.sig_stopped_pending.connect(pending_counts.append)
    ctx.submit(Message(sender="Captain", recipients=["Agent-1"], content="Run the suite."))
    qtbot.waitUntil(lambda: any(e.state == "retrying" for e in events), timeout=WAIT_MS)
    assert not window.resume_action.isEnabled()
    with qtbot.waitSignals([ctx.delivery.sig_halted, ctx.delivery.sig_stopped], timeout=WAIT_MS):
        with Store(ctx.store.path) as other:
            other.request_stop()
    qtbot.waitUntil(lambda: "STOPPED" in window.stop_label.text() and window.resume_action.isEnabled(),
                    timeout=WAIT_MS)
    assert ctx.delivery.halted
    qtbot.waitUntil(lambda: any(e.state == "cancelled" for e in events), timeout=WAIT_MS)
    assert ctx.store.counts_by_state()["cancelled"] == 1
    # the banner says so too; the delivery cancelled mid-way (it had been tried) is never re-queued
    banner = window.status.banner
    qtbot.waitUntil(lambda: banner.isVisibleTo(window)
                    and banner.label.text() == "STOPPED — 0 deliveries cancelled · 0 sending", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: bool(pending_counts), timeout=WAIT_MS)  # what could be re-queued was counted
    assert pending_counts == [0] and banner.pending == 0 and not banner.requeue_action.isEnabled()
    with qtbot.waitSignal(ctx.delivery.sig_resumed):
        window.resume_action.trigger()
    assert not ctx.delivery.halted and not window.resume_action.isEnabled()
    assert not banner.isVisibleTo(window)  # nothing the stop cancelled is left to re-queue
    ctx.submit(Message(sender="Captain", recipients=["Agent-2"], content="Carry on."))
    qtbot.waitUntil(lambda: any(e.state == "delivered" and e.agent_id == "Agent-2" for e in events),
                    timeout=WAIT_MS)


def test_the_panels_stop_all_is_recorded_for_other_processes_and_not_heard_back(make_ctx, qtbot, monkeypatch):
    ctx = make_ctx()
    window = window_for(ctx, qtbot)
    looks = WatchLooks(ctx.session.dispatcher.stop_watch, monkeypatch)
    halts: list[None] = []
    ctx.delivery.sig_halted.connect(lambda: halts.append(None))
    heard: list[str] = []  # what the watch reported, on its own thread
    ctx.session.dispatcher.add_stop_listener(lambda _cancelled: heard.append("stop"))
    ctx.session.dispatcher.add_resume_listener(lambda: heard.append("resume"))
    with qtbot.waitSignal(ctx.delivery.sig_stopped, timeout=WAIT_MS):
        window.stop_action.trigger()
    with Store(ctx.store.path) as other:
        assert other.stop_mark().generation == 1
    looks.wait_for_a_new_look(qtbot)  # the watch has read the file since the stop was recorded
    assert halts == [None] and heard == []
    with qtbot.waitSignal(ctx.delivery.sig_resumed):
        window.resume_action.trigger()
    with Store(ctx.store.path) as other:  # the resume is recorded for the others (in the background)
        qtbot.waitUntil(lambda: other.stop_mark().resumed == 1, timeout=WAIT_MS)
    looks.wait_for_a_new_look(qtbot)
    assert not ctx.delivery.halted and halts == [None] and heard == []


def test_a_resume_from_another_process_lifts_the_panels_stop_and_the_panels_resume_is_recorded(
        make_ctx, qtbot):
    ctx = make_ctx()
    window = window_for(ctx, qtbot)
    with qtbot.waitSignal(ctx.delivery.sig_halted, timeout=WAIT_MS):
        with Store(ctx.store.path) as other:
            other.request_stop()
    qtbot.waitUntil(window.resume_action.isEnabled, timeout=WAIT_MS)
    with qtbot.waitSignal(ctx.delivery.sig_resumed, timeout=WAIT_MS):
        with Store(ctx.store.path) as other:
            other.request_resume()
    qtbot.waitUntil(lambda: not window.resume_action.isEnabled() and "STOPPED" not in window.stop_label.text(),
                    timeout=WAIT_MS)
    assert not ctx.delivery.halted
    window.stop_action.trigger()
    with qtbot.waitSignal(ctx.delivery.sig_resumed, timeout=WAIT_MS):
        window.resume_action.trigger()
    with Store(ctx.store.path) as other:
        qtbot.waitUntil(lambda: other.stop_mark().resumed == 2, timeout=WAIT_MS)


def test_a_send_from_the_panel_resumes_this_process_only(make_ctx, qtbot):
    ctx = make_ctx()
    window = window_for(ctx, qtbot)
    with qtbot.waitSignal(ctx.delivery.sig_stopped, timeout=WAIT_MS):
        window.stop_action.trigger()
    with qtbot.waitSignal(ctx.sig_submitted, timeout=WAIT_MS):
        ctx.submit(Message(sender="Captain", recipients=["Agent-1"], content="Carry on here."))
    assert not ctx.delivery.halted
    jobs_done(ctx, qtbot)  # the background runner has run whatever the send asked for
    with Store(ctx.store.path) as other:
        assert other.stop_mark().resumed == 0  # the other processes stay stopped


def test_a_click_beside_the_widgets_keeps_the_focus_in_the_panel(make_ctx, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QTableView

    from quarterdeck.gui.history.panel import HistoryPanel

    ctx = make_ctx()
    window = MainWindow(ctx, [HistoryPanel])
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    panel = window.panels["history"]
    table = panel.findChild(QTableView, "history-table")
    table.setFocus()
    qtbot.waitUntil(table.hasFocus)
    qtbot.mouseClick(panel.count_label, Qt.MouseButton.LeftButton)  # a label takes no focus
    focused = QApplication.focusWidget()
    assert focused is not None and panel.isAncestorOf(focused), focused
