"""One health: status, score and headline of a running delivery process agree, and say when a
stop, a GUI pause or a forced breaker keeps messages from going out."""
from __future__ import annotations

import itertools
import threading

import pytest

from quarterdeck.core.config import CoordinationConfig
from quarterdeck.core.delivery.contract import Receipt
from quarterdeck.core.delivery.errors import SUBMITTED
from quarterdeck.core.dispatch.dispatcher import Dispatcher
from quarterdeck.core.models import Agent, DryRunTransport, GuiTransport, Message
from quarterdeck.core.monitor import Monitor
from quarterdeck.core.monitor.health import Status
from quarterdeck.core.monitor.reach import fleet_headline, fleet_score, fleet_status, unreachable_agents
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.roster.status import success_text
from quarterdeck.core.service import DeliveryWorker, judged, service_health
from quarterdeck.core.store import Store
from quarterdeck.core.transports.dryrun import DryRunDelivery

FAST = CoordinationConfig(max_retries=0, base_delay=0.001, backoff_multiplier=1.0, circuit_breaker_threshold=5)


class Submitting(DryRunDelivery):
    """Fails ``fail_times`` times, then submits with evidence (a dry run alone is unverified)."""

    def deliver(self, request, stop):
        super().deliver(request, stop)
        return Receipt(self.kind, SUBMITTED, "seen in the input, gone after Enter")


@pytest.fixture
def running(tmp_path):
    roster = Roster(agents=(Agent(id="Agent-1", transport=DryRunTransport()),
                            Agent(id="Agent-2", transport=DryRunTransport()),
                            Agent(id="Agent-3", transport=GuiTransport(chat=(10, 10)))))
    transports = {"Agent-1": Submitting(), "Agent-2": Submitting(fail_times=1)}
    with Store(tmp_path / "q.sqlite3") as store:
        dispatcher = Dispatcher(store, roster, config=FAST, monitor=Monitor(), stagger=0,
                                transport_factory=lambda agent: transports[agent.id])
        worker = DeliveryWorker(dispatcher, idle_wait=0.05)
        worker.start()
        yield store, dispatcher, worker, service_health(worker, roster)
        worker.request_stop()
        assert worker.join(10)


def deliver(store, dispatcher, worker, *agents):
    done = threading.Event()
    seen = []
    dispatcher.add_listener(lambda e: e.state in ("delivered", "failed") and (
        seen.append(e), len(seen) >= len(agents) and done.set()))
    for agent in agents:
        store.enqueue(Message(sender="Captain", content="Run the suite."), [(agent, "dryrun")])
    worker.notify()
    assert done.wait(10)


def test_health_follows_stop_pause_and_a_forced_breaker(running):
    _store, dispatcher, _worker, health = running
    tree = health()
    assert (tree["status"], tree["score"], tree["headline"]) == ("UP", 100, "3/3 reachable")
    assert tree["window"] == "last 15 min"

    dispatcher.breakers.get("Agent-2").force_open()
    tree = health()
    assert (tree["status"], tree["score"]) == ("DEGRADED", 67)
    assert tree["headline"] == "2/3 reachable · Agent-2 forced open by you"
    assert unreachable_agents(dispatcher, dispatcher.roster.agents) == {"Agent-2": "forced open by you"}
    dispatcher.breakers.get("Agent-2").reset()

    dispatcher.gui_paused = "a person is at the mouse"
    tree = health()
    assert tree["status"] == "DEGRADED" and tree["headline"] == (
        "2/3 reachable · Agent-3 GUI delivery paused: a person is at the mouse")
    assert tree["components"]["dispatcher"]["details"]["reason"] == "GUI delivery paused: a person is at the mouse"
    dispatcher.gui_paused = "pointer is at (5, 5), Quarterdeck left it at (9, 9): someone is using the mouse"
    assert health()["headline"] == "2/3 reachable · Agent-3 GUI delivery paused: someone is using the mouse"
    dispatcher.gui_paused = None

    dispatcher.stop_all()
    tree = health()
    assert (tree["status"], tree["score"]) == ("OUT_OF_SERVICE", 0)
    assert tree["headline"] == "0/3 reachable · stopped by the captain"
    assert tree["components"]["dispatcher"]["details"]["reason"].startswith("stopped by the captain")
    dispatcher.resume()
    assert health()["status"] == "UP"


def test_one_window_for_the_failure_rate_and_the_roster_success(running):
    store, dispatcher, worker, health = running
    deliver(store, dispatcher, worker, "Agent-2", "Agent-2")  # the first fails, the second goes
    part = health()["components"]["agents"]["components"]["Agent-2"]
    stats = dispatcher.monitor.delivery_stats("Agent-2")
    assert part["status"] == "DEGRADED" and part["details"]["failure_rate"] == 0.5
    assert part["details"]["reason"] == "1 of 2 failed in the last 15 min"
    shown, tip = success_text(stats)
    assert shown == "50 %" and "last 15 min" in tip
    tree = health()
    assert tree["status"] == "DEGRADED" and 0 < tree["score"] < 100
    assert "degraded: Agent-2 1 of 2 failed in the last 15 min" in tree["headline"]


STATUSES = [Status.UP, Status.DEGRADED, Status.DOWN, Status.OUT_OF_SERVICE, Status.UNKNOWN]


@pytest.mark.parametrize("statuses", [c for n in (1, 2, 3) for c in itertools.product(STATUSES, repeat=n)])
def test_status_and_score_never_contradict(statuses):
    status, score = fleet_status(statuses), fleet_score(statuses)
    if status in (Status.UP, Status.UNKNOWN):
        assert score == 100
    elif status is Status.DEGRADED:
        assert 1 <= score <= 99
    else:
        assert score == 0
    parts = {f"A{n}": {"status": str(s), "details": {"reason": "why"}} for n, s in enumerate(statuses)}
    reachable = sum(s not in (Status.DOWN, Status.OUT_OF_SERVICE) for s in statuses)
    assert fleet_headline(parts).startswith(f"{reachable}/{len(statuses)} reachable")


def test_judged_gives_a_history_tree_the_same_agreeing_status_score_and_headline():
    tree = {"status": "DOWN", "components": {"agents": {"status": "DOWN", "components": {
        "Good": {"status": "UP", "details": {}},
        "Bad": {"status": "DOWN", "details": {"reason": "5 failed in a row"}},
        "Idle": {"status": "UNKNOWN", "details": {"reason": "no deliveries"}}}}}}
    out = judged(tree)
    assert (out["status"], out["score"]) == ("DEGRADED", 67)
    assert out["headline"] == "2/3 reachable · Bad 5 failed in a row"
    assert judged({"status": "UP", "components": {"agents": {"status": "UNKNOWN", "components": {}}}})[
        "headline"] == "no enabled agents"
