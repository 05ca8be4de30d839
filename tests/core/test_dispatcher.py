"""The dispatcher over a real SQLite outbox, with fault-injecting transports."""
from __future__ import annotations

import threading
import time

import pytest

from quarterdeck.core.compose.submit import SubmitRefused, UnknownRecipient, submit
from quarterdeck.core.config import CoordinationConfig
from quarterdeck.core.delivery.errors import PermanentError, RetryableError
from quarterdeck.core.dispatch.dispatcher import Dispatcher
from quarterdeck.core.models import Agent, DryRunTransport, Message
from quarterdeck.core.monitor import Monitor
from quarterdeck.core.resilience import State
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.store import Store
from quarterdeck.core.transports.dryrun import DryRunDelivery
from quarterdeck.core.validation import RuleStore, Validator, bundled_rules_dir

FAST = CoordinationConfig(max_retries=2, base_delay=0.001, backoff_multiplier=1.0, circuit_breaker_threshold=2)


def roster_of(*ids: str, captain: str | None = None) -> Roster:
    return Roster(agents=tuple(Agent(id=i, role="captain" if i == captain else "dev",
                                     transport=DryRunTransport()) for i in ids))


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "q.sqlite3") as s:
        yield s


def make(store, roster, transports, **kw):
    d = Dispatcher(store, roster, config=kw.pop("config", FAST), stagger=0,
                   transport_factory=lambda agent: transports[agent.id], **kw)
    events = []
    d.add_listener(events.append)
    return d, events


def msg(content="Run the test suite and report.", **kw) -> Message:
    kw.setdefault("recipients", ["Agent-1"])
    return Message(sender="Captain", content=content, **kw)


def drain(d):
    while d.process_next() is not None:
        pass


def test_broadcast_reaches_every_enabled_agent_with_its_own_prefix(store):
    roster = roster_of("Agent-1", "Agent-2", "Agent-3")
    t = {i: DryRunDelivery() for i in roster.ids()}
    d, events = make(store, roster, t)
    sub = submit(store, roster, msg("line one\nline two é 🚀", type="broadcast", recipients=[]))
    drain(d)
    assert sub.recipients == ("Agent-1", "Agent-2", "Agent-3")
    for agent_id, transport in t.items():
        (req,) = transport.sent
        assert req.text.endswith("\nline one\nline two é 🚀")
        assert f"→ {agent_id}" in req.text.splitlines()[0]
    assert [e.state for e in events if e.state != "sending"] == ["delivered"] * 3
    assert store.counts_by_state().get("delivered") == 3


def test_retries_then_breaker_opens_and_other_agents_are_unaffected(store):
    roster = roster_of("Agent-1", "Agent-2")
    flaky = DryRunDelivery(fail_times=100, error=RetryableError)
    healthy = DryRunDelivery()
    monitor = Monitor()
    d, events = make(store, roster, {"Agent-1": flaky, "Agent-2": healthy}, monitor=monitor, breaker_wait=0.05)
    for _ in range(3):
        submit(store, roster, msg(recipients=["Agent-1", "Agent-2"]))
    drain(d)
    one = [e for e in events if e.agent_id == "Agent-1"]
    assert [e.state for e in one if e.state == "retrying"] == ["retrying"] * 4  # 2 deliveries x 2 retries
    failed = [e.detail for e in one if e.state == "failed"]
    assert len(failed) == 3 and failed[2].startswith("breaker open")
    assert len(flaky.attempts) == 6, "the third delivery was refused without touching the transport"
    assert d.breakers.get("Agent-1").state is State.OPEN
    assert len(healthy.sent) == 3
    stats = monitor.delivery_stats("Agent-2")
    assert stats["unverified"] == 3 and stats["ok"] == 0  # a dry run gives no evidence


def test_half_open_trial_recovers(store):
    roster = roster_of("Agent-1")
    t = DryRunDelivery(fail_times=6, error=RetryableError)
    d, events = make(store, roster, {"Agent-1": t}, breaker_wait=0.05)
    for _ in range(2):
        submit(store, roster, msg())
    drain(d)
    assert d.breakers.get("Agent-1").state is State.OPEN
    time.sleep(0.06)  # the 0.05 s open period runs out (time passing is the subject; the move is lazy)
    submit(store, roster, msg())
    drain(d)
    assert events[-1].state == "delivered"
    assert d.breakers.get("Agent-1").state is State.CLOSED


def test_permanent_error_is_not_retried(store):
    roster = roster_of("Agent-1")
    t = DryRunDelivery(fail_times=1, error=PermanentError)
    d, events = make(store, roster, {"Agent-1": t})
    submit(store, roster, msg())
    drain(d)
    assert [e.state for e in events] == ["sending", "failed"]
    assert len(t.attempts) == 1


def test_urgent_goes_first_and_captain_last(store):
    roster = roster_of("Agent-1", "Agent-2", "Agent-9", captain="Agent-1")
    t = {i: DryRunDelivery() for i in roster.ids()}
    d, events = make(store, roster, t)
    submit(store, roster, msg("normal", recipients=["Agent-2"]))
    submit(store, roster, msg("all hands", type="broadcast", recipients=[]), captain_last=True)
    submit(store, roster, msg("urgent", recipients=["Agent-9"], priority="urgent"))
    drain(d)
    order = [(e.agent_id) for e in events if e.state == "delivered"]
    assert order[0] == "Agent-9"
    broadcast = [e.agent_id for e in events if e.state == "delivered"][2:]
    assert broadcast[-1] == "Agent-1"


