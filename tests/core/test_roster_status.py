"""The roster's live status: how real delivery and breaker events move each agent's state."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
from quarterdeck.core.models import Agent, DryRunTransport, GuiTransport, InboxTransport, TmuxTransport
from quarterdeck.core.resilience import BreakerConfig, CircuitBreaker
from quarterdeck.core.roster.status import (
    AgentLive,
    BreakerView,
    StatusBoard,
    describe_target,
    headline,
    latency_text,
    success_text,
)

NOON = datetime(2025, 5, 1, 12, 0, 0)


def board(*ids: str) -> StatusBoard:
    return StatusBoard(ids or ("Agent-1", "Agent-2"), clock=lambda: NOON)


def event(delivery_id: int, state: str, agent: str = "Agent-1", **fields) -> DeliveryEvent:
    return DeliveryEvent(delivery_id, f"m{delivery_id}", agent, state, **fields)


def test_an_agent_starts_idle_and_a_disabled_one_says_so():
    assert headline(AgentLive()) == ("idle", "idle")
    assert headline(AgentLive(), enabled=False) == ("disabled", "disabled")


def test_a_delivery_goes_queued_sending_delivered():
    b = board()
    assert b.submitted(["Agent-1", "Agent-2"], [1, 2]) == {"Agent-1", "Agent-2"}
    assert headline(b.get("Agent-1")) == ("queued", "queued")
    assert b.delivery(event(1, "sending", attempt=1)) == {"Agent-1"}
    assert headline(b.get("Agent-1")) == ("sending", "sending")
    assert b.delivery(event(1, "delivered", attempt=1, latency=0.12, verdict="submitted")) == {"Agent-1"}
    live = b.get("Agent-1")
    assert headline(live) == ("submitted", "submitted")
    assert (live.last_at, live.last_latency, live.last_verdict) == (NOON, 0.12, "submitted")
    assert headline(b.get("Agent-2"))[0] == "queued"  # untouched


def test_several_queued_deliveries_are_counted_and_retries_named():
    b = board()
    b.submitted(["Agent-1"] * 3, [1, 2, 3])
    assert headline(b.get("Agent-1")) == ("queued", "queued (3)")
    b.delivery(event(1, "sending"))
    b.delivery(event(1, "retrying", attempt=2, detail="boom"))
    assert headline(b.get("Agent-1")) == ("retrying", "retrying (attempt 3)")
    b.delivery(event(1, "failed", attempt=4, detail="boom"))
    live = b.get("Agent-1")
    assert headline(live) == ("queued", "queued (2)")
    assert (live.last_state, live.last_detail) == ("failed", "boom")


def test_a_delivery_seen_sending_before_its_submission_is_not_queued_again():
    b = board()
    b.delivery(event(7, "sending"))
    b.delivery(event(7, "delivered"))
    assert b.submitted(["Agent-1"], [7]) == set()
    assert headline(b.get("Agent-1"))[0] == "unverified"  # no evidence in the event


def test_started_ids_are_remembered_within_a_bound():
    b = StatusBoard(["Agent-1"], remember=2)
    for delivery_id in (1, 2, 3):
        b.delivery(event(delivery_id, "delivered"))
    assert b.submitted(["Agent-1"], [3]) == set()
    assert b.submitted(["Agent-1"], [1]) == {"Agent-1"}  # forgotten: it counts as new


def test_events_for_unknown_agents_and_repeats_change_nothing():
    b = board()
    assert b.delivery(event(1, "sending", agent="Ghost")) == set()
    assert b.submitted(["Ghost"], [2]) == set()
    b.delivery(event(3, "sending"))
    assert b.delivery(event(3, "sending")) == set()
    assert b.delivery(event(3, "exploded")) == set()


def test_a_finished_delivery_leaves_another_in_flight_alone():
    b = board()
    b.delivery(event(2, "sending"))
    b.delivery(event(1, "uncertain", detail="interrupted"))
    live = b.get("Agent-1")
    assert live.active == 2 and live.last_state == "uncertain"
    assert headline(live)[0] == "sending"


def test_breaker_trouble_outranks_the_queue_but_not_a_delivery_in_flight():
    b = board()
    b.submitted(["Agent-1"], [1])
    assert b.breaker("Agent-1", BreakerView("open", 12.3)) == {"Agent-1"}
    assert b.breaker("Agent-1", BreakerView("open", 12.3)) == set()
    assert headline(b.get("Agent-1")) == ("breaker_open", "breaker open")
    b.breaker("Agent-1", BreakerView("half_open"))
    assert headline(b.get("Agent-1"))[0] == "half_open"
    b.delivery(event(1, "sending"))
    assert headline(b.get("Agent-1"))[0] == "sending"
    b.breaker("Agent-1", BreakerView("forced_open"))
    b.delivery(event(1, "failed"))
    assert headline(b.get("Agent-1")) == ("forced_open", "forced open")
    assert b.breaker("Ghost", BreakerView("open")) == set()


def test_breaker_view_reads_a_real_breaker_snapshot():
    now = [100.0]
    breaker = CircuitBreaker("Agent-1", BreakerConfig.from_threshold(1, wait_duration=30.0), clock=lambda: now[0])
    assert BreakerView.from_snapshot(breaker.snapshot()) == BreakerView("closed")
    breaker.on_error(breaker.try_acquire(), "down")
    now[0] += 10.2
    view = BreakerView.from_snapshot(breaker.snapshot())
    assert view.state == "open" and view.text() == "open · trial in 20 s"
    now[0] += 30
    assert BreakerView.from_snapshot(breaker.snapshot()).text() == "open · next send is a trial"
    breaker.try_acquire()
    assert BreakerView.from_snapshot(breaker.snapshot()).text() == "half-open"
    breaker.force_open()
    assert BreakerView.from_snapshot(breaker.snapshot()) == BreakerView("forced_open")
    assert BreakerView("forced_open").text() == "forced open"


def test_stop_all_turns_the_queue_into_cancelled():
    b = board()
    b.submitted(["Agent-1", "Agent-1"], [1, 2])
    b.delivery(event(1, "sending"))
    assert b.queue_cancelled() == {"Agent-1"}
    live = b.get("Agent-1")
    assert live.queued == frozenset() and live.last_state == "cancelled"
    assert headline(live)[0] == "sending"  # the one in flight is still finishing
    assert b.queue_cancelled() == set()


@dataclass
class Row:
    agent_id: str
    reason: str | None
    finished_at: datetime | None


def test_deliveries_interrupted_by_a_crash_show_as_uncertain():
    b = board()
    changed = b.recovered([Row("Agent-2", "interrupted: the sending process ended",
                               datetime(2025, 5, 1, 10, 0, tzinfo=UTC)), Row("Gone", None, None)])
    assert changed == {"Agent-2"}
    live = b.get("Agent-2")
    assert headline(live)[0] == "uncertain" and "interrupted" in live.last_detail
    assert live.last_at.tzinfo is not None
    b.recovered([Row("Agent-1", None, None)])
    assert b.get("Agent-1").last_at == NOON


def test_a_new_roster_keeps_the_state_of_agents_that_stayed():
    b = board()
    b.submitted(["Agent-1"], [1])
    b.set_agents(["Agent-3", "Agent-1"])
    assert headline(b.get("Agent-1"))[0] == "queued"
    assert headline(b.get("Agent-3"))[0] == "idle"
    assert b.submitted(["Agent-2"], [2]) == set()


def test_targets_are_described_per_transport():
    gui = Agent(id="A", transport=GuiTransport(chat=(-1269, 481)))
    tmux = Agent(id="B", transport=TmuxTransport(target="swarm:0.1"))
    inbox = Agent(id="C", transport=InboxTransport(path=Path("/srv/inbox/c")))
    dry = Agent(id="D", transport=DryRunTransport())
    assert [describe_target(a) for a in (gui, tmux, inbox, dry)] == [
        "-1269, 481", "swarm:0.1", "/srv/inbox/c", "nowhere (dry run)"]


def in_window(**figures):
    """``Monitor.delivery_stats`` with the figure window holding ``figures``; totals disagree on purpose."""
    return {"ok": 1000, "failed": 1000, "p95": 99.0, "window": {"name": "last 15 min", **figures}}


def test_success_and_latency_texts_come_from_the_figure_window_alone():
    assert success_text(in_window(ok=0, failed=0)) == ("–", "no finished deliveries in the last 15 min")
    assert success_text(in_window(ok=3, failed=1)) == ("75 %", "3 submitted, 1 failed in the last 15 min")
    assert success_text(in_window(ok=3, failed=1, unverified=2))[1] == \
        "3 submitted, 1 failed in the last 15 min; 2 unverified, counted apart"
    assert success_text(in_window(ok=199, failed=1))[0] == "99.5 %"
    assert success_text(in_window(ok=0, failed=4))[0] == "0 %"
    assert latency_text(in_window(p95=None)) == ("–", "no delivery times in the last 15 min")
    text, tip = latency_text(in_window(p95=0.1234, p50=0.05, finished=12))
    assert text == "123 ms" and "the 12 deliveries in the last 15 min" in tip and "median 50 ms" in tip
    assert latency_text(in_window(p95=12.5))[0] == "12.5 s"


def test_a_paused_gui_delivery_goes_back_to_the_queue_until_the_captain_resumes():
    b = board()
    b.submitted(["Agent-1"], [1])
    b.delivery(event(1, "sending"))
    assert b.delivery(event(1, "paused", detail="GUI delivery paused until you resume: mouse moved")) == {"Agent-1"}
    live = b.get("Agent-1")
    assert live.active is None and live.queued == {1}
    assert headline(live) == ("paused", "paused") and "mouse moved" in live.paused
    assert b.resumed() == {"Agent-1"} and b.resumed() == set()
    assert headline(b.get("Agent-1"))[0] == "queued"
    b.delivery(event(1, "paused"))
    b.delivery(event(1, "sending"))  # claimed again after a resume
    assert headline(b.get("Agent-1"))[0] == "sending" and b.get("Agent-1").paused == ""
