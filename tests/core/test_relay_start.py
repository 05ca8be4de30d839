"""A relay reads the captain's last control word before its worker or intake runs: started during a
stop, it types nothing, however slowly the broker answers that first read. Real redis-server, real
outbox and inbox folder; the relay runs in this process so the broker's reply can be slowed."""
from __future__ import annotations

import threading
import time

import pytest
from redis_server import RedisServer, redis_server  # noqa: F401

from quarterdeck.core.broker_client import open_client
from quarterdeck.core.models import Agent, InboxTransport, Message
from quarterdeck.core.relay.protocol import KEYS, ControlEntry, DeliveryEntry
from quarterdeck.core.relay.relay import Relay
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.session import Session


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


def test_a_relay_started_during_a_stop_types_nothing_even_when_the_broker_is_slow(parts) -> None:
    session, client, url, inbox = parts
    client.xadd(KEYS.control, ControlEntry("stop", 7, time.time()).to_fields())  # type: ignore[arg-type]
    relay = Relay("box-1", session, client, url)
    entry = DeliveryEntry(1, "Agent-1", Message(sender="Captain", recipients=["Agent-1"], content="not now"),
                          time.time())
    client.xadd(relay.stream, entry.to_fields())  # type: ignore[arg-type]
    _slow_first_look(relay, 0.5)  # long enough for an unguarded intake and worker to type it
    thread = _run(relay)
    deadline = time.monotonic() + 5
    while relay.taken < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.5)
    relay.stop.set()
    thread.join(10)
    assert relay.taken == 1
    assert session.dispatcher.stopped
    assert not inbox.exists() or not list(inbox.iterdir())


def test_a_broker_that_fails_the_first_look_does_not_keep_the_relay_from_starting(parts) -> None:
    session, client, url, _ = parts
    relay = Relay("box-1", session, client, url)

    def down(*args, **kwargs):
        relay.client.xrevrange = latest  # type: ignore[method-assign]
        raise ConnectionError("the broker went away")
    latest = relay.client.xrevrange
    relay.client.xrevrange = down  # type: ignore[method-assign]
    thread = _run(relay)
    deadline = time.monotonic() + 5
    while relay.control.last_id is None and time.monotonic() < deadline:
        time.sleep(0.02)
    relay.stop.set()
    thread.join(10)
    assert relay.control.last_id == "0-0"  # the control thread looked again and found no word
    assert not session.dispatcher.stopped
