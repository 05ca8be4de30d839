"""The roster table: a well-behaved model whose live status comes from real deliveries."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt

from quarterdeck.core.delivery.errors import Paused
from quarterdeck.core.models import Agent, DryRunTransport, GuiTransport, InboxTransport, Message, TmuxTransport
from quarterdeck.core.resilience import BreakerConfig, BreakerRegistry
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.roster.status import AgentLive
from quarterdeck.core.transports.dryrun import DryRunDelivery
from quarterdeck.gui.roster.live import LiveStatus
from quarterdeck.gui.roster.model import (
    AGENT,
    BREAKER,
    LAST,
    P95,
    ROLE,
    STATUS,
    STATUS_KEY_ROLE,
    SUCCESS,
    TARGET,
    TRANSPORT,
    RosterModel,
)


def mixed_roster() -> Roster:
    return Roster((
        Agent(id="Agent-1", role="frontend", transport=GuiTransport(chat=(420, 980), onboarding=(420, 900))),
        Agent(id="Agent-2", role="backend", transport=TmuxTransport(target="swarm:0.2")),
        Agent(id="Agent-3", role="docs", enabled=False, transport=InboxTransport(path=Path("/srv/inbox/3"))),
        Agent(id="Agent-4", display_name="Scout", transport=DryRunTransport()),
    ), {"front": ("Agent-1",)})


def text(model, agent_id: str, column: int) -> str:
    return model.index(model.row_of(agent_id), column).data()


def send(ctx, qtbot, *recipients: str, content: str = "Status report, please.") -> None:
    with qtbot.waitSignal(ctx.sig_submitted):
        ctx.submit(Message(sender="Captain", recipients=list(recipients), content=content))


def test_the_model_passes_qt_model_tester_through_roster_changes(qtmodeltester):
    model = RosterModel(mixed_roster(), lambda _id: AgentLive(), lambda _id: {"ok": 0, "failed": 0})
    qtmodeltester.check(model)
    assert model.rowCount() == 4 and model.rowCount(model.index(0, 0)) == 0
    assert [text(model, "Agent-1", c) for c in (AGENT, ROLE, TRANSPORT, TARGET)] == [
        "Agent-1", "frontend", "screen", "420, 980"]
    assert text(model, "Agent-4", AGENT) == "Agent-4 (Scout)"
    assert "onboarding at 420, 900" in model.index(0, TARGET).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(2, AGENT).data(Qt.ItemDataRole.ForegroundRole) is not None  # disabled: greyed
    assert text(model, "Agent-3", STATUS) == "disabled"
    assert model.index(0, STATUS).data(Qt.ItemDataRole.DecorationRole) is not None
    assert model.headerData(SUCCESS, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    new = Roster((Agent(id="Agent-5", transport=DryRunTransport()), *reversed(mixed_roster().agents[1:])))
    model.set_roster(new)  # insert at the top, remove Agent-1, reverse the rest
    assert model.ids() == ["Agent-5", "Agent-4", "Agent-3", "Agent-2"]
    model.set_roster(mixed_roster())
    assert model.ids() == ["Agent-1", "Agent-2", "Agent-3", "Agent-4"]
    model.set_roster(Roster())
    assert model.rowCount() == 0 and model.agent_at(0) is None and model.row_of("Agent-1") == -1
    assert model.data(QModelIndex()) is None


def test_a_delivery_shows_queued_then_delivered_with_its_statistics(make_ctx, qtbot, qtmodeltester):
    ctx = make_ctx(start=False)
    live = LiveStatus(ctx)
    model = live.model
    qtmodeltester.check(model)
    send(ctx, qtbot, "Agent-1")
    assert text(model, "Agent-1", STATUS) == "queued"
    assert text(model, "Agent-2", STATUS) == "idle"
    ctx.start()
    qtbot.waitUntil(lambda: text(model, "Agent-1", STATUS) == "unverified")
    assert text(model, "Agent-1", LAST).endswith("· unverified")
    assert text(model, "Agent-1", SUCCESS) == "–"  # a dry run is unverified: counted apart, not a success
    assert text(model, "Agent-1", P95).endswith("ms")
    assert text(model, "Agent-2", SUCCESS) == "–"
    tip = model.index(model.row_of("Agent-1"), STATUS).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == "Unverified: a dry run types nothing"  # the dry run never confirms
    live.stop()


def test_failures_open_the_breaker_after_the_configured_threshold(make_ctx, qtbot, transports):
    ctx = make_ctx()
    threshold = ctx.config.circuit_breaker_threshold
    assert threshold == 5  # quarterdeck.core.config's default
    transports.fail_times["Agent-2"] = 1000
    live = LiveStatus(ctx)
    model = live.model
    for n in range(threshold - 1):
        send(ctx, qtbot, "Agent-2", content=f"Try {n}")
    qtbot.waitUntil(lambda: model.index(1, SUCCESS).data() == "0 %" and text(model, "Agent-2", STATUS) == "failed",
                    timeout=10_000)
    assert ctx.monitor.delivery_stats("Agent-2")["failed"] == threshold - 1
    assert text(model, "Agent-2", BREAKER) == "closed"
    send(ctx, qtbot, "Agent-2", content="The last straw")
    qtbot.waitUntil(lambda: ctx.monitor.delivery_stats("Agent-2")["failed"] == threshold, timeout=10_000)
    qtbot.waitUntil(lambda: text(model, "Agent-2", LAST).endswith("failed"))
    # the breaker's own event comes on its listener's path: the status follows it, not the delivery's
    qtbot.waitUntil(lambda: text(model, "Agent-2", STATUS) == "breaker open", timeout=5_000)
    assert model.index(1, STATUS).data(STATUS_KEY_ROLE) == "breaker_open"
    assert text(model, "Agent-2", BREAKER).startswith("open · trial in ")
    assert model.index(1, STATUS).data(Qt.ItemDataRole.BackgroundRole) is not None
    send(ctx, qtbot, "Agent-2", content="Refused at once")
    qtbot.waitUntil(lambda: "breaker open" in model.index(1, STATUS).data(Qt.ItemDataRole.ToolTipRole))
    live.stop()


def test_the_breaker_countdown_and_its_trial_show_without_any_event(make_ctx, qtbot, transports):
    ctx = make_ctx(start=False)
    breakers = BreakerRegistry(BreakerConfig.from_threshold(1, wait_duration=1.2))
    breakers.add_listener(ctx.delivery.sig_breaker_event.emit)
    ctx.session.dispatcher.breakers = breakers
    transports.fail_times["Agent-1"] = 4  # one delivery: all of its 4 attempts fail
    live = LiveStatus(ctx, tick_ms=100)
    model = live.model
    ctx.start()
    send(ctx, qtbot, "Agent-1")
    qtbot.waitUntil(lambda: text(model, "Agent-1", BREAKER).startswith("open · trial in"), timeout=10_000)
    qtbot.waitUntil(lambda: text(model, "Agent-1", BREAKER) == "open · next send is a trial", timeout=5_000)
    assert text(model, "Agent-1", STATUS) == "breaker open"
    send(ctx, qtbot, "Agent-1", content="Trial")
    qtbot.waitUntil(lambda: text(model, "Agent-1", STATUS) == "unverified"
                    and text(model, "Agent-1", BREAKER) == "closed")
    live.stop()


def test_only_the_changed_cells_of_the_changed_row_are_reported(make_ctx, qtbot):
    ctx = make_ctx()
    live = LiveStatus(ctx, tick_ms=60_000)
    model = live.model
    changes: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(lambda a, b, _roles=(): changes.append((a.row(), a.column(), b.row(), b.column())))
    with qtbot.assertNotEmitted(model.dataChanged, wait=50):
        live._on_timer_timeout()  # a tick with nothing new repaints nothing
    send(ctx, qtbot, "Agent-1")
    qtbot.waitUntil(lambda: text(model, "Agent-1", LAST).endswith("· unverified"))
    row = model.row_of("Agent-1")
    assert changes and all(top == bottom == row for top, _, bottom, _ in changes)
    touched = {c for _, left, _, right in changes for c in range(left, right + 1)}
    assert touched <= {STATUS, LAST, SUCCESS, P95}
    assert {STATUS, LAST} <= touched
    with qtbot.assertNotEmitted(model.modelReset, wait=10):
        live._on_timer_timeout()
    live.stop()


def test_a_roster_change_inserts_and_removes_rows_and_keeps_live_status(make_ctx, qtbot, qtmodeltester):
    ctx = make_ctx()
    live = LiveStatus(ctx)
    model = live.model
    qtmodeltester.check(model)
    send(ctx, qtbot, "Agent-1")
    qtbot.waitUntil(lambda: text(model, "Agent-1", STATUS) == "unverified")
    bigger = ctx.roster.with_agent(Agent(id="Agent-3", role="qa", transport=DryRunTransport()))
    with qtbot.waitSignal(model.rowsInserted) as inserted:
        ctx.set_roster(bigger)
    assert inserted.args[1:] == [2, 2]
    assert text(model, "Agent-1", STATUS) == "unverified" and text(model, "Agent-3", STATUS) == "idle"
    smaller = Roster(tuple(a for a in bigger.agents if a.id != "Agent-2"))
    with qtbot.waitSignal(model.rowsRemoved) as removed:
        ctx.set_roster(smaller)
    assert removed.args[1:] == [1, 1]
    assert model.ids() == ["Agent-1", "Agent-3"] and text(model, "Agent-1", STATUS) == "unverified"
    live.stop()


def test_stop_all_shows_the_cancelled_queue(make_ctx, qtbot):
    ctx = make_ctx(start=False)
    live = LiveStatus(ctx)
    send(ctx, qtbot, "Agent-1", "Agent-2")
    assert text(live.model, "Agent-2", STATUS) == "queued"
    with qtbot.waitSignal(ctx.delivery.sig_stopped):
        ctx.delivery.stop_all()
    assert text(live.model, "Agent-2", STATUS) == "cancelled"
    assert "stop all" in live.model.index(1, STATUS).data(Qt.ItemDataRole.ToolTipRole)
    live.stop()


def test_a_person_at_the_mouse_pauses_gui_delivery_until_resume(make_ctx, qtbot, transports, monkeypatch):
    factory = type(transports)

    def pausing(self, agent):  # the first attempt meets a person at the mouse, as the GUI transport reports
        transport = DryRunDelivery(fail_times=1, error=Paused("a person is using the mouse"))
        self.by_agent[agent.id] = transport
        return transport

    monkeypatch.setattr(factory, "__call__", pausing)
    ctx = make_ctx(roster=Roster((Agent(id="Agent-1", transport=GuiTransport(chat=(10, 10))),)))
    live = LiveStatus(ctx)
    model = live.model
    send(ctx, qtbot, "Agent-1")
    qtbot.waitUntil(lambda: text(model, "Agent-1", STATUS) == "paused")
    assert "person is using the mouse" in model.index(0, STATUS).data(Qt.ItemDataRole.ToolTipRole)
    assert ctx.store.counts_by_state()["queued"] == 1
    ctx.delivery.resume()
    qtbot.waitUntil(lambda: text(model, "Agent-1", STATUS) == "unverified")
    live.stop()