def test_failing_rules_refuse_before_anything_is_stored(store):
    roster = roster_of("Agent-1")
    rules = RuleStore(sorted(bundled_rules_dir().glob("*.yaml")))
    rules.reload()
    with pytest.raises(SubmitRefused) as exc:
        submit(store, roster, msg("   "), validator=Validator(rules.active))
    assert exc.value.report.status == "FAIL"
    assert store.counts_by_state() == {} or sum(store.counts_by_state().values()) == 0


def test_unknown_recipient_is_refused(store):
    with pytest.raises(UnknownRecipient, match="Agent-7"):
        submit(store, roster_of("Agent-1"), msg(recipients=["Agent-7"]))


def test_secret_is_stored_redacted_but_delivered_raw_by_this_process(store, tmp_path):
    roster = roster_of("Agent-1")
    t = DryRunDelivery()
    d, _ = make(store, roster, {"Agent-1": t})
    key = "AKIA" + "QWERTYUIOPASDFGH"
    m = msg(f"use {key} for the bucket")
    sub = submit(store, roster, m)
    d.remember_raw(m)
    drain(d)
    assert sub.redacted and key in t.sent[0].text
    assert key.encode() not in (tmp_path / "q.sqlite3").read_bytes()


def test_redacted_message_without_raw_text_fails_honestly(store):
    roster = roster_of("Agent-1")
    d, events = make(store, roster, {"Agent-1": DryRunDelivery()})
    submit(store, roster, msg("token AKIA" + "QWERTYUIOPASDFGH"))
    drain(d)
    assert events[-1].state == "failed" and "redacted" in events[-1].detail


def test_stop_all_interrupts_a_long_backoff_and_cancels_the_queue(store):
    roster = roster_of("Agent-1", "Agent-2", "Agent-3")
    slow = CoordinationConfig(max_retries=3, base_delay=30.0, circuit_breaker_threshold=5)
    t = {"Agent-1": DryRunDelivery(fail_times=10), "Agent-2": DryRunDelivery(), "Agent-3": DryRunDelivery()}
    d, events = make(store, roster, t, config=slow)
    submit(store, roster, msg(recipients=["Agent-1", "Agent-2"]))
    worker = threading.Thread(target=d.run)
    worker.start()
    deadline = time.monotonic() + 5
    while not any(e.state == "delivered" for e in events) and time.monotonic() < deadline:
        time.sleep(0.005)
    # Agent-2 went out during Agent-1's backoff; Agent-1's next message waits behind it, in order
    submit(store, roster, msg("second", recipients=["Agent-1"]))
    d.stop_all()
    worker.join(timeout=2)
    assert not worker.is_alive()
    states = store.counts_by_state()
    assert (states.get("cancelled"), states.get("delivered")) == (2, 1), states
    assert not states.get("queued") and not states.get("sending")
    assert len(t["Agent-2"].sent) == 1 and t["Agent-3"].sent == []


def test_skipped_transports_stay_queued_for_another_process(store):
    from quarterdeck.core.models import GuiTransport

    roster = Roster(agents=(Agent(id="Agent-1", transport=GuiTransport(chat=(10, 10))),
                            Agent(id="Agent-2", transport=DryRunTransport())))
    t = {"Agent-2": DryRunDelivery()}
    d, events = make(store, roster, t, skip_transports=frozenset({"gui"}))
    submit(store, roster, msg(recipients=["Agent-1", "Agent-2"]))
    drain(d)
    assert [e.agent_id for e in events if e.state == "delivered"] == ["Agent-2"]
    assert store.counts_by_state()["queued"] == 1


def test_run_returns_as_soon_as_until_holds_even_with_work_queued(store):
    roster = roster_of("Agent-1")
    t = DryRunDelivery()
    d, _ = make(store, roster, {"Agent-1": t})
    for _ in range(3):
        submit(store, roster, msg())
    d.run(until=lambda: len(t.sent) >= 1)
    assert len(t.sent) == 1 and store.counts_by_state()["queued"] == 2


class Slow(DryRunDelivery):
    """A delivery that takes ``seconds`` (as a GUI one waits for its pane), noting when it began."""

    def __init__(self, seconds: float, starts: list[float]) -> None:
        super().__init__()
        self.seconds, self.starts = seconds, starts

    def deliver(self, request, stop):
        self.starts.append(time.monotonic())
        time.sleep(self.seconds)
        return super().deliver(request, stop)


@pytest.mark.parametrize(("takes", "gap_at_least", "gap_at_most"), [(0.0, 0.5, 5.0), (0.6, 0.6, 0.95)])
def test_the_stagger_spaces_the_starts_of_two_agents_deliveries(store, takes, gap_at_least, gap_at_most):
    starts: list[float] = []
    roster = roster_of("Agent-1", "Agent-2")
    d = Dispatcher(store, roster, config=FAST, stagger=0.5,
                   transport_factory=lambda agent: Slow(takes, starts))
    submit(store, roster, msg(recipients=["Agent-1", "Agent-2"]))
    drain(d)
    gap = starts[1] - starts[0]
    # an instant delivery is followed after the stagger; a slow one has spaced them already (waiting
    # the stagger after it, as before, would make the gap 1.1 s)
    assert gap_at_least <= gap <= gap_at_most, gap
