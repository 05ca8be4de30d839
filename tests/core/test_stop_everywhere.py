"""Stop-all across Stores (as across processes): a dispatcher working in one thread with its own
connection is halted by a stop another Store records, even mid-backoff; its own stops and stops
older than it leave it alone."""
from __future__ import annotations

import sqlite3
import threading
import time
from functools import partial

import polling
import pytest
from watch_looks import WatchLookCounter

from quarterdeck.core.compose.submit import submit
from quarterdeck.core.config import CoordinationConfig
from quarterdeck.core.delivery.errors import RetryableError
from quarterdeck.core.dispatch.dispatcher import Dispatcher
from quarterdeck.core.dispatch.stopwatch import StopWatch
from quarterdeck.core.models import Agent, DryRunTransport, Message
from quarterdeck.core.monitor.health import Status
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.service import DeliveryWorker
from quarterdeck.core.store import Store
from quarterdeck.core.transports.dryrun import DryRunDelivery

SLOW = CoordinationConfig(max_retries=3, base_delay=30.0, circuit_breaker_threshold=5)
FAST = CoordinationConfig(max_retries=0, base_delay=0.001)
BOUND = 5.0  # generous: the backoff alone would take 30 s or more
wait_until = partial(polling.wait_until, timeout=BOUND, every=0.005)


def roster_of(*ids: str) -> Roster:
    return Roster(agents=tuple(Agent(id=i, transport=DryRunTransport()) for i in ids))


def msg(*recipients: str) -> Message:
    return Message(sender="Captain", recipients=list(recipients), content="Run the suite and report.")


class Looks(WatchLookCounter):
    """A stop watch's looks at the file (see ``watch_looks``), waited for from a plain thread."""

    def wait_for_new(self, n: int = 1) -> None:
        """Until ``n`` looks that began after this call have ended (the one after them began)."""
        target = self.started + n + 1
        wait_until(lambda: self.started >= target, f"{n} new looks of the stop watch")


def watch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "quarterdeck-stopwatch"]


@pytest.fixture
def path(tmp_path):
    return tmp_path / "q.sqlite3"


class Working:
    """A dispatcher on a Store of its own, delivering in a thread of its own."""

    def __init__(self, path, transports, *, config=SLOW) -> None:
        self.store = Store(path)
        roster = roster_of(*transports)
        self.dispatcher = Dispatcher(self.store, roster, config=config, stagger=0,
                                     transport_factory=lambda agent: transports[agent.id])
        self.events: list = []
        self.stops: list[int] = []
        self.dispatcher.add_listener(self.events.append)
        self.dispatcher.add_stop_listener(self.stops.append)
        self.thread: threading.Thread | None = None

    def submit(self, *recipients: str) -> list[int]:
        return submit(self.store, self.dispatcher.roster, msg(*recipients)).delivery_ids

    def start(self, **run_kw) -> None:
        self.thread = threading.Thread(target=self.dispatcher.run, kwargs=run_kw, daemon=True)
        self.thread.start()

    def states(self, state: str) -> list:
        return [e for e in self.events if e.state == state]

    def close(self) -> None:
        self.dispatcher.halt()
        if self.thread is not None:
            self.thread.join(BOUND)
        self.store.close()


@pytest.fixture
def working(path):
    made: list[Working] = []

    def make(transports, **kw) -> Working:
        made.append(Working(path, transports, **kw))
        return made[-1]

    yield make
    for w in made:
        w.close()


def test_a_stop_from_another_store_ends_a_long_backoff_and_cancels(path, working, monkeypatch):
    w = working({"Agent-1": DryRunDelivery(fail_times=10, error=RetryableError), "Agent-2": DryRunDelivery()})
    looks = Looks(w.dispatcher.stop_watch, monkeypatch)
    first, second = w.submit("Agent-1", "Agent-2")
    [later] = w.submit("Agent-1")  # waits behind Agent-1's delivery in flight, in order
    w.start()
    wait_until(lambda: w.states("retrying"), "the first retry's backoff")
    looks.wait_for_new(2)  # the watch is looking at the file, steadily
    started = time.monotonic()
    with Store(path) as other:
        mark = other.request_stop()
    w.thread.join(BOUND)
    took = time.monotonic() - started
    assert not w.thread.is_alive() and took < BOUND, f"the run took {took:.2f} s to end"
    assert w.dispatcher.stopped
    row = w.store.delivery(first)
    assert (row.state, row.attempts) == ("cancelled", 1) and row.reason.startswith("stopped")
    assert w.store.delivery(second).state == "delivered", "Agent-2 does not wait behind Agent-1's backoff"
    assert w.store.delivery(later).state == "cancelled" and mark.cancelled == 1
    assert [e.state for e in w.events if e.delivery_id == first][-1] == "cancelled"
    assert w.stops == [1], "stop listeners hear the other process's stop and what it cancelled"
    wait_until(lambda: not watch_threads(), "the watch thread to end with the run")


