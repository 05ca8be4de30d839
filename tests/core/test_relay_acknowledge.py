"""A relay acknowledges (XACK, XDEL) what it took in the same round trip as its next read, and on the
way out; until then the entries stay pending in its consumer group. Real redis-server, real outbox."""
from __future__ import annotations

import threading
import time

import pytest
from polling import wait_until
from redis_server import RedisServer, redis_server  # noqa: F401

from quarterdeck.core.broker_client import open_client
from quarterdeck.core.broker_group import ensure_group
from quarterdeck.core.models import Agent, InboxTransport, Message
from quarterdeck.core.relay.protocol import KEYS, RELAY_GROUP, DeliveryEntry
from quarterdeck.core.relay.relay import Relay
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.session import Session


@pytest.fixture
def relay(tmp_path, redis_server: RedisServer):
    roster = Roster((Agent(id="Agent-1", transport=InboxTransport(path=tmp_path / "in1")),))
    session = Session.open(roster=roster, data_dir=tmp_path / "data", stagger=0)
    client = open_client(redis_server.url, connect_timeout=2.0, read_timeout=5.0)
    made = Relay("box-1", session, client, redis_server.url)
    ensure_group(client, made.stream, RELAY_GROUP)
    yield made
    made.ledger.close()
    session.close()
    client.close()


def _send(relay: Relay, n: int) -> None:
    for k in range(n):
        entry = DeliveryEntry(k + 1, "Agent-1", Message(sender="Captain", recipients=["Agent-1"], content=f"m{k}"),
                              time.time())
        relay.client.xadd(relay.stream, entry.to_fields())


def _pending(relay: Relay) -> int:
    return int(relay.client.xpending(relay.stream, RELAY_GROUP)["pending"])


def test_what_a_read_took_is_acknowledged_with_the_next_read(relay: Relay) -> None:
    _send(relay, 3)
    reply = relay._read(">", None)
    relay._handle(reply[0][1])
    assert relay.taken == 3
    assert _pending(relay) == 3 and relay.client.xlen(relay.stream) == 3  # taken, not acknowledged yet
    sent: list[list[str]] = []
    pipeline = relay.client.pipeline

    def watched(*args, **kwargs):
        made = pipeline(*args, **kwargs)
        execute = made.execute
        made.execute = lambda: (sent.append([str(c[0][0]) for c in made.command_stack]), execute())[1]
        return made

    relay.client.pipeline = watched  # type: ignore[method-assign]
    assert not relay._read(">", None)  # nothing new
    assert sent == [["XACK", "XDEL", "XREADGROUP"]]  # acknowledged first, in the read's round trip
    assert _pending(relay) == 0 and relay.client.xlen(relay.stream) == 0


def test_a_failed_read_keeps_what_it_was_to_acknowledge_for_the_next(relay: Relay) -> None:
    _send(relay, 2)
    relay._handle(relay._read(">", None)[0][1])
    pipeline = relay.client.pipeline

    def broken(*args, **kwargs):
        made = pipeline(*args, **kwargs)

        def execute():
            raise ConnectionError("the broker went away")
        made.execute = execute
        return made

    relay.client.pipeline = broken  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        relay._read(">", None)
    assert _pending(relay) == 2
    relay.client.pipeline = pipeline  # type: ignore[method-assign]
    relay._read(">", None)
    assert _pending(relay) == 0 and relay.client.xlen(relay.stream) == 0


def test_what_was_taken_is_acknowledged_on_the_way_out(relay: Relay) -> None:
    _send(relay, 2)
    relay._handle(relay._read(">", None)[0][1])
    assert _pending(relay) == 2
    relay._read_acknowledged()
    assert _pending(relay) == 0 and relay.client.xlen(relay.stream) == 0
    assert relay.stream == KEYS.relay_in("box-1")


def _blocked(relay: Relay) -> int:
    return int(relay.client.info("clients")["blocked_clients"])


def _intake_takes(relay: Relay, monkeypatch) -> list[int]:
    """Run the intake in a thread; returns the number of entries each take handled."""
    takes: list[int] = []
    handle = relay._handle
    monkeypatch.setattr(relay, "_handle", lambda raws: (raws and takes.append(len(raws)), handle(raws)))
    monkeypatch.setattr(relay, "_claim_abandoned", lambda: None)
    # a read that does not time out meanwhile (one ending just as the pipeline comes would take it
    # whole), under the client's read timeout (5 s)
    monkeypatch.setattr("quarterdeck.core.relay.relay.READ_BLOCK_MS", 4_000)
    before = _blocked(relay)
    thread = threading.Thread(target=relay._intake, daemon=True)
    thread.start()
    wait_until(lambda: _blocked(relay) > before, "the intake's read to wait for entries", timeout=5)
    pipe = relay.client.pipeline(transaction=True)  # as the captain's forwarder writes a batch
    for k in range(5):
        entry = DeliveryEntry(k + 1, "Agent-1", Message(sender="Captain", recipients=["Agent-1"], content=f"m{k}"),
                              time.time())
        pipe.xadd(relay.stream, entry.to_fields())
    pipe.execute()  # one MULTI/EXEC: the waiting read wakes to all five
    wait_until(lambda: relay.taken == 5, "the five taken", timeout=5)
    wait_until(lambda: _blocked(relay) > before, "the intake's next read to wait", timeout=5)
    relay.stop.set()
    for client in relay.client.client_list():  # its waiting read ends now, empty
        if client["cmd"] == "xreadgroup" and "b" in client["flags"]:
            relay.client.client_unblock(client["id"])
    thread.join(5)
    assert not thread.is_alive()
    return takes


def test_a_batch_that_wakes_a_waiting_read_is_taken_whole(relay: Relay, monkeypatch) -> None:
    assert _intake_takes(relay, monkeypatch) == [5]  # one take: one outbox transaction for the five
