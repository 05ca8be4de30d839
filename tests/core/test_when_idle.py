"""Messages sent "when idle": held while the agent works, typed once it is idle, expired after their
time to live, put back when the agent turns busy right before the paste. A real outbox, the
agent's activity recorded as its hooks record it, and a real tmux pane as the agent."""
from __future__ import annotations

import shutil
import threading
import time

import pytest
from msgspec.structs import replace
from test_transport_tmux import Server, wait_until

from quarterdeck.core.activity import resume
from quarterdeck.core.activity.events import (
    CLAUDE_CODE,
    PROMPT_SUBMITTED,
    SEEN_RATE_LIMITED,
    TMUX_WATCH,
    TURN_ENDED,
    ActivityEvent,
    iso,
)
from quarterdeck.core.activity.record import record
from quarterdeck.core.compose.submit import submit
from quarterdeck.core.config import CoordinationConfig
from quarterdeck.core.dispatch import idle_gate
from quarterdeck.core.dispatch.dispatcher import Dispatcher
from quarterdeck.core.models import Agent, Message, TmuxTransport
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.store import Store, default_db_path
from quarterdeck.core.store.requeue import requeue_stopped
from quarterdeck.core.transports.tmux.transport import TmuxDelivery

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

FAST = CoordinationConfig(max_retries=1, base_delay=0.001, backoff_multiplier=1.0)
UNKNOWN_WHY = "waiting: Agent-1's activity is unknown — no hook or watcher reports it"


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path)
    yield srv
    srv.kill()


class Harness:
    """Agent-1 is a ``cat`` in a tmux pane; the outbox and its events live in ``data``."""

    def __init__(self, tmp_path, server: Server, transport=None) -> None:
        self.data = tmp_path / "data"
        self.store = Store(default_db_path(self.data))
        self.pane, self.out = server.cat_pane("agent1")
        self.roster = Roster(agents=(Agent(id="Agent-1", transport=TmuxTransport(target=self.pane)),))
        real = TmuxDelivery(self.pane, socket=server.name)
        self.dispatcher = Dispatcher(self.store, self.roster, config=FAST, stagger=0,
                                     transport_factory=lambda agent: transport(real) if transport else real)
        self.dispatcher.idle_gate.interval = 0.05
        self.events: list = []
        self.dispatcher.add_listener(self.events.append)
        self._thread: threading.Thread | None = None

    def hook(self, kind: str) -> None:
        """What Claude Code's hook records: a prompt submitted, a turn ended."""
        name = {PROMPT_SUBMITTED: "UserPromptSubmit", TURN_ENDED: "Stop"}[kind]
        record(self.data, ActivityEvent(agent_id="Agent-1", source=CLAUDE_CODE, kind=kind, name=name,
                                        at=time.time()))

    def send(self, text: str, ttl: float) -> int:
        message = Message(sender="Captain", recipients=["Agent-1"], content=text)
        (delivery_id,) = submit(self.store, self.roster, message, when_idle=ttl).delivery_ids
        return delivery_id

    def start(self) -> None:
        self._thread = threading.Thread(target=self.dispatcher.run, kwargs={"idle_wait": 0.02}, daemon=True)
        self._thread.start()

    def state(self, delivery_id: int) -> str:
        return str(self.store.delivery(delivery_id).state)

    def received(self) -> str:
        return self.out.read_text(encoding="utf-8") if self.out.exists() else ""

    def close(self) -> None:
        self.dispatcher.halt()
        if self._thread is not None:
            self._thread.join(10)
        self.store.close()


@pytest.fixture
def harness(tmp_path, server):
    h = Harness(tmp_path, server)
    yield h
    h.close()


def test_a_message_waits_while_the_agent_works_and_arrives_once_it_is_idle(harness):
    harness.hook(PROMPT_SUBMITTED)
    delivery = harness.send("Rebase on main when you are done.", ttl=60)
    assert harness.state(delivery) == "waiting"
    harness.start()
    wait_until(lambda: (harness.store.delivery(delivery).reason or "").startswith("waiting: Agent-1 is working"))
    time.sleep(0.5)  # many gate cycles: still held, nothing typed
    assert harness.state(delivery) == "waiting"
    assert harness.received() == ""
    assert harness.store.delivery(delivery).attempts == 0
    harness.hook(TURN_ENDED)
    wait_until(lambda: harness.state(delivery) == "delivered")
    wait_until(lambda: "Rebase on main when you are done." in harness.received())
    states = [e.state for e in harness.events if e.delivery_id == delivery]
    assert states[:3] == ["waiting", "queued", "sending"] and states[-1] == "delivered"
    assert harness.store.delivery(delivery).attempts == 1


