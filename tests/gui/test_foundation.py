"""The panel's plumbing: the background runner, the delivery thread, the window and the palette."""
from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt, QThread

from quarterdeck.core.models import Message
from quarterdeck.gui.jobs import Jobs
from quarterdeck.gui.mainwindow import MainWindow
from quarterdeck.gui.palette import CommandPalette, matches


def test_jobs_run_off_the_ui_thread_in_order_and_report_errors(qtbot):
    jobs = Jobs()
    ui = threading.get_ident()
    seen: list[object] = []
    errors: list[BaseException] = []
    jobs.run(lambda: threading.get_ident(), seen.append)
    jobs.run(lambda: 1 / 0, seen.append, errors.append)
    jobs.run(lambda: "last", seen.append)
    qtbot.waitUntil(lambda: len(seen) == 2 and len(errors) == 1)
    assert seen[0] != ui and seen[1] == "last"
    assert isinstance(errors[0], ZeroDivisionError)
    with qtbot.waitSignal(jobs.sig_job_failed) as failed:
        jobs.run(lambda: [][1])
    assert "IndexError" in failed.args[0]
    assert jobs.shutdown()


def test_jobs_shutdown_still_runs_what_was_asked_for(qtbot):
    jobs = Jobs()
    ran = threading.Event()
    gate = threading.Event()
    jobs.run(lambda: gate.wait(2))
    jobs.run(ran.set)
    gate.set()
    assert jobs.shutdown()
    assert ran.is_set()
    with pytest.raises(RuntimeError, match="shut down"):
        jobs.run(ran.set)


def test_every_job_uses_the_runners_one_outbox_connection(qtbot, tmp_path):
    """Thread-local data lasts from one job to the next: the store's connection on the runner's thread
    is opened once, not for every job (an idle panel's polls did that several times a second)."""
    from quarterdeck.core.store.outbox import Store

    store, jobs = Store(tmp_path / "q.sqlite3"), Jobs()
    used: list[object] = []
    try:
        for _ in range(20):
            jobs.run(store.connection, used.append)
        qtbot.waitUntil(lambda: len(used) == 20)
        assert all(conn is used[0] for conn in used) and store._conns.open_count() == 2  # this thread's, its
    finally:
        jobs.shutdown()
        store.close()


def test_a_message_submitted_from_the_panel_is_delivered_on_the_delivery_thread(make_ctx, qtbot, transports):
    ctx = make_ctx()
    threads: list[str] = []
    ctx.session.dispatcher.add_listener(lambda e: threads.append(QThread.currentThread().objectName()))
    states: list[tuple[str, str]] = []
    ctx.delivery.sig_delivery_event.connect(lambda e: states.append((e.agent_id, e.state)))
    message = Message(sender="Captain", recipients=["Agent-1", "Agent-2"], content="Status report, please.")
    with qtbot.waitSignal(ctx.sig_submitted):
        ctx.submit(message)
    qtbot.waitUntil(lambda: states.count(("Agent-1", "delivered")) + states.count(("Agent-2", "delivered")) == 2)
    assert set(threads) == {"quarterdeck-delivery"}
    assert transports.sent_to("Agent-2")[0].endswith("Status report, please.")


def test_stop_all_halts_at_once_and_cancels_the_queue_in_the_background(make_ctx, qtbot):
    ctx = make_ctx(start=False)
    message = Message(sender="Captain", recipients=["Agent-1", "Agent-2"], content="Hold on.")
    ctx.session.submit(message)
    with qtbot.waitSignal(ctx.delivery.sig_stopped) as stopped:
        ctx.delivery.stop_all()
    assert ctx.delivery.halted and stopped.args == [2]
    assert ctx.store.counts_by_state().get("cancelled") == 2
    with qtbot.waitSignal(ctx.delivery.sig_resumed):
        ctx.delivery.resume()
    assert not ctx.delivery.halted


def test_closing_keeps_queued_messages_for_the_next_start(make_ctx, qtbot, transports, monkeypatch):
    from gui_fixtures import LoopPasses

    ctx = make_ctx()
    passes = LoopPasses(ctx.session.dispatcher, monkeypatch)
    ctx.session.dispatcher.halt()  # nothing is typed, as if the window closed before its turn
    passes.wait_for_a_new_pass(qtbot)  # so a pass that began before the halt has ended
    ctx.session.submit(Message(sender="Captain", recipients=["Agent-1"], content="Later."))
    ctx.delivery.shutdown()
    assert ctx.store.counts_by_state().get("queued") == 1


