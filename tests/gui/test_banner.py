"""The STOPPED / GUI PAUSED banner: full width under the toolbar, with the outbox's counts and the
actions that end the state; Re-queue cancelled brings back what the stop cancelled; health says
stopped instead of "UP · score 100"."""
from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QToolButton

from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
from quarterdeck.core.models import Message
from quarterdeck.core.transports.gui.guard import DraftInInput
from quarterdeck.gui.banner import PAUSE_PREFIX, Wrapped
from quarterdeck.gui.mainwindow import MainWindow

WAIT_MS = 5000


def queued_window(make_ctx, qtbot, *recipients: str):
    """A panel with one message queued for ``recipients`` and the delivery loop not yet started."""
    ctx = make_ctx(start=False)
    with qtbot.waitSignal(ctx.sig_submitted, timeout=WAIT_MS):
        ctx.submit(Message(sender="Captain", recipients=list(recipients), content="Hold the release."))
    window = MainWindow(ctx, [])
    qtbot.addWidget(window)
    window.resize(1200, 700)
    window.show()
    qtbot.waitExposed(window)
    return ctx, window


def button(window, name: str) -> QToolButton:
    return window.findChild(QToolButton, f"banner-{name}")


def test_stop_all_shows_the_banner_and_requeue_then_resume_delivers_what_it_cancelled(
        make_ctx, qtbot, transports):
    ctx, window = queued_window(make_ctx, qtbot, "Agent-1", "Agent-2")
    banner = window.status.banner
    assert not banner.isVisible()
    qtbot.mouseClick(window.findChild(QToolButton, "stop-all-button"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: banner.isVisible() and button(window, "requeue").isEnabled(), timeout=WAIT_MS)
    assert banner.label.text() == "STOPPED — 2 deliveries cancelled · 0 sending"
    assert window.toolBarArea(banner) == Qt.ToolBarArea.TopToolBarArea and window.toolBarBreak(banner)
    assert banner.geometry().top() >= window.toolbar.geometry().bottom()  # a row of its own
    assert banner.width() >= window.width() - 20  # full width
    assert [n for n, b in banner.buttons.items() if b.isVisibleTo(banner)] == ["resume", "requeue"]
    assert button(window, "requeue").text() == "Re-queue 2 cancelled"
    window.status.refresh()
    assert "OUT OF SERVICE" in window.health_label.text()
    assert "0/2 reachable · stopped by the captain" in window.health_label.text()

    with qtbot.waitSignal(ctx.delivery.sig_requeued, timeout=WAIT_MS) as requeued:
        qtbot.mouseClick(button(window, "requeue"), Qt.MouseButton.LeftButton)
    assert requeued.args[0].agents == ("Agent-1", "Agent-2")
    assert ctx.store.counts_by_state()["queued"] == 2 and ctx.delivery.halted
    assert banner.label.text() == ("STOPPED — 2 deliveries cancelled, 2 re-queued (they go out when you Resume)"
                                   " · 0 sending")
    assert not button(window, "requeue").isEnabled()

    ctx.start()
    qtbot.mouseClick(button(window, "resume"), Qt.MouseButton.LeftButton)
    assert not banner.isVisible()
    qtbot.waitUntil(lambda: bool(transports.sent_to("Agent-1") and transports.sent_to("Agent-2")), timeout=WAIT_MS)
    assert "Hold the release." in transports.sent_to("Agent-2")[0]
    qtbot.waitUntil(lambda: "UP" in window.health_label.text() and "2/2 reachable" in window.health_label.text(),
                    timeout=WAIT_MS)
    window.close()


def test_after_a_resume_the_cancelled_ones_can_still_be_requeued_or_left(make_ctx, qtbot, transports):
    ctx, window = queued_window(make_ctx, qtbot, "Agent-1")
    banner = window.status.banner
    window.stop_action.trigger()
    qtbot.waitUntil(lambda: button(window, "requeue").isEnabled(), timeout=WAIT_MS)
    ctx.start()
    window.resume_action.trigger()
    assert banner.isVisible()
    assert banner.label.text() == "Delivering again — 1 delivery the last Stop all cancelled is not in the queue"
    assert [n for n, b in banner.buttons.items() if b.isVisibleTo(banner)] == ["requeue", "dismiss"]
    qtbot.mouseClick(button(window, "requeue"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: bool(transports.sent_to("Agent-1")), timeout=WAIT_MS)
    assert "queued again (Agent-1)" in window.statusBar().currentMessage()

    window.stop_action.trigger()  # nothing queued now: nothing to re-queue
    qtbot.waitUntil(lambda: banner.label.text().startswith("STOPPED — 0 deliveries cancelled"), timeout=WAIT_MS)
    assert not button(window, "requeue").isEnabled()
    saved = window.saveState()  # a layout kept while stopped
    window.resume_action.trigger()
    assert not banner.isVisible()
    window.restoreState(saved)
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=WAIT_MS)  # the state decides, not the layout
    window.close()


def test_a_gui_pause_shows_who_why_and_how_many_wait_with_skip_and_send_anyway(make_ctx, qtbot):
    ctx, window = queued_window(make_ctx, qtbot, "Agent-1", "Agent-2")
    banner = window.status.banner
    ctx.delivery.sig_delivery_event.emit(DeliveryEvent(
        1, "m", "Agent-1", "paused", detail="GUI delivery paused until you resume: a person is at the mouse"))
    qtbot.waitUntil(lambda: banner.label.text().endswith("— 2 waiting"), timeout=WAIT_MS)  # the 1 s count
    assert banner.label.text() == "GUI PAUSED on Agent-1: a person is at the mouse — 2 waiting"
    assert [n for n, b in banner.buttons.items() if b.isVisibleTo(banner)] == ["resume", "skip", "force"]
    assert button(window, "skip").isEnabled() and not button(window, "force").isEnabled()  # no draft
    ctx.delivery.sig_resumed.emit()
    assert not banner.isVisible()
    window.close()


def test_a_draft_pause_says_what_to_do_in_two_lines_then_an_ellipsis_where_narrow(make_ctx, qtbot):
    ctx, window = queued_window(make_ctx, qtbot, "Agent-1")
    window.resize(680, 700)  # the panel's half of a 1366-pixel screen
    banner = window.status.banner
    draft = DraftInInput("Agent-1", "half typed idea", (10, 10))
    ctx.delivery.sig_delivery_event.emit(DeliveryEvent(1, "m", "Agent-1", "paused", detail=f"{PAUSE_PREFIX}{draft}"))
    qtbot.waitUntil(lambda: banner.label.text().endswith("— 1 waiting"), timeout=WAIT_MS)
    assert banner.label.text() == "GUI PAUSED on Agent-1: send or clear the draft, then resume — 1 waiting"
    assert "half typed idea" in banner.label.toolTip()
    text = banner.label.text()
    label = Wrapped(text)  # as wide as the text takes (this font), then narrower
    qtbot.addWidget(label)
    whole = QFontMetricsF(label.font()).horizontalAdvance(text)
    label.resize(math.ceil(whole) + 2, label.sizeHint().height())
    assert label.lines() == [text]
    label.resize(math.ceil(whole * 0.7), label.sizeHint().height())
    assert len(label.lines()) == 2 and " ".join(label.lines()) == text  # all of it, in two lines
    label.resize(math.ceil(whole * 0.3), label.sizeHint().height())
    shown = " ".join(label.lines())
    assert len(label.lines()) == 2 and shown.endswith("…") and text.startswith(shown[:-1])
    label.setText("disk full:\nno space left")  # an error's own line breaks: one line here
    label.resize(math.ceil(whole) + 2, label.sizeHint().height())
    assert label.lines() == ["disk full: no space left"]
    assert button(window, "force").isEnabled()  # a draft: Send anyway types over it when the captain says so
    window.close()


def test_the_status_bar_headline_names_who_cannot_be_reached_and_why(make_ctx, qtbot):
    ctx = make_ctx()
    window = MainWindow(ctx, [])
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: "UP" in window.health_label.text(), timeout=WAIT_MS)
    assert "2/2 reachable" in window.health_label.text()
    ctx.delivery.dispatcher.breakers.get("Agent-2").force_open()
    qtbot.waitUntil(lambda: "DEGRADED" in window.health_label.text(), timeout=WAIT_MS)  # the 1 s tick
    assert "1/2 reachable · Agent-2 forced open by you" in window.health_label.text()
    assert "score 50/100" in window.health_label.toolTip() and "last 15 min" in window.health_label.toolTip()
    assert not window.status.banner.isVisibleTo(window)  # a forced breaker is no stop
    window.close()


