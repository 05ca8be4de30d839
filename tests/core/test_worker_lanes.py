"""DeliveryWorker lanes: several deliveries at once to different agents, each agent's messages one
at a time and in order, GUI agents never two at once, and a stop ends every lane."""
from __future__ import annotations

import threading
import time

import pytest

from quarterdeck.core.config import CoordinationConfig
from quarterdeck.core.delivery.contract import Receipt
from quarterdeck.core.delivery.errors import SUBMITTED
from quarterdeck.core.dispatch.dispatcher import Dispatcher
from quarterdeck.core.models import Agent, DryRunTransport, GuiTransport, Message
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.service import DeliveryWorker
from quarterdeck.core.store import Store

FAST = CoordinationConfig(max_retries=0, base_delay=0.001, backoff_multiplier=1.0, circuit_breaker_threshold=50)
GUI_AGENTS = ("gui-1", "gui-2")


class Slow:
    """Takes 40 ms a delivery and records who was delivered to, when, and the text."""

    kind = "dryrun"

    def __init__(self, log: list[tuple[str, float, float, str]], lock: threading.Lock) -> None:
        self.log, self.lock = log, lock

    def deliver(self, request, stop) -> Receipt:
        began = time.monotonic()
        time.sleep(0.04)
        with self.lock:
            self.log.append((request.agent_id, began, time.monotonic(), request.text))
        return Receipt(self.kind, SUBMITTED, "recorded")


def run(tmp_path, lanes: int, per_agent: int = 5):
    roster = Roster(agents=tuple([Agent(id=f"a{n}", transport=DryRunTransport()) for n in range(4)]
                                 + [Agent(id=g, transport=GuiTransport(chat=(10, 10))) for g in GUI_AGENTS]))
    log: list[tuple[str, float, float, str]] = []
    transport = Slow(log, threading.Lock())
    with Store(tmp_path / f"q{lanes}.sqlite3") as store:
        dispatcher = Dispatcher(store, roster, config=FAST, stagger=0, transport_factory=lambda agent: transport)
        for n in range(per_agent):
            for agent in roster.agents:
                store.enqueue(Message(sender="Captain", content=f"{agent.id} #{n}"), [(agent.id, agent.transport.kind)])
        worker = DeliveryWorker(dispatcher, idle_wait=0.02, lanes=lanes)
        began = time.monotonic()
        worker.start()
        deadline = time.monotonic() + 30
        while len(log) < per_agent * len(roster.agents) and time.monotonic() < deadline:
            time.sleep(0.01)
        took = time.monotonic() - began
        worker.request_stop()
        assert worker.join(10)
        counts = store.counts_by_state()
    return log, took, counts


def overlaps(a: tuple[str, float, float, str], b: tuple[str, float, float, str]) -> bool:
    return a[1] < b[2] and b[1] < a[2]


def test_four_lanes_deliver_side_by_side_each_agent_in_order_gui_alone(tmp_path) -> None:
    one, took_one, _ = run(tmp_path, 1)
    log, took, counts = run(tmp_path, 4)
    assert counts["delivered"] == 30 and counts["queued"] == 0 and counts["sending"] == 0
    assert took < took_one * 0.7, (took, took_one)  # side by side, not one after another
    assert any(overlaps(a, b) for a in log for b in log if a[0] != b[0])
    for agent in {entry[0] for entry in log}:
        mine = [entry for entry in log if entry[0] == agent]
        assert [e[3].rsplit(" ", 1)[-1] for e in mine] == [f"#{n}" for n in range(5)]  # in order
        assert not any(overlaps(a, b) for a in mine for b in mine if a is not b)  # one at a time
    gui = [entry for entry in log if entry[0] in GUI_AGENTS]
    assert not any(overlaps(a, b) for a in gui for b in gui if a is not b)  # one keyboard
    assert not any(overlaps(a, b) for a in one for b in one if a is not b)  # one lane: one at a time


def test_lanes_must_be_positive(tmp_path) -> None:
    with Store(tmp_path / "q.sqlite3") as store:
        dispatcher = Dispatcher(store, Roster(agents=()), config=FAST, stagger=0,
                                transport_factory=lambda agent: None)
        with pytest.raises(ValueError, match="lanes"):
            DeliveryWorker(dispatcher, lanes=0)