def test_window_has_stop_all_health_and_queue_and_remembers_its_layout(make_ctx, qtbot):
    ctx = make_ctx()
    window = MainWindow(ctx, [])
    qtbot.addWidget(window)
    window.show()
    # the health line is refreshed every second: UP once the delivery thread is serving
    qtbot.waitUntil(lambda: "0 queued" in window.queue_label.text() and "UP" in window.health_label.text(),
                    timeout=3000)
    assert window.findChild(object, "stop-all-button").isVisible()
    assert window.stop_action.shortcut().toString() == "Esc"
    window.stop_action.trigger()
    qtbot.waitUntil(lambda: "STOPPED" in window.stop_label.text() and window.resume_action.isEnabled())
    window.resize(900, 700)
    window.close()
    assert ctx.settings.get_bytes("window/geometry") is not None


def test_palette_filters_commands_and_agents_and_runs_the_choice(make_ctx, qtbot):
    ctx = make_ctx()
    window = MainWindow(ctx, [])
    qtbot.addWidget(window)
    window.open_palette()
    palette: CommandPalette = window.palette_dialog
    palette.query.setText("stop")
    labels = [i.text() for i in palette.visible_items()]
    assert labels and labels[0].startswith("Stop all")
    with qtbot.waitSignal(ctx.delivery.sig_halted):
        palette.run_current()
    window.open_palette()
    palette.query.setText("agent 2")
    with qtbot.waitSignal(ctx.sig_agent_focused) as focused:
        qtbot.keyClick(palette.query, Qt.Key.Key_Return)
    assert focused.args == ["Agent-2"]


def test_palette_matching_is_word_by_word_in_any_order():
    assert matches("all stop", "Stop all    Esc")
    assert not matches("resume x", "Resume")


def test_a_person_at_the_mouse_pauses_gui_delivery_until_resume(make_ctx, qtbot, transports, monkeypatch):
    from gui_fixtures import LoopPasses

    from quarterdeck.core.models import Agent, GuiTransport
    from quarterdeck.core.roster.roster import Roster

    ctx = make_ctx(Roster((Agent(id="Agent-1", transport=GuiTransport(chat=(5, 5))),)))
    window = MainWindow(ctx, [])
    qtbot.addWidget(window)
    # a GUI agent whose first delivery finds a person at the mouse, then types (dry run)
    ctx.session.dispatcher._factory = lambda agent: _Interrupted(transports(agent))
    with qtbot.waitSignal(ctx.delivery.sig_delivery_event, check_params_cb=lambda e: e.state == "paused"):
        ctx.submit(Message(sender="Captain", recipients=["Agent-1"], content="Hands off the mouse."))
    assert "GUI PAUSED" in window.stop_label.text() and window.resume_action.isEnabled()
    LoopPasses(ctx.session.dispatcher, monkeypatch).wait_for_a_new_pass(qtbot)  # the GUI agent stays held
    assert ctx.store.counts_by_state()["queued"] == 1 and not transports.sent_to("Agent-1")
    with qtbot.waitSignal(ctx.delivery.sig_delivery_event, check_params_cb=lambda e: e.state == "delivered"):
        window.resume_action.trigger()
    assert not window.resume_action.isEnabled() and window.stop_label.text() == ""


def paused_window(make_ctx, qtbot, transports, content: str):
    """A panel whose one GUI agent's delivery of ``content`` found a person at the mouse: paused."""
    from quarterdeck.core.models import Agent, GuiTransport
    from quarterdeck.core.roster.roster import Roster

    ctx = make_ctx(Roster((Agent(id="Agent-1", transport=GuiTransport(chat=(5, 5))),)))
    window = MainWindow(ctx, [])
    qtbot.addWidget(window)
    ctx.session.dispatcher._factory = lambda agent: _Interrupted(transports(agent))
    with qtbot.waitSignal(ctx.delivery.sig_delivery_event, check_params_cb=lambda e: e.state == "paused"):
        ctx.submit(Message(sender="Captain", recipients=["Agent-1"], content=content))
    return ctx, window