def test_a_message_whose_time_to_live_passes_expires_and_never_arrives(harness):
    harness.hook(PROMPT_SUBMITTED)
    delivery = harness.send("Only worth saying in the next second.", ttl=1)
    harness.start()
    wait_until(lambda: harness.state(delivery) == "expired")
    row = harness.store.delivery(delivery)
    assert row.reason == "expired after 1 s: Agent-1 stayed working"
    assert row.finished_at is not None and row.attempts == 0
    harness.hook(TURN_ENDED)  # idle now: an expired message stays expired
    time.sleep(0.5)
    assert harness.state(delivery) == "expired"
    assert harness.received() == ""
    assert harness.store.requeue([delivery]) == []  # "retry failed" never resends an expired one


def test_an_agent_whose_activity_is_unknown_is_not_free_and_the_reason_says_so(harness):
    delivery = harness.send("No hook has spoken for this agent yet.", ttl=60)
    harness.start()
    wait_until(lambda: harness.store.delivery(delivery).reason == UNKNOWN_WHY)
    assert harness.state(delivery) == "waiting"
    assert any(e.state == "waiting" and e.detail == UNKNOWN_WHY for e in harness.events)
    assert harness.received() == ""


def test_an_agent_that_turns_busy_right_before_the_paste_gets_the_message_later(tmp_path, server):
    turned: list[bool] = []

    class TurnsBusy:
        """The agent starts a turn of its own the moment the delivery is claimed (once)."""

        def __init__(self, real: TmuxDelivery) -> None:
            self.real, self.marks_typing = real, True

        def deliver(self, request, stop):
            if not turned:
                turned.append(True)
                harness.hook(PROMPT_SUBMITTED)
            return self.real.deliver(request, stop)

    harness = Harness(tmp_path, server, transport=TurnsBusy)
    try:
        harness.hook(TURN_ENDED)
        delivery = harness.send("Please pull the latest schema.", ttl=60)
        harness.start()
        wait_until(lambda: turned and harness.state(delivery) == "waiting")
        back = [e for e in harness.events if e.delivery_id == delivery and e.state == "waiting"]
        assert back and back[-1].detail.startswith("waiting: Agent-1 is working")
        row = harness.store.delivery(delivery)
        assert row.attempts == 0 and row.started_at is None  # neither an attempt nor a failure
        time.sleep(0.5)
        assert harness.received() == ""
        harness.hook(TURN_ENDED)
        wait_until(lambda: harness.state(delivery) == "delivered")
        wait_until(lambda: "Please pull the latest schema." in harness.received())
        assert harness.received().count("Please pull the latest schema.") == 1
        assert harness.store.delivery(delivery).attempts == 1
    finally:
        harness.close()


def test_a_second_message_waits_for_the_turn_the_first_one_started(harness):
    harness.hook(TURN_ENDED)
    first = harness.send("First: run the suite.", ttl=60)
    second = harness.send("Second: then report.", ttl=60)
    harness.start()
    wait_until(lambda: harness.state(first) == "delivered")
    wait_until(lambda: harness.store.delivery(second).reason is not None and harness.state(second) == "waiting")
    assert "was just sent another message" in (harness.store.delivery(second).reason or "")
    time.sleep(0.3)
    assert "Second" not in harness.received()
    harness.hook(PROMPT_SUBMITTED)  # the first message's turn, then its end
    harness.hook(TURN_ENDED)
    wait_until(lambda: harness.state(second) == "delivered")
    wait_until(lambda: "Second: then report." in harness.received())


