"""The captain's forwarder is event-driven (issue 14 "Speed"), against a real redis-server, with this
test speaking the relay's side of the protocol itself: a submit is XADDed to the relay's stream
within milliseconds (not at the next poll), a relay's receipt is recorded as soon as it is XADDed
(not when a batch fills), and closing the session with the receipt reader blocked mid-read prints
nothing above DEBUG."""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis_server import RedisServer, redis_server  # noqa: F401

from quarterdeck.core.models import Message
from quarterdeck.core.relay.protocol import CAPTAIN_GROUP, KEYS, AnnouncedAgent, Announcement, DeliveryEntry, Receipt
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.service import DeliveryWorker
from quarterdeck.core.session import Session

GENEROUS_S = 0.2  # a 1 s poll misses this every time over five tries; an event-driven path takes ms
# Submit and receipt, five tries each: an event-driven path takes a few ms, so their median is far under
# TYPICAL_S, where a path that waits for the quiet poll (0.25 s) has a median near 0.12 s; one try may
# meet a stall of the loaded machine (an fsync, the scheduler), so the slowest is held under SLOWEST_S.
TYPICAL_S = 0.05
SLOWEST_S = 0.5


@pytest.fixture
def parts(tmp_path: Path, redis_server: RedisServer) -> Iterator[tuple[Session, redis.Redis]]:
    client = redis.Redis.from_url(redis_server.url)
    now = time.time()
    client.hset(KEYS.relays, "M2", Announcement("M2", "m2.lan", 1, now, now, [
        AnnouncedAgent("Agent-9", "Agent-9", "", "inbox", "/srv/in9")]).to_json())
    session = Session.open(roster=Roster(()), data_dir=tmp_path / "captain", broker_url=redis_server.url,
                           relays=True)
    worker = DeliveryWorker(session.dispatcher, idle_wait=0.02)
    worker.start()
    try:
        yield session, client
    finally:
        worker.request_stop()
        worker.join(10)
        session.close()
        client.close()


def own(session: Session) -> str:
    """The stream of this captain's receipts (named by its outbox's id)."""
    assert session.forwarder is not None
    return KEYS.receipts_of(session.forwarder.captain)


def next_entry(client: redis.Redis, last: bytes) -> tuple[bytes, DeliveryEntry]:
    read = client.xread({KEYS.relay_in("M2"): last}, count=1, block=5000)
    assert read, "no delivery entry reached the relay's stream within 5 s"
    entry_id, fields = read[0][1][0]
    return entry_id, DeliveryEntry.from_fields(fields)


def test_a_submit_reaches_the_relays_stream_and_its_receipt_the_outbox_within_milliseconds(parts) -> None:
    session, client = parts
    last, to_stream, to_row = b"0", [], []
    for n in range(5):
        time.sleep(0.35 + 0.1 * n)  # quiet in between: the forwarder is in its slowest idle wait
        began = time.monotonic()
        [delivery] = session.submit(Message(sender="Captain", recipients=["Agent-9"], content=f"go {n}")).delivery_ids
        last, entry = next_entry(client, last)
        to_stream.append(time.monotonic() - began)
        assert entry.delivery == delivery
        client.set("keep-the-test-honest", n)  # the broker answers between the two
        sent = time.monotonic()
        client.xadd(own(session), Receipt("M2", delivery, "Agent-9", "delivered", "submitted", "read back",
                                           attempts=1, at=time.time()).to_fields())  # type: ignore[arg-type]
        while session.store.states_of([delivery])[delivery] != "delivered":
            assert time.monotonic() - sent < 5, "the receipt was not recorded within 5 s"
            time.sleep(0.002)
        to_row.append(time.monotonic() - sent)
    assert sorted(to_stream)[2] < TYPICAL_S and max(to_stream) < SLOWEST_S, f"submit -> XADD took {to_stream}"
    assert sorted(to_row)[2] < TYPICAL_S and max(to_row) < SLOWEST_S, f"receipt XADDed -> row delivered took {to_row}"


def test_receipts_in_one_read_are_recorded_together_and_at_once(parts) -> None:
    session, client = parts
    batch = [Message(sender="Captain", recipients=["Agent-9"], content=f"m {n}") for n in range(30)]
    ids = [i for s in session.submit_many(batch) for i in s.delivery_ids]
    last, entries = b"0", []
    while len(entries) < len(ids):
        last, entry = next_entry(client, last)
        entries.append(entry)
    assert [e.delivery for e in entries] == ids  # in order, each once
    pipe = client.pipeline(transaction=False)
    for entry in entries:
        pipe.xadd(own(session), Receipt("M2", entry.delivery, "Agent-9", "delivered", "submitted",
                                         attempts=1, at=time.time()).to_fields())  # type: ignore[arg-type]
    sent = time.monotonic()
    pipe.execute()
    while set(session.store.states_of(ids).values()) != {"delivered"}:
        assert time.monotonic() - sent < 5, "the receipts were not recorded within 5 s"
        time.sleep(0.002)
    assert time.monotonic() - sent < GENEROUS_S * 2
    while client.xlen(own(session)) or client.xpending(own(session), CAPTAIN_GROUP)["pending"]:
        assert time.monotonic() - sent < 5, "the recorded receipts were not acknowledged and deleted within 5 s"
        time.sleep(0.002)
    assert time.monotonic() - sent < GENEROUS_S * 2  # with the next read, which then waits for more


def test_closing_with_the_receipt_reader_blocked_mid_read_is_quiet(parts, caplog) -> None:
    session, _client = parts
    session.submit(Message(sender="Captain", recipients=["Agent-9"], content="left in flight"))
    assert session.forwarder is not None
    time.sleep(0.3)  # the reader is blocked in XREADGROUP now
    with caplog.at_level(logging.DEBUG):
        session.forwarder.close(grace=0.0)
        assert session.broker is not None
        session.broker.close()  # the connection goes under the blocked read
        time.sleep(1.5)  # the read's block ends
    loud = [r for r in caplog.records if r.levelno > logging.DEBUG and r.name.startswith("quarterdeck.core")]
    assert loud == [], [r.getMessage() for r in loud]
    assert all(r.exc_info is None for r in caplog.records if "receipt" in r.getMessage())


def test_a_delivery_queued_without_a_notify_goes_within_the_poll_while_receipts_keep_the_forwarder_busy(
        parts) -> None:
    """Rounds that come for receipts alone do not read the queue each time; one queued by another process
    on this outbox (no notify reaches this one) must still go within the forwarder's poll."""
    session, client = parts
    agent = session.delivering.get("Agent-9")
    waits, last = [], b"0"
    for n in range(5):
        [early] = session.submit(Message(sender="Captain", recipients=["Agent-9"], content=f"early {n}")).delivery_ids
        last, _ = next_entry(client, last)
        [quiet] = session.store.enqueue(Message(sender="Captain", recipients=["Agent-9"], content=f"quiet {n}"),
                                        [(agent.id, agent.transport.kind)])
        began = time.monotonic()
        client.xadd(own(session), Receipt("M2", early, "Agent-9", "delivered", "submitted", "read back",
                                           attempts=1, at=time.time()).to_fields())  # type: ignore[arg-type]
        last, entry = next_entry(client, last)
        waits.append(time.monotonic() - began)
        assert entry.delivery == quiet
    assert max(waits) < GENEROUS_S, f"queued without a notify -> XADD took {waits}"