def test_skip_leaves_out_the_delivery_gui_delivery_paused_on(make_ctx, qtbot, transports):
    ctx, window = paused_window(make_ctx, qtbot, transports, "Leave this one out.")
    assert window.skip_action.isEnabled() and not window.force_action.isEnabled()  # a mouse, not a draft
    with qtbot.waitSignal(ctx.delivery.sig_delivery_event, check_params_cb=lambda e: e.state == "cancelled"):
        window.skip_action.trigger()
    qtbot.waitUntil(lambda: not window.skip_action.isEnabled() and window.stop_label.text() == "")
    assert ctx.store.counts_by_state()["cancelled"] == 1 and not transports.sent_to("Agent-1")


def test_a_send_lifts_no_pause_its_own_delivery_met(make_ctx, qtbot, transports):
    """The send's queued step (on the UI thread) may come after its delivery already met a person at
    the mouse: lifting the pause then would type under their hand."""
    from quarterdeck.core.models import Agent, GuiTransport
    from quarterdeck.core.roster.roster import Roster

    ctx = make_ctx(Roster((Agent(id="Agent-1", transport=GuiTransport(chat=(5, 5))),)))
    window = MainWindow(ctx, [])
    qtbot.addWidget(window)
    ctx.session.dispatcher._factory = lambda agent: _Interrupted(transports(agent))
    began = ctx.delivery.lifts  # as the send read them when it began
    with qtbot.waitSignal(ctx.delivery.sig_delivery_event, check_params_cb=lambda e: e.state == "paused"):
        ctx.session.submit(Message(sender="Captain", recipients=["Agent-1"], content="Not under their hand."))
        ctx.delivery.notify()
    ctx.delivery.lift_for_send(*began)  # the send's queued step, late
    qtbot.wait(500)
    assert ctx.session.dispatcher.gui_paused and window.skip_action.isEnabled()
    assert not transports.sent_to("Agent-1")


def test_stop_all_while_paused_leaves_nothing_to_skip_or_send_anyway(make_ctx, qtbot, transports):
    ctx, window = paused_window(make_ctx, qtbot, transports, "Held by a pause.")
    assert window.skip_action.isEnabled()
    with qtbot.waitSignal(ctx.delivery.sig_stopped):
        window.stop_action.trigger()
    assert not window.skip_action.isEnabled() and not window.force_action.isEnabled()
    assert "STOPPED" in window.stop_label.text()  # only Resume lifts it
    qtbot.waitUntil(lambda: ctx.store.counts_by_state().get("cancelled") == 1)
    assert not transports.sent_to("Agent-1")


class _Interrupted:
    """Raises the GUI transport's human-activity error once, then delivers."""

    def __init__(self, inner) -> None:
        self.inner, self.raised = inner, False

    def deliver(self, request, stop):
        from quarterdeck.core.delivery.errors import HumanActivity

        if not self.raised:
            self.raised = True
            raise HumanActivity((1, 1), (50, 60))
        return self.inner.deliver(request, stop)


def test_the_whole_window_with_every_panel_after_real_deliveries(make_ctx, qtbot, transports):
    """Every panel docked in one window, fed by real deliveries (one agent failing); saved as
    a screenshot artifact to look at."""
    from gui_fixtures import dry_roster, saved_shot

    from quarterdeck.gui.app import load_panels

    transports.fail_times["Agent-3"] = 10**6
    ctx = make_ctx(dry_roster("Agent-1", "Agent-2", "Agent-3", roles={"Agent-3": "tests"}))
    window = MainWindow(ctx, load_panels())
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    finished: list[str] = []
    ctx.delivery.sig_delivery_event.connect(
        lambda e: finished.append(e.state) if e.state in ("delivered", "failed") else None)
    ctx.submit(Message(sender="Captain", type="broadcast", content="Post your status and push your branch."))
    qtbot.waitUntil(lambda: len(finished) == 3, timeout=10_000)
    assert sorted(finished) == ["delivered", "delivered", "failed"]
    assert set(window.panels) >= {"roster", "composer", "rules", "charts", "health", "history"}
    # the 1 s status and health refresh shows the failing agent
    qtbot.waitUntil(lambda: "DEGRADED" in window.health_label.text(), timeout=5000)
    assert "#f9a825" in window.health_label.text()
    saved_shot(window, "main-window.png")
    window.close()