def test_a_storage_fault_in_a_background_job_is_said_in_the_banner_until_dismissed(make_ctx, qtbot, tmp_path):
    import errno

    ctx, window = queued_window(make_ctx, qtbot, "Agent-1")
    banner = window.status.banner

    def write():
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "outbox"))

    ctx.jobs.run(write, lambda _: None, lambda _: None)
    qtbot.waitUntil(banner.isVisible, timeout=WAIT_MS)
    assert banner.label.text().startswith("STORAGE PROBLEM — ") and "is full" in banner.label.text()
    assert str(tmp_path / "outbox") in banner.label.text()
    assert [n for n, b in banner.buttons.items() if b.isVisibleTo(banner)] == ["dismiss"]
    done: list[int] = []
    ctx.jobs.run(lambda: 7, done.append)  # the panel keeps working
    qtbot.waitUntil(lambda: done == [7], timeout=WAIT_MS)
    qtbot.mouseClick(button(window, "dismiss"), Qt.MouseButton.LeftButton)
    assert not banner.isVisible()


def test_a_stop_that_could_not_be_recorded_says_it_halted_this_window_only(make_ctx, qtbot, monkeypatch):
    from quarterdeck.core.store.faults import StorageFault

    ctx, window = queued_window(make_ctx, qtbot, "Agent-1")
    banner = window.status.banner
    real = ctx.session.dispatcher.stop_everywhere

    def full(*_: object) -> int:
        raise StorageFault("full", ctx.store.path, "SQLite: database or disk is full")

    monkeypatch.setattr(ctx.session.dispatcher, "stop_everywhere", full)
    window.stop_action.trigger()
    qtbot.waitUntil(lambda: banner.label.text().startswith("STOPPED HERE ONLY"), timeout=WAIT_MS)
    assert "the queue is not cancelled and other processes and relays were not told; press Stop all again" in (
        banner.label.text())
    assert "is full" in banner.label.text() and ctx.delivery.halted
    assert ctx.store.counts_by_state()["queued"] == 1  # not cancelled: the banner does not say it was
    monkeypatch.setattr(ctx.session.dispatcher, "stop_everywhere", real)
    window.stop_action.trigger()  # again, once the disk has room
    qtbot.waitUntil(lambda: banner.label.text() == "STOPPED — 1 delivery cancelled · 0 sending", timeout=WAIT_MS)
    window.close()


