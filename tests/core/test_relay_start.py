"""A relay reads the captain's last control word before its intake reads (and before its worker runs,
when the broker answers then): started during a stop, it types nothing, however slowly the broker
answers that first look, or when it fails. Real redis-server, real outbox and inbox folder; the relay
runs in this process so the broker's reply can be slowed."""
from __future__ import annotations

import contextlib
import sqlite3
import threading
import time

import pytest
from polling import wait_until
from redis_server import RedisServer, redis_server  # noqa: F401

from quarterdeck.core.broker_client import open_client
from quarterdeck.core.models import Agent, InboxTransport, Message
from quarterdeck.core.relay.protocol import KEYS, ControlEntry, DeliveryEntry
from quarterdeck.core.relay.relay import Relay
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.session import Session
from quarterdeck.core.store.control import STOPPED


@pytest.fixture
def parts(tmp_path, redis_server: RedisServer):
    roster = Roster((Agent(id="Agent-1", transport=InboxTransport(path=tmp_path / "in1")),))
    session = Session.open(roster=roster, data_dir=tmp_path / "data", stagger=0)
    client = open_client(redis_server.url, connect_timeout=2.0, read_timeout=5.0)
    yield session, client, redis_server.url, tmp_path / "in1"
    session.close()
    client.close()


def _run(relay: Relay) -> threading.Thread:
    thread = threading.Thread(target=relay.run, daemon=True)
    thread.start()
    return thread


def _slow_first_look(relay: Relay, seconds: float) -> None:
    latest = relay.client.xrevrange

    def slow(*args, **kwargs):
        time.sleep(seconds)
        return latest(*args, **kwargs)
    relay.client.xrevrange = slow  # type: ignore[method-assign]


def _states(session) -> list[str]:
    with contextlib.closing(sqlite3.connect(session.store.path)) as conn:
        return [row[0] for row in conn.execute("SELECT state FROM deliveries")]


def _stopped_with_one_entry(client, relay: Relay) -> None:
    client.xadd(KEYS.control, ControlEntry("stop", 7, time.time()).to_fields())  # type: ignore[arg-type]
    entry = DeliveryEntry(1, "Agent-1", Message(sender="Captain", recipients=["Agent-1"], content="not now"),
                          time.time())
    client.xadd(relay.stream, entry.to_fields())  # type: ignore[arg-type]


def _ended(relay: Relay, thread: threading.Thread) -> None:
    relay.stop.set()
    thread.join(10)
    assert not thread.is_alive()


def test_a_relay_started_during_a_stop_types_nothing_even_when_the_broker_is_slow(parts) -> None:
    session, client, url, inbox = parts
    relay = Relay("box-1", session, client, url)
    _stopped_with_one_entry(client, relay)
    _slow_first_look(relay, 0.5)  # long enough for an unguarded intake and worker to type it
    thread = _run(relay)
    wait_until(lambda: _states(session) == ["cancelled"], "the entry taken and cancelled", timeout=5)
    time.sleep(0.3)
    _ended(relay, thread)
    assert relay.taken == 1 and session.dispatcher.stopped
    assert not inbox.exists() or not list(inbox.iterdir())


def test_a_relay_whose_first_look_fails_takes_nothing_before_it_knows_of_the_stop(parts) -> None:
    session, client, url, inbox = parts
    relay = Relay("box-1", session, client, url)
    _stopped_with_one_entry(client, relay)
    looks, answer = [], threading.Event()
    latest = relay.client.xrevrange

    def down_at_first(*args, **kwargs):
        looks.append(time.monotonic())
        if len(looks) == 1:  # the broker went away for the first look
            raise ConnectionError("the broker went away")
        answer.wait(10)  # and the next look is held: meanwhile the intake must not read
        return latest(*args, **kwargs)
    relay.client.xrevrange = down_at_first  # type: ignore[method-assign]
    thread = _run(relay)
    wait_until(lambda: len(looks) >= 2, "the look after the failed one", timeout=5)
    time.sleep(0.5)  # time enough for an intake that does not wait for it to read the entry
    assert relay.taken == 0 and _states(session) == []
    answer.set()
    wait_until(lambda: _states(session) == ["cancelled"], "the entry taken and cancelled", timeout=10)
    _ended(relay, thread)
    assert session.dispatcher.stopped
    assert not inbox.exists() or not list(inbox.iterdir())


def _reasons(session) -> list[tuple[str, str]]:
    with contextlib.closing(sqlite3.connect(session.store.path)) as conn:
        return [(row[0], row[1]) for row in conn.execute("SELECT state, reason FROM deliveries")]


def test_a_relay_restarted_during_the_same_stop_records_no_new_stop_and_cancels_what_waits(parts) -> None:
    session, client, url, _ = parts
    client.xadd(KEYS.control, ControlEntry("stop", 7, time.time()).to_fields())  # type: ignore[arg-type]
    first = Relay("box-1", session, client, url)
    first.control.prime()  # applied as a live stop: this outbox's stop-all number 1
    assert session.dispatcher.stopped and session.store.stop_mark().generation == 1
    first.ledger.close()
    session.dispatcher.resume()  # a new process: nothing halted in memory (the file still says stopped)
    # queued meanwhile, as recovery puts back a delivery claimed before a crash with nothing typed
    session.submit(Message(sender="Captain", recipients=["Agent-1"], content="put back"))
    assert [state for state, _ in _reasons(session)] == ["queued"]
    second = Relay("box-1", session, client, url)
    try:
        second.control.prime()
        assert session.dispatcher.stopped
        assert session.store.stop_mark().generation == 1  # the same stop: not recorded again
        assert _reasons(session) == [("cancelled", STOPPED)]
    finally:
        second.ledger.close()