def test_the_headless_worker_is_halted_too_and_reports_it(path):
    with Store(path) as store:
        flaky = DryRunDelivery(fail_times=10, error=RetryableError)
        dispatcher = Dispatcher(store, roster_of("Agent-1"), config=SLOW, stagger=0,
                                transport_factory=lambda agent: flaky)
        events: list = []
        dispatcher.add_listener(events.append)
        worker = DeliveryWorker(dispatcher, idle_wait=0.05)
        (delivery,) = submit(store, dispatcher.roster, msg("Agent-1")).delivery_ids
        worker.start()
        try:
            wait_until(lambda: any(e.state == "retrying" for e in events), "the backoff")
            with Store(path) as other:
                other.request_stop()
            wait_until(lambda: store.delivery(delivery).state == "cancelled", "the cancel")
            assert worker.alive and worker.health().status is Status.OUT_OF_SERVICE
        finally:
            worker.request_stop()
            assert worker.join(BOUND)
    wait_until(lambda: not watch_threads(), "the watch thread to end with the worker")


def test_own_stop_all_is_not_heard_back_and_resume_delivers_again(path, working, monkeypatch):
    transport = DryRunDelivery()
    w = working({"Agent-1": transport}, config=FAST)
    w.dispatcher.stop_watch.interval = 0.01
    looks = Looks(w.dispatcher.stop_watch, monkeypatch)
    with w.dispatcher.watching():  # the watch keeps looking across the two runs
        w.start(idle_wait=0.01)
        assert w.dispatcher.stop_all() == 0
        w.thread.join(BOUND)
        w.dispatcher.resume()
        looks.wait_for_new(3)  # looks that began after the stop was recorded have ended
        assert not w.dispatcher.stopped and w.stops == [0]  # told once, by stop_all, not heard back
        (delivery,) = w.submit("Agent-1")
        w.start(idle_wait=0.01, until=lambda: bool(w.states("delivered")))
        w.thread.join(BOUND)
    assert w.store.delivery(delivery).state == "delivered" and len(transport.sent) == 1
    assert w.stops == [0] and w.store.stop_mark().generation == 1


def test_a_dispatcher_made_after_a_stop_still_delivers(path, working):
    with Store(path) as other:
        other.request_stop()
    w = working({"Agent-1": DryRunDelivery()}, config=FAST)
    (delivery,) = w.submit("Agent-1")
    w.start(idle_wait=0.01, until=lambda: bool(w.states("delivered")))
    w.thread.join(BOUND)
    assert w.store.delivery(delivery).state == "delivered" and not w.dispatcher.stopped and w.stops == []


def test_a_stop_made_while_the_dispatcher_was_idle_halts_it_when_it_starts(path, working):
    w = working({"Agent-1": DryRunDelivery()}, config=FAST)
    with Store(path) as other:
        other.request_stop()
    w.dispatcher.run(until=lambda: False)  # returns at once: halted on entering the watch
    assert w.dispatcher.stopped and w.stops == [0]


def test_the_watch_leaves_no_read_open_and_never_blocks_a_checkpoint(path):
    with Store(path) as store:
        heard: list = []
        watch = StopWatch(store, heard.append, interval=0.005)
        with watch, watch:  # nested users share one thread
            assert len(watch_threads()) == 1
            writer = sqlite3.connect(path, timeout=2.0, isolation_level=None)
            try:
                for _ in range(20):
                    writer.execute("UPDATE control SET stopped_at = stopped_at")
                    busy, _, _ = writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                    assert busy == 0, "a reader kept a snapshot open"
            finally:
                writer.close()
            assert heard == []
        assert not watch_threads() and not watch.watching


def test_the_watch_keeps_going_when_the_store_cannot_be_read_for_a_while(path, caplog):
    with Store(path) as store:
        heard: list = []
        watch = StopWatch(store, heard.append, interval=0.005)
        with watch:
            store.connection().execute("ALTER TABLE control RENAME TO control_away")
            time.sleep(0.05)
            store.connection().execute("ALTER TABLE control_away RENAME TO control")
            with Store(path) as other:
                other.request_stop()
            wait_until(lambda: heard, "the stop after the outage")
        assert [m.generation for m in heard] == [1]
        assert sum("cannot read the outbox" in r.getMessage() for r in caplog.records) == 1


def test_interval_must_be_positive(path):
    with Store(path) as store, pytest.raises(ValueError, match="positive"):
        StopWatch(store, print, interval=0)