def test_a_refused_send_leaves_the_stop_and_an_accepted_one_lifts_it(make_ctx, qtbot):
    ctx, window = queued_window(make_ctx, qtbot, "Agent-1")
    banner = window.status.banner
    window.stop_action.trigger()
    qtbot.waitUntil(lambda: banner.label.text().startswith("STOPPED — 1 delivery cancelled"), timeout=WAIT_MS)
    refused: list[BaseException] = []
    ctx.submit(Message(sender="Captain", recipients=["Nobody-9"], content="To nobody."), on_error=refused.append)
    qtbot.waitUntil(lambda: bool(refused), timeout=WAIT_MS)
    assert ctx.delivery.halted and banner.isVisible()  # nothing was queued: the stop stands
    with qtbot.waitSignal(ctx.sig_submitted, timeout=WAIT_MS):
        ctx.submit(Message(sender="Captain", recipients=["Agent-1"], content="After the stop."))
    assert not ctx.delivery.halted  # a send that is queued lifts it here
    window.close()


def test_a_stop_pressed_while_a_send_is_being_queued_stands(make_ctx, qtbot, monkeypatch):
    import time

    ctx, window = queued_window(make_ctx, qtbot, "Agent-1")
    real = type(ctx.session).submit

    def slow(self, *args, **kwargs):  # validation and the relays read: the send's job takes a while
        time.sleep(0.3)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(type(ctx.session), "submit", slow)
    with qtbot.waitSignal(ctx.sig_submitted, timeout=WAIT_MS):
        ctx.submit(Message(sender="Captain", recipients=["Agent-1"], content="Oops, not this."))
        window.stop_action.trigger()  # Esc while it is being queued
    assert ctx.delivery.halted and "STOPPED" in window.status.banner.label.text()
    window.close()


def test_after_a_send_lifts_the_stop_here_resume_still_lifts_it_everywhere(make_ctx, qtbot):
    ctx, window = queued_window(make_ctx, qtbot, "Agent-1")
    window.stop_action.trigger()
    qtbot.waitUntil(lambda: window.status.banner.label.text().startswith("STOPPED — 1 delivery"), timeout=WAIT_MS)
    with qtbot.waitSignal(ctx.sig_submitted, timeout=WAIT_MS):
        ctx.submit(Message(sender="Captain", recipients=["Agent-1"], content="After the stop."))
    assert not ctx.delivery.halted  # this window delivers again
    mark = ctx.store.stop_mark()
    assert mark.generation > mark.resumed_after  # recorded stopped: other processes and the relays stay so
    assert "STOPPED ELSEWHERE" in window.stop_label.text() and window.resume_action.isEnabled()
    window.resume_action.trigger()
    qtbot.waitUntil(lambda: ctx.store.stop_mark().resumed_after == ctx.store.stop_mark().generation,
                    timeout=WAIT_MS)  # a resume-all recorded (and told to the relays)
    assert window.stop_label.text() == "" and not window.resume_action.isEnabled()
    window.close()