def test_compact_layout_for_the_demo_fits_half_a_screen_and_is_remembered_apart(make_ctx, qtbot):
    from PySide6.QtCore import Qt as QtNS

    from quarterdeck.gui.app import load_panels

    ctx = make_ctx()
    window = MainWindow(ctx, load_panels())
    qtbot.addWidget(window)
    window.compact()
    window.show()
    qtbot.waitExposed(window)
    visible = {name for name, dock in window.docks.items() if dock.isVisible()}
    assert visible == {"roster", "composer", "history"}
    assert window.dockWidgetArea(window.docks["composer"]) == QtNS.DockWidgetArea.LeftDockWidgetArea
    assert window.minimumSizeHint().width() <= 960
    window.docks["history"].close()  # the captain closes a panel in the demo
    window.close()
    assert ctx.settings.get_bytes("window/state") is None  # the usual layout is not the demo's
    assert ctx.settings.get_bytes("demo/window/state") is not None
    usual = MainWindow(ctx, load_panels())  # a start with a roster: the usual (first start) layout
    qtbot.addWidget(usual)
    assert not usual.docks["history"].isHidden()
    usual.close()
    again = MainWindow(ctx, load_panels())  # the next demo start: the demo's layout as it was left
    qtbot.addWidget(again)
    again.compact()
    again.show()
    qtbot.waitExposed(again)
    assert again.docks["history"].isHidden() and not again.navigator.show_actions["history"].isChecked()
    assert again.docks["composer"].isVisible() and again.layout_guard.kept()
    again.navigator.reset_action.trigger()  # View → Reset layout in the demo forgets the demo's layout only
    assert ctx.settings.get_bytes("demo/window/state") is None and not again.layout_guard.kept()
    assert ctx.settings.get_bytes("window/state") is not None
    again.close()


def test_every_panel_docked_still_fits_a_small_laptop_screen(make_ctx, qtbot, monkeypatch):
    import quarterdeck.gui.mainwindow as mainwindow
    import quarterdeck.gui.panel as panel_module
    from quarterdeck.gui.app import load_panels

    # the test screen stands in for a 1366x768 one: counted as short, and a dock insists on its
    # panel's minimum only up to a share of the screen as small as 0.45 of ~700 px would be
    monkeypatch.setattr(mainwindow, "SHORT_SCREEN_PX", 100_000)
    monkeypatch.setattr(panel_module, "MIN_SHARE", (0.45, 0.3))
    ctx = make_ctx()
    window = MainWindow(ctx, load_panels())
    qtbot.addWidget(window)
    hint = window.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 700, hint  # 1366x768 less a panel bar
    assert window.docks["health"] in window.tabifiedDockWidgets(window.docks["history"])
    cap = int(window.screen().availableGeometry().height() * 0.3)
    scrolls = {name: panel.parentWidget().parentWidget() for name, panel in window.panels.items()}
    assert all(scroll.minimumSizeHint().height() <= cap for scroll in scrolls.values())
    assert any(panel.minimumSizeHint().height() > cap for panel in window.panels.values())  # they would
    window.resize(1000, 480)  # smaller still: the charts dock is shorter than the charts need
    window.show()
    window.docks["charts"].raise_()
    charts = window.panels["charts"]
    qtbot.waitUntil(charts.isVisible)
    scroll = charts.parentWidget().parentWidget()  # the dock's scroll area (viewport, then area)
    bar = scroll.verticalScrollBar()
    # the panel keeps its own minimum and the dock scrolls to every part of it
    qtbot.waitUntil(lambda: charts.height() >= charts.minimumSizeHint().height() > scroll.viewport().height())
    qtbot.waitUntil(lambda: bar.maximum() == charts.height() - scroll.viewport().height())
    window.close()


def test_the_status_bar_shows_health_up_as_soon_as_the_delivery_loop_serves(make_ctx, qtbot):
    ctx = make_ctx(start=False)
    window = MainWindow(ctx, [])
    qtbot.addWidget(window)
    assert "DOWN" in window.health_label.text()  # built before the loop: it is not running yet
    with qtbot.waitSignal(ctx.delivery.sig_serving, timeout=5000):
        ctx.start()
    assert "UP" in window.health_label.text()  # refreshed by the loop's start, not the 1 s tick
    window.close()
