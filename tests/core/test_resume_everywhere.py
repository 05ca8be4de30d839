"""Resume-all across Stores (as across processes): it lifts a stop-all's halt wherever the stop
reached, the later of a stop and a resume wins, and a process's own resume is not heard back."""
from __future__ import annotations

import threading
import time
from functools import partial

import polling
import pytest

from quarterdeck.core.compose.submit import submit
from quarterdeck.core.config import CoordinationConfig
from quarterdeck.core.dispatch.dispatcher import Dispatcher
from quarterdeck.core.dispatch.stopwatch import StopWatch
from quarterdeck.core.models import Agent, DryRunTransport, Message
from quarterdeck.core.monitor.health import Status
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.service import DeliveryWorker
from quarterdeck.core.store import Store
from quarterdeck.core.transports.dryrun import DryRunDelivery
from quarterdeck.core.transports.registry import transport_for

BOUND = 5.0
wait_until = partial(polling.wait_until, timeout=BOUND, every=0.005)


@pytest.fixture
def path(tmp_path):
    return tmp_path / "q.sqlite3"


class Heard:
    def __init__(self, store: Store) -> None:
        self.stops: list[int] = []
        self.resumes: list[int] = []
        self.watch = StopWatch(store, lambda m: self.stops.append(m.generation),
                               on_resume=lambda m: self.resumes.append(m.resumed))


def test_a_resume_from_another_store_lets_a_halted_worker_deliver_again(path, monkeypatch):
    transport = DryRunDelivery()
    with Store(path) as store:
        roster = Roster(agents=(Agent(id="Agent-1", transport=DryRunTransport()),))
        dispatcher = Dispatcher(store, roster, config=CoordinationConfig(max_retries=0), stagger=0,
                                transport_factory=lambda agent: transport)
        resumed = threading.Event()
        dispatcher.add_resume_listener(resumed.set)
        passes = {"started": 0, "ended": 0}  # the worker's looks at the outbox
        real = dispatcher.process_next

        def counted(**kwargs):
            passes["started"] += 1
            try:
                return real(**kwargs)
            finally:
                passes["ended"] += 1

        monkeypatch.setattr(dispatcher, "process_next", counted)
        worker = DeliveryWorker(dispatcher, idle_wait=0.02)
        worker.start()
        try:
            with Store(path) as other:
                other.request_stop()
                wait_until(lambda: dispatcher.stopped, "the stop to halt the worker")
                assert worker.health().status is Status.OUT_OF_SERVICE
                (delivery,) = submit(store, roster, Message(sender="Captain", recipients=["Agent-1"],
                                                            content="After the stop.")).delivery_ids
                after = passes["started"] + 1  # a pass that begins after the submit
                worker.notify()
                wait_until(lambda: passes["ended"] >= after, "the worker to look at the outbox again")
                assert store.delivery(delivery).state == "queued"  # halted: nothing claimed
                other.request_resume()
            wait_until(resumed.is_set, "the resume listener")
            wait_until(lambda: store.delivery(delivery).state == "delivered", "the delivery after resume")
            assert worker.health().status is Status.UP and len(transport.sent) == 1
        finally:
            worker.request_stop()
            assert worker.join(BOUND)


def test_a_resume_reaches_only_a_halted_dispatcher(path):
    with Store(path) as store:
        dispatcher = Dispatcher(store, Roster(agents=()), stagger=0, transport_factory=transport_for)
        heard: list[None] = []
        dispatcher.add_resume_listener(lambda: heard.append(None))
        with Store(path) as other:
            other.request_resume()
        assert dispatcher.stop_watch.check()
        assert heard == [] and not dispatcher.stopped


def test_the_later_of_a_stop_and_a_resume_seen_together_wins(path):
    with Store(path) as store, Store(path) as other:
        heard = Heard(store)
        other.request_stop()
        other.request_resume()
        assert heard.watch.check()
        assert (heard.stops, heard.resumes) == ([1], [1])  # stopped, then lifted
        other.request_resume()
        time.sleep(0.01)  # the two times differ on any clock
        other.request_stop()
        assert heard.watch.check()
        assert (heard.stops, heard.resumes) == ([1, 2], [1])  # the stop came last: stays halted


def test_own_resume_is_not_heard_back(path):
    with Store(path) as store:
        heard = Heard(store)
        mark = heard.watch.request_resume()
        assert mark.resumed == 1 and not heard.watch.check()
        assert heard.resumes == []


def test_a_request_of_this_process_supersedes_an_older_opposite_one_not_yet_seen(path):
    with Store(path) as store, Store(path) as other:
        heard = Heard(store)
        other.request_resume()  # before this process's stop, not yet looked at
        heard.watch.request()
        assert not heard.watch.check() and (heard.stops, heard.resumes) == ([], [])
        other.request_stop()
        heard.watch.request_resume()
        assert not heard.watch.check() and (heard.stops, heard.resumes) == ([], [])


def test_stop_everywhere_halts_again_if_a_resume_heard_meanwhile_had_lifted_the_halt(path):
    with Store(path) as store, Store(path) as other:
        dispatcher = Dispatcher(store, Roster(agents=()), stagger=0, transport_factory=transport_for)
        stops: list[int] = []
        dispatcher.add_stop_listener(stops.append)
        dispatcher.halt()  # the panel halts at once and records the stop in the background...
        other.request_stop()
        other.request_resume()  # ...while a resume from elsewhere is heard first
        dispatcher.stop_watch.check()
        assert not dispatcher.stopped
        dispatcher.stop_everywhere()  # the panel's stop is recorded last: it wins here too
        assert dispatcher.stopped and stops == [0]
        assert not store.stop_mark().resumed_since_stop


def test_a_resume_heard_while_shutting_down_lifts_nothing(path):
    with Store(path) as store, Store(path) as other:
        dispatcher = Dispatcher(store, Roster(agents=()), stagger=0, transport_factory=transport_for)
        other.request_stop()
        dispatcher.stop_watch.check()
        assert dispatcher.stopped
        dispatcher.stopping.final()
        other.request_resume()
        dispatcher.stop_watch.check()
        assert dispatcher.stopped


def test_the_order_of_a_stop_and_a_resume_is_by_generation_not_clock(path):
    with Store(path) as store:
        assert not store.stop_mark().resumed_since_stop
        store.request_stop()
        mark = store.request_resume()
        assert (mark.generation, mark.resumed, mark.resumed_after, mark.resumed_since_stop) == (1, 1, 1, True)
        assert not store.request_stop().resumed_since_stop