def test_stop_all_cancels_waiting_messages_and_requeue_makes_them_wait_again(harness):
    harness.hook(PROMPT_SUBMITTED)
    delivery = harness.send("Wait for me.", ttl=600)
    mark = harness.store.request_stop()
    assert mark.cancelled == 1
    assert harness.state(delivery) == "cancelled"
    again = requeue_stopped(harness.store.connection())
    (new,) = again.ids
    row = harness.store.connection().execute(
        "SELECT state, when_idle, expires_at - created_at AS ttl FROM deliveries WHERE id = ?", (new,)).fetchone()
    assert (row["state"], row["when_idle"]) == ("waiting", 1)
    assert row["ttl"] == pytest.approx(600, abs=1)


def test_a_retry_of_a_failed_when_idle_message_waits_again(harness):
    delivery = harness.send("Retry me only when idle.", ttl=120)
    harness.store.connection().execute("UPDATE deliveries SET state = 'failed', reason = 'x' WHERE id = ?",
                                       (delivery,))
    (new,) = harness.store.requeue([delivery])
    row = harness.store.connection().execute(
        "SELECT state, when_idle, expires_at - created_at AS ttl, retry_of FROM deliveries WHERE id = ?",
        (new,)).fetchone()
    assert (row["state"], row["when_idle"], row["retry_of"]) == ("waiting", 1, delivery)
    assert row["ttl"] == pytest.approx(120, abs=1)
    plain = submit(harness.store, harness.roster, Message(sender="Captain", recipients=["Agent-1"], content="now"))
    assert harness.state(plain.delivery_ids[0]) == "queued"


def limited(harness: Harness, resets_at: float, agent: str = "Agent-1") -> None:
    """What watching the pane records when the agent hits a usage limit that resets at ``resets_at``."""
    record(harness.data, ActivityEvent(agent_id=agent, source=TMUX_WATCH, kind=SEEN_RATE_LIMITED,
                                       name="usage limit shown in pane", at=time.time(), detail=iso(resets_at)))


def continues(harness: Harness) -> list:
    return harness.store.connection().execute(
        "SELECT m.id, d.state FROM messages m JOIN deliveries d ON d.message_id = m.id "
        "WHERE m.sender = 'Quarterdeck' ORDER BY d.id").fetchall()


@pytest.fixture
def resuming(tmp_path, server, monkeypatch):
    monkeypatch.setattr(resume, "GRACE_S", 1.5)
    monkeypatch.setattr(idle_gate, "RESUME_EVERY_S", 0.1)
    h = Harness(tmp_path, server)
    agent = replace(h.roster.get("Agent-1"), continue_after_limit=True)
    h.dispatcher.set_roster(Roster(agents=(agent,)))
    yield h
    h.close()


def test_an_opted_in_agent_gets_one_continue_just_after_its_limit_resets(resuming):
    h = resuming
    reset = float(int(time.time()) + 1)  # whole seconds, as the pane says it
    limited(h, reset)
    h.start()
    time.sleep(1.0)  # before the reset and its grace: nothing queued yet
    assert continues(h) == [] and h.received() == ""
    wait_until(lambda: "continue" in h.received())
    assert time.time() >= reset + resume.GRACE_S
    wait_until(lambda: [tuple(r) for r in continues(h)] == [(resume.episode_id("Agent-1", reset), "delivered")])
    time.sleep(0.6)  # several more looks at the same episode: nothing more
    assert len(continues(h)) == 1 and h.received().count("continue") == 1
    again = float(int(time.time()) - 5)  # a new limit (already reset) is a new episode
    limited(h, again)
    wait_until(lambda: len(continues(h)) == 2 and h.received().count("continue") == 2)


def test_an_agent_not_opted_in_or_without_a_reset_time_gets_no_continue(tmp_path, server, monkeypatch):
    monkeypatch.setattr(resume, "GRACE_S", 0.0)
    monkeypatch.setattr(idle_gate, "RESUME_EVERY_S", 0.05)
    h = Harness(tmp_path, server)
    try:
        limited(h, time.time() - 60)  # Agent-1 is not opted in
        h.start()
        time.sleep(0.6)
        assert continues(h) == []
        record(h.data, ActivityEvent(agent_id="Agent-1", source=TMUX_WATCH, kind=SEEN_RATE_LIMITED,
                                     name="usage limit shown in pane", at=time.time()))  # no reset time said
        h.dispatcher.set_roster(Roster(agents=(replace(
            h.roster.get("Agent-1"), continue_after_limit=True),)))
        time.sleep(0.6)
        assert continues(h) == [] and h.received() == ""
    finally:
        h.close()
