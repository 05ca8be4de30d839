"""The Health panel over a live context: statuses, reasons, in-place updates, stop-all."""
from __future__ import annotations

import json

import pytest
from gui_fixtures import dry_roster, saved_shot
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from quarterdeck.core.models import Message
from quarterdeck.gui.charts.health import HealthPanel
from quarterdeck.gui.charts.style import STATUS_COLOURS


@pytest.fixture
def open_panel(make_ctx, qtbot, request):
    def make(ctx=None) -> HealthPanel:
        ctx = ctx if ctx is not None else make_ctx()
        if ctx.delivery.running:  # the delivery loop starts serving a moment after the thread
            qtbot.waitUntil(lambda: ctx.delivery.worker.alive)
        panel = HealthPanel(ctx)
        request.addfinalizer(panel.shutdown)
        qtbot.addWidget(panel)
        panel.resize(520, 300)
        panel.show()
        qtbot.waitExposed(panel)
        return panel

    return make


def row(panel: HealthPanel, *path: str) -> tuple[str, str]:
    item = panel.items[path]
    return item.text(1), item.text(2)


def send(ctx, qtbot, *recipients: str, content: str = "Status report, please.") -> None:
    with qtbot.waitSignal(ctx.sig_submitted):
        ctx.submit(Message(sender="Captain", recipients=list(recipients), content=content))


def test_lists_the_worker_and_every_agent_with_their_status(make_ctx, qtbot, open_panel):
    panel = open_panel()
    assert (panel.NAME, panel.TITLE, panel.AREA) == ("health", "Health", Qt.DockWidgetArea.LeftDockWidgetArea)
    assert set(panel.items) == {("dispatcher",), ("agents",), ("agents", "Agent-1"), ("agents", "Agent-2")}
    assert [panel.tree.topLevelItem(n).text(0) for n in range(2)] == ["Delivery worker", "Agents"]
    assert row(panel, "dispatcher")[0] == "UP"
    assert row(panel, "agents", "Agent-1") == (
        "UNKNOWN", "no finished deliveries in the last 15 min — breaker closed · delivered 0 · failed 0")
    assert panel.status_label.text() == "UP"  # every agent reachable, none judged yet
    assert panel.score_label.text() == "score <b>100</b>/100"
    assert panel.summary_label.text() == "2/2 reachable"
    assert panel.window_label.text() == "failure rates: last 15 min"
    assert [a.text() for a in panel.commands()] == ["Refresh health now", "Copy health report (JSON)"]


def test_a_stopped_worker_is_down_with_its_reason(make_ctx, qtbot, open_panel):
    panel = open_panel(make_ctx(start=False))
    assert panel.status_label.text() == "DOWN"
    assert row(panel, "dispatcher") == ("DOWN", "the delivery worker is not running — delivered 0 · failed 0")


def test_stop_all_puts_the_panel_out_of_service_and_resume_brings_it_back(make_ctx, qtbot, open_panel):
    ctx = make_ctx()
    panel = open_panel(ctx)
    with qtbot.waitSignal(ctx.delivery.sig_stopped):
        ctx.delivery.stop_all()
    assert panel.status_label.text() == "OUT OF SERVICE"
    assert "#ef6c00" in panel.status_label.styleSheet()
    status, why = row(panel, "dispatcher")
    assert status == "OUT OF SERVICE" and why.startswith("stopped by the captain: nothing is delivered")
    assert panel.summary_label.text() == "0/2 reachable · stopped by the captain"
    assert panel.score_label.text() == "score <b>0</b>/100"
    assert row(panel, "agents", "Agent-1") == (
        "OUT OF SERVICE", "stopped by the captain — breaker closed · delivered 0 · failed 0")
    ctx.delivery.resume()
    assert row(panel, "dispatcher")[0] == "UP" and panel.status_label.text() == "UP"
    assert panel.summary_label.text() == "2/2 reachable"


