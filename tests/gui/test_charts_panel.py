"""The Charts panel fed by a real monitor: persistent curves, windows, pause, breaker timeline."""
from __future__ import annotations

import numpy as np
import pytest
from gui_fixtures import dry_roster, saved_shot
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QKeySequence, QWheelEvent
from PySide6.QtWidgets import QApplication

from quarterdeck.core.models import Message
from quarterdeck.core.monitor.fleet import BREAKER_GAUGE, QUEUE_GAUGES
from quarterdeck.core.resilience import State
from quarterdeck.gui.charts.panel import ChartsPanel
from quarterdeck.gui.charts.plots import CHARTS
from quarterdeck.gui.charts.style import STATE_COLOURS


class Clock:
    """The panel's and the samples' clock, moved by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def open_panel(make_ctx, qtbot, request):
    def make(ctx=None, **kw) -> ChartsPanel:
        panel = ChartsPanel(ctx if ctx is not None else make_ctx(), **kw)
        request.addfinalizer(panel.shutdown)  # before the context shuts down
        qtbot.addWidget(panel)
        panel.resize(1300, 380)
        panel.show()
        qtbot.waitExposed(panel)
        return panel

    return make


def send(ctx, qtbot, *recipients: str, content: str = "Status report, please.") -> None:
    with qtbot.waitSignal(ctx.sig_submitted):
        ctx.submit(Message(sender="Captain", recipients=list(recipients), content=content))


def wait_for_timeouts(qtbot, timer: QTimer, n: int, timeout: int = 5000) -> None:
    """Wait until ``timer`` has fired ``n`` more times (the panel's handler, connected first, ran each time)."""
    fired: list[None] = []

    def count() -> None:
        fired.append(None)

    timer.timeout.connect(count)
    try:
        qtbot.waitUntil(lambda: len(fired) >= n, timeout=timeout)
    finally:
        timer.timeout.disconnect(count)


def original(curve) -> tuple[np.ndarray, np.ndarray]:
    x, y = curve.getOriginalDataset()
    return (np.empty(0), np.empty(0)) if x is None else (x, y)


def shows_series(panel: ChartsPanel, key: str, name: str, labels=None, factor: float = 1.0) -> bool:
    t, v = panel.ctx.monitor.series(name, labels)
    x, y = original(panel.grid.curves[key])
    return (len(t) > 0 and np.array_equal(x, t + panel.grid.offset)
            and np.array_equal(y, v * factor, equal_nan=True))


def test_is_a_bottom_panel_offering_pause_and_the_windows(make_ctx, qtbot, open_panel):
    panel = open_panel()
    assert (panel.NAME, panel.TITLE, panel.AREA) == ("charts", "Charts", Qt.DockWidgetArea.BottomDockWidgetArea)
    pause, *windows = panel.commands()
    assert pause.shortcut() == QKeySequence("Ctrl+Shift+P") and pause.isCheckable()
    assert [a.text() for a in windows] == [f"Charts: show the last {w}" for w in ("1 min", "5 min", "15 min", "1 h")]
    assert [a for a in windows if a.isChecked()] == [panel.window_actions[300]]
    titles = [panel.grid.plots[c.key].titleLabel.text for c in CHARTS]
    assert [t.split("<br>")[0] for t in titles] == [
        "Deliveries per second", "Latency (seconds)", "Failure rate (%)", "Outbox queue (all agents)"]
    latency = panel.grid.legend("latency")
    assert [label for label, _ in latency] == ["p50", "p95", "p99"]
    assert len({colour for _, colour in latency}) == 3  # the key tells the curves apart
    for label, colour in latency:
        assert f"color:{colour}" in titles[1] and label in titles[1]
    pens = {curve.opts["pen"].color().name() for curve in panel.grid.curves.values()}
    assert {colour for _, colour in latency} <= pens
    assert panel.grid.timeline.agents == ("Agent-1", "Agent-2")
    assert panel.agent_box.count() == 3 and panel.agent is None


def test_curves_persist_and_show_the_monitor_series_after_real_deliveries(make_ctx, qtbot, open_panel):
    ctx = make_ctx()
    panel = open_panel(ctx)
    curves = dict(panel.grid.curves)
    for curve in curves.values():
        assert curve.opts["antialias"] is False and curve.opts["clipToView"] is True
        assert curve.opts["autoDownsample"] is True and curve.opts["downsampleMethod"] == "peak"
    for n in range(3):
        send(ctx, qtbot, "Agent-1", "Agent-2", content=f"Round {n}")
        qtbot.waitUntil(lambda n=n: ctx.monitor.delivery_stats()["unverified"] == 2 * (n + 1), timeout=5000)
        ctx.monitor.sample()
    qtbot.waitUntil(lambda: panel._queue != {}, timeout=3000)
    ctx.monitor.sample()
    qtbot.waitUntil(lambda: shows_series(panel, "p95", "delivery_p95_seconds"), timeout=2000)
    assert shows_series(panel, "finished", "delivery_throughput")
    assert shows_series(panel, "failure_rate", "delivery_failure_rate", factor=100.0)
    assert shows_series(panel, "queued", QUEUE_GAUGES["queued"])
    _t, thr = ctx.monitor.series("delivery_throughput")
    assert np.nanmax(thr) > 0
    assert np.array_equal(original(panel.grid.curves["failed"])[1],
                          ctx.monitor.series("delivery_failed_throughput")[1], equal_nan=True)
    assert np.nanmax(ctx.monitor.series("delivery_failed_throughput")[1]) < np.nanmax(thr)  # not all failed
    panel.set_agent("Agent-2")
    qtbot.waitUntil(lambda: shows_series(panel, "p50", "delivery_p50_seconds", {"agent": "Agent-2"}), timeout=2000)
    assert shows_series(panel, "queued", QUEUE_GAUGES["queued"])  # the queue is always the whole outbox
    assert panel.grid.curves == curves and all(panel.grid.curves[k] is c for k, c in curves.items())
    assert "Agent-2" in panel.now_label.text()
    ctx.sig_agent_focused.emit("Agent-1")
    assert panel.agent == "Agent-1"


def fill(ctx, clock: Clock, points: int) -> None:
    """``points`` samples a second apart, ending now, with an explicit ``now`` each."""
    for n in range(points):
        ctx.monitor.sample(clock.now - points + 1 + n)


def test_the_window_choice_sets_the_visible_time_range(make_ctx, qtbot, open_panel):
    ctx = make_ctx(start=False)
    clock = Clock(10_000.0)
    fill(ctx, clock, 3600)
    panel = open_panel(ctx, clock=clock)
    offset = panel.grid.offset
    for seconds in (60, 900, 3600, 300):
        panel.set_window(seconds)
        low, high = panel.grid.x_range()
        assert high - low == pytest.approx(seconds)
        assert clock.now + offset <= high < clock.now + offset + seconds / 60  # steps of 1/60
    panel.window_actions[900].trigger()
    assert panel.window_seconds == 900 and panel.window_box.currentData() == 900
    assert ctx.settings.get("charts/window", 300, int) == 900
    again = ChartsPanel(ctx, clock=clock)
    again.shutdown()
    assert again.window_seconds == 900  # remembered
    again.deleteLater()
    clock.now += 30
    panel._tick_timer.timeout.emit()  # the 1 s tick follows the present
    assert clock.now + offset <= panel.grid.x_range()[1] < clock.now + offset + 15
    assert len(original(panel.grid.curves["p95"])[0]) == ctx.monitor.max_data_points


def test_pause_stops_feeding_the_curves_and_resume_catches_up(make_ctx, qtbot, open_panel):
    ctx = make_ctx(start=False)
    clock = Clock(5_000.0)
    fill(ctx, clock, 100)
    panel = open_panel(ctx, clock=clock)
    qtbot.waitUntil(lambda: len(original(panel.grid.curves["finished"])[0]) == 100)
    calls = []
    panel.grid.curves["finished"].sigPlotChanged.connect(lambda *_: calls.append(1))
    panel.pause_action.trigger()
    assert panel.paused and panel.pause_button.text() == "Resume"
    before = panel.grid.x_range()
    clock.now += 5
    ctx.monitor.sample(clock.now)
    wait_for_timeouts(qtbot, panel._frame_timer, 3)  # several frames: none feeds the curves
    panel._tick_timer.timeout.emit()  # nor does a tick
    assert calls == [] and len(original(panel.grid.curves["finished"])[0]) == 100
    assert panel.grid.x_range() == before and "paused" in panel.now_label.text()
    panel.set_agent("Agent-1")  # another agent while paused: its data, the same view
    assert panel.grid.x_range() == before and panel.paused
    panel.set_agent(None)
    panel.pause_action.trigger()
    assert len(original(panel.grid.curves["finished"])[0]) == 101 and calls
    assert clock.now + panel.grid.offset <= panel.grid.x_range()[1] < clock.now + panel.grid.offset + 5


def test_zooming_with_the_mouse_pauses_the_charts(make_ctx, qtbot, open_panel):
    ctx = make_ctx(start=False)
    clock = Clock(7_000.0)
    fill(ctx, clock, 600)
    panel = open_panel(ctx, clock=clock)
    box = panel.grid.plots["latency"].getViewBox()
    centre = panel.grid.mapFromScene(box.sceneBoundingRect().center())
    wheel = QWheelEvent(QPointF(centre), QPointF(panel.grid.mapToGlobal(centre)), QPoint(0, 0), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
                        False)
    width = np.diff(panel.grid.x_range())[0]
    QApplication.sendEvent(panel.grid.viewport(), wheel)
    assert panel.paused
    assert np.diff(panel.grid.x_range())[0] < width  # zoomed in, and every chart with it
    assert panel.grid.plots["rate"].getViewBox().viewRange()[0] == box.viewRange()[0]


def test_the_breaker_timeline_shows_open_after_a_failing_agent_trips(make_ctx, qtbot, open_panel, transports):
    transports.fail_times["Agent-2"] = 1000
    ctx = make_ctx()
    panel = open_panel(ctx)
    panel.set_window(60)
    timeline = panel.grid.timeline
    assert timeline.state_at_end("Agent-2") is State.CLOSED
    for n in range(ctx.config.circuit_breaker_threshold):
        send(ctx, qtbot, "Agent-1", "Agent-2", content=f"Try {n}")
    qtbot.waitUntil(lambda: timeline.state_at_end("Agent-2") is State.OPEN, timeout=10_000)
    assert timeline.state_at_end("Agent-1") is State.CLOSED
    open_band = [b for b in timeline.bands if b.agent == "Agent-2"][-1]
    row = timeline.agents.index("Agent-2")
    n = timeline.bands.index(open_band)
    brush = timeline.bars.opts["brushes"][n]
    assert brush.color().name() == STATE_COLOURS[State.OPEN]
    assert timeline.bars.opts["y0"][n] < row < timeline.bars.opts["y1"][n]
    assert timeline.bars.opts["x0"][n] == pytest.approx(open_band.start + panel.grid.offset)
    ctx.monitor.sample()
    assert ctx.monitor.series(BREAKER_GAUGE, {"agent": "Agent-2"})[1][-1] == State.OPEN
    ctx.delivery.dispatcher.breakers.get("Agent-1").force_open()
    qtbot.waitUntil(lambda: timeline.state_at_end("Agent-1") is State.FORCED_OPEN)


def test_the_activity_timeline_replays_the_recorded_agent_events(make_ctx, qtbot, open_panel):
    import time

    from quarterdeck.core.activity.events import ActivityEvent
    from quarterdeck.core.activity.record import record
    from quarterdeck.gui.activity.cells import COLOURS

    ctx = make_ctx()
    data_dir = ctx.store.path.parent
    now = time.time()
    record(data_dir, ActivityEvent("Agent-1", "claude-code", "prompt_submitted", "UserPromptSubmit", now - 40))
    record(data_dir, ActivityEvent("Agent-1", "claude-code", "needs_you", "Notification", now - 25,
                                   waits_for="permission"))
    record(data_dir, ActivityEvent("Agent-2", "tmux-watch", "seen_idle", "pane quiet 5 s", now - 30))
    panel = open_panel(ctx)
    panel.set_window(60)
    activity = panel.grid.activity
    qtbot.waitUntil(lambda: activity.state_at_end("Agent-1") == "needs-you", timeout=5000)
    assert activity.state_at_end("Agent-2") == "idle"
    mine = [b for b in activity.bands if b.agent == "Agent-1"]
    assert [b.state for b in mine] == ["unknown", "working", "needs-you"]
    n = activity.bands.index(mine[-1])
    assert activity.bars.opts["brushes"][n].color().name() == COLOURS["needs-you"]
    tip = activity.toolTip()
    assert tip.startswith("Time in each state, last 60 s:")
    assert "Agent-1: needs-you 2" in tip and "working 15 s" in tip and "Agent-2: idle 3" in tip


def test_a_roster_change_updates_the_rows_and_the_agent_choice(make_ctx, qtbot, open_panel):
    ctx = make_ctx()
    panel = open_panel(ctx)
    panel.set_agent("Agent-2")
    with qtbot.waitSignal(ctx.sig_roster_changed):
        ctx.set_roster(dry_roster("Agent-2", "Agent-3", "Agent-4"))
    assert panel.grid.timeline.agents == ("Agent-2", "Agent-3", "Agent-4")
    assert [panel.agent_box.itemData(i) for i in range(panel.agent_box.count())] == [
        None, "Agent-2", "Agent-3", "Agent-4"]
    assert panel.agent == "Agent-2"
    assert timeline_agents_with_bands(panel) == {"Agent-2", "Agent-3", "Agent-4"}
    with qtbot.waitSignal(ctx.sig_roster_changed):
        ctx.set_roster(dry_roster("Agent-3"))
    assert panel.agent is None  # the chosen agent left: back to all agents


def timeline_agents_with_bands(panel: ChartsPanel) -> set[str]:
    return {band.agent for band in panel.grid.timeline.bands}


def test_no_timer_runs_after_shutdown(make_ctx, qtbot, open_panel):
    panel = open_panel()
    mine = [panel._frame_timer, panel._tick_timer]
    assert all(t.isActive() for t in mine)
    panel.shutdown()
    assert not [t for t in panel.findChildren(QTimer) if t.isActive()]
    assert not any(t.isActive() for t in mine)


def test_a_hidden_panel_keeps_counting_the_queue_but_draws_nothing(make_ctx, qtbot, open_panel):
    ctx = make_ctx(start=False)
    clock = Clock(3_000.0)
    panel = open_panel(ctx, clock=clock)
    panel.hide()
    fill(ctx, clock, 10)
    counted = []
    original_done = panel._on_counts_done
    panel._on_counts_done = lambda counts: (counted.append(counts), original_done(counts))
    panel._tick_timer.timeout.emit()
    qtbot.waitUntil(lambda: bool(counted))
    wait_for_timeouts(qtbot, panel._frame_timer, 2)  # frames after the count draw nothing while hidden
    assert len(original(panel.grid.curves["finished"])[0]) == 0
    panel.show()
    assert len(original(panel.grid.curves["finished"])[0]) == 10


def test_screenshot_after_real_deliveries_with_one_failing(make_ctx, qtbot, open_panel, transports):
    transports.fail_times["Agent-3"] = 1000
    ctx = make_ctx(roster=dry_roster("Agent-1", "Agent-2", "Agent-3", "Agent-4"))
    panel = open_panel(ctx)
    panel.set_window(60)
    for n in range(8):
        send(ctx, qtbot, "Agent-1", "Agent-2", "Agent-3", "Agent-4", content=f"Round {n}")
        # once its breaker is open, Agent-3's deliveries are refused untried and not counted
        qtbot.waitUntil(lambda n=n: ctx.monitor.delivery_stats()["unverified"] >= 3 * (n + 1), timeout=5000)
        ctx.monitor.sample()
        wait_for_timeouts(qtbot, panel._frame_timer, 1)  # a frame draws the sample
    qtbot.waitUntil(lambda: panel.grid.timeline.state_at_end("Agent-3") is State.OPEN, timeout=5000)
    qtbot.waitUntil(lambda: "failed" in panel.now_label.text(), timeout=3000)
    # the open band has a visible width once a tick draws it a second or more after it opened
    opened = [b for b in panel.grid.timeline.bands if b.agent == "Agent-3"][-1].start
    ticks: list[float] = []
    panel._tick_timer.timeout.connect(lambda: ticks.append(panel.clock()))  # runs after the panel's own
    qtbot.waitUntil(lambda: any(t >= opened + 1.0 for t in ticks), timeout=5000)
    saved_shot(panel, "charts.png")


def test_in_the_window_its_commands_work_and_closing_stops_every_timer(make_ctx, qtbot):
    from quarterdeck.gui.charts.health import HealthPanel
    from quarterdeck.gui.mainwindow import MainWindow

    ctx = make_ctx()
    window = MainWindow(ctx, [ChartsPanel, HealthPanel])
    qtbot.addWidget(window)
    window.show()
    charts, health = window.panels["charts"], window.panels["health"]
    assert window.dockWidgetArea(window.docks["charts"]) == Qt.DockWidgetArea.BottomDockWidgetArea
    assert window.dockWidgetArea(window.docks["health"]) == Qt.DockWidgetArea.LeftDockWidgetArea
    texts = [a.text() for a in window.all_commands()]
    assert {"Pause charts", "Charts: show the last 15 min", "Refresh health now"} <= set(texts)
    charts.pause_action.trigger()
    assert charts.paused
    window.close()
    running = [t for p in (charts, health) for t in p.findChildren(QTimer) if t.isActive()]
    assert running == []


def test_narrow_panels_put_the_charts_two_by_two_and_keep_room_for_every_row(make_ctx, qtbot, open_panel):
    panel = open_panel(make_ctx(roster=dry_roster(*(f"Agent-{n}" for n in range(1, 9)))))
    grid = panel.grid
    assert grid.columns == 4
    assert [grid.ci.items[grid.plots[c.key]][0] for c in CHARTS] == [(0, 0), (0, 1), (0, 2), (0, 3)]
    wide_minimum = grid.minimumHeight()
    panel.resize(620, 380)
    qtbot.waitUntil(lambda: grid.columns == 2)
    assert [grid.ci.items[grid.plots[c.key]][0] for c in CHARTS] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert grid.ci.items[grid.timeline][0] == (2, 0)
    assert grid.minimumHeight() > wide_minimum
    assert grid.timeline.minimumHeight() >= 8 * 14  # eight agent rows stay legible
    assert "forced open" in grid.timeline.titleLabel.text
    panel.resize(1300, 380)
    qtbot.waitUntil(lambda: grid.columns == 4)


def test_a_failed_count_is_reported_and_a_stopped_runner_stops_the_panel(make_ctx, qtbot, open_panel, monkeypatch):
    ctx = make_ctx(start=False)
    ctx.settings.set("charts/window", 42, 300)  # not a choice offered: the default is used
    panel = open_panel(ctx)
    assert panel.window_seconds == 300
    qtbot.waitUntil(lambda: not panel._counting)

    def broken():
        raise OSError("disk gone")

    monkeypatch.setattr(ctx.store, "counts_by_state", broken)
    with qtbot.waitSignal(ctx.sig_status) as status:
        panel._tick_timer.timeout.emit()
    assert status.args == ["Charts: the outbox could not be counted (OSError)"]
    ctx.jobs.shutdown()
    panel._tick_timer.timeout.emit()
    assert not panel._tick_timer.isActive() and not panel._frame_timer.isActive()


def test_the_summary_health_and_roster_count_the_same_deliveries_in_one_named_window(
        make_ctx, qtbot, open_panel, transports):
    from quarterdeck.core.roster.status import success_text
    from quarterdeck.core.service import service_health

    transports.fail_times["Agent-2"] = 1000
    ctx = make_ctx()
    panel = open_panel(ctx)
    finished: list[str] = []
    ctx.delivery.sig_delivery_event.connect(
        lambda e: finished.append(e.agent_id) if e.state in ("delivered", "failed") else None)
    for n in range(2):
        send(ctx, qtbot, "Agent-1", "Agent-2", content=f"Round {n}")
    qtbot.waitUntil(lambda: len(finished) == 4, timeout=10_000)
    panel._on_tick_timer_timeout()
    window = ctx.monitor.delivery_stats()["window"]
    assert (window["ok"], window["failed"], window["unverified"], window["name"]) == (0, 2, 2, "last 15 min")
    assert panel.now_label.text().startswith(
        "Last 15 min, all agents: <b>0</b> submitted · <b>2</b> failed (100%) · 2 unverified")
    tree = service_health(ctx.delivery.worker, ctx.roster)()
    agent = tree["components"]["agents"]["components"]["Agent-2"]["details"]
    assert (agent["failed"], agent["failure_rate"], agent["window"]) == (2, 1.0, "last 15 min")
    assert success_text(ctx.monitor.delivery_stats("Agent-2")) == ("0 %", "0 submitted, 2 failed in the last 15 min")
    assert tree["status"] == "DEGRADED" and 0 < tree["score"] < 100