def test_a_tripped_breaker_makes_its_agent_down_and_the_fleet_degraded(make_ctx, qtbot, open_panel, transports):
    transports.fail_times["Agent-2"] = 1000
    ctx = make_ctx()
    panel = open_panel(ctx)
    items = dict(panel.items)
    for n in range(ctx.config.circuit_breaker_threshold):
        send(ctx, qtbot, "Agent-1", "Agent-2", content=f"Try {n}")
    qtbot.waitUntil(lambda: row(panel, "agents", "Agent-2")[0] == "DOWN", timeout=10_000)
    _status, why = row(panel, "agents", "Agent-2")
    assert why.startswith("breaker open after repeated failures (trial in ")
    assert "breaker open · failure rate 100% in the last 15 min · delivered 0 · failed " in why
    assert "trial in" in panel.items[("agents", "Agent-2")].toolTip(2)
    assert row(panel, "agents", "Agent-1")[0] == "UNKNOWN"  # dry runs: unverified, neither way
    assert "unverified in the last 15 min (no evidence either way)" in row(panel, "agents", "Agent-1")[1]
    assert panel.status_label.text() == "DEGRADED" and STATUS_COLOURS["DEGRADED"] in panel.status_label.styleSheet()
    assert panel.score_label.text() == "score <b>50</b>/100"
    assert panel.summary_label.text().startswith("1/2 reachable · Agent-2 breaker open after repeated failures")
    assert panel.items == items and all(panel.items[p] is i for p, i in items.items())  # updated in place
    ctx.delivery.dispatcher.breakers.get("Agent-2").force_open()
    assert row(panel, "agents", "Agent-2")[0] == "OUT OF SERVICE"
    assert panel.summary_label.text() == "1/2 reachable · Agent-2 forced open by you"


def test_roster_changes_add_remove_and_reorder_agent_rows_in_place(make_ctx, qtbot, open_panel):
    ctx = make_ctx()
    panel = open_panel(ctx)
    kept = panel.items[("agents", "Agent-2")]
    with qtbot.waitSignal(ctx.sig_roster_changed):
        ctx.set_roster(dry_roster("Agent-3", "Agent-2"))
    agents = panel.items[("agents",)]
    assert [agents.child(n).text(0) for n in range(agents.childCount())] == ["Agent-3", "Agent-2"]
    assert ("agents", "Agent-1") not in panel.items and panel.items[("agents", "Agent-2")] is kept
    assert panel.summary_label.text() == "2/2 reachable"
    with qtbot.waitSignal(ctx.sig_roster_changed):
        ctx.set_roster(dry_roster())
    assert panel.summary_label.text() == "No enabled agents" and agents.childCount() == 0


def test_activating_an_agent_focuses_it_and_copy_gives_the_json(make_ctx, qtbot, open_panel):
    ctx = make_ctx()
    panel = open_panel(ctx)
    with qtbot.waitSignal(ctx.sig_agent_focused) as focused:
        panel.tree.itemActivated.emit(panel.items[("agents", "Agent-2")], 0)
    assert focused.args == ["Agent-2"]
    with qtbot.assertNotEmitted(ctx.sig_agent_focused):
        panel.tree.itemActivated.emit(panel.items[("dispatcher",)], 0)
    panel.copy_action.trigger()
    copied = json.loads(QApplication.clipboard().text())
    assert copied["status"] == "UP" and set(copied["components"]["agents"]["components"]) == {"Agent-1", "Agent-2"}


def test_refreshes_every_second_while_shown_and_stops_on_shutdown(make_ctx, qtbot, open_panel, transports):
    transports.fail_times["Agent-1"] = 1000  # one failed delivery: no breaker transition, only the timer tells
    ctx = make_ctx()
    panel = open_panel(ctx)
    send(ctx, qtbot, "Agent-1")
    qtbot.waitUntil(lambda: row(panel, "agents", "Agent-1")[0] == "DEGRADED", timeout=3000)
    assert row(panel, "agents", "Agent-1")[1].startswith("1 of 1 failed in the last 15 min")
    panel.shutdown()
    assert not [t for t in panel.findChildren(QTimer) if t.isActive()]


def test_screenshot_after_real_deliveries_with_one_failing(make_ctx, qtbot, open_panel, transports):
    transports.fail_times["Agent-3"] = 1000
    ctx = make_ctx(roster=dry_roster("Agent-1", "Agent-2", "Agent-3", "Agent-4"))
    panel = open_panel(ctx)
    for n in range(ctx.config.circuit_breaker_threshold):
        send(ctx, qtbot, "Agent-1", "Agent-2", "Agent-3", "Agent-4", content=f"Round {n}")
    qtbot.waitUntil(lambda: row(panel, "agents", "Agent-3")[0] == "DOWN", timeout=10_000)
    qtbot.waitUntil(lambda: all(row(panel, "agents", a)[0] == "UNKNOWN" for a in ("Agent-1", "Agent-2", "Agent-4")),
                    timeout=3000)
    assert panel.status_label.text() == "DEGRADED"
    assert panel.summary_label.text().startswith("3/4 reachable · Agent-3 breaker open")
    assert panel.score_label.text() == "score <b>75</b>/100"
    saved_shot(panel, "health.png")
