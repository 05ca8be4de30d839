"""A batch written to a stream wakes a waiting read whole (issue 14 "Speed"), against a real
redis-server: the captain's forwarder writes a relay's delivery entries, and a relay its receipts,
in one MULTI/EXEC, so the reader on the other side takes the batch in one read (one outbox
transaction), where a plain pipeline wakes it at its first entry and leaves the rest for a second."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import redis
from redis_server import RedisServer, redis_server  # noqa: F401

from quarterdeck.core.models import Message
from quarterdeck.core.relay.ledger import Ledger
from quarterdeck.core.relay.protocol import KEYS, AnnouncedAgent, Announcement, DeliveryEntry, Receipt
from quarterdeck.core.relay.receipts import Receipts
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.service import DeliveryWorker
from quarterdeck.core.session import Session
from quarterdeck.core.store.outbox import Store


def first_read(client: redis.Redis, stream: str, write: Callable[[], None]) -> list[bytes]:
    """The entries a read already waiting on ``stream`` wakes to when ``write`` runs."""
    got: list[list[bytes]] = []
    kwargs = client.connection_pool.connection_kwargs
    reader = redis.Redis(host=kwargs["host"], port=kwargs["port"], client_name="first-read")

    def read() -> None:
        reply = reader.xread({stream: "$"}, count=1000, block=5000)
        got.append([entry_id for _, entries in reply or [] for entry_id, _ in entries])

    def waiting() -> bool:  # this reader's own read, not another's (a captain's receipt reader waits too)
        return any(c["name"] == "first-read" and "b" in c["flags"] for c in client.client_list())

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not waiting():
        assert time.monotonic() < deadline, "the read did not wait"
        time.sleep(0.005)
    write()
    thread.join(6)
    reader.close()
    assert got, "the waiting read did not end"
    return got[0]


def test_a_plain_pipeline_wakes_a_waiting_read_at_its_first_entry(redis_server: RedisServer) -> None:
    """What the MULTI/EXEC is for: without it the batch comes in two reads."""
    client = redis.Redis.from_url(redis_server.url)

    def write() -> None:
        pipe = client.pipeline(transaction=False)
        for n in range(5):
            pipe.xadd("plain", {"n": n})
        pipe.execute()

    assert len(first_read(client, "plain", write)) == 1
    client.close()


def test_the_forwarders_batch_wakes_a_relays_waiting_read_whole(tmp_path: Path, redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url)
    now = time.time()
    client.hset(KEYS.relays, "M2", Announcement("M2", "m2.lan", 1, now, now, [
        AnnouncedAgent(f"Agent-{n}", f"Agent-{n}", "", "inbox", f"/srv/in{n}") for n in range(3)]).to_json())
    session = Session.open(roster=Roster(()), data_dir=tmp_path / "captain", broker_url=redis_server.url,
                           relays=True)
    worker = DeliveryWorker(session.dispatcher, idle_wait=0.02)
    worker.start()
    try:
        batch = [Message(sender="Captain", recipients=[f"Agent-{n % 3}"], content=f"m {n}") for n in range(30)]
        read = first_read(client, KEYS.relay_in("M2"), lambda: session.submit_many(batch))
        assert len(read) == 30  # one transaction queued them, one round claimed them, one MULTI wrote them
        entries = client.xrange(KEYS.relay_in("M2"))
        assert [DeliveryEntry.from_fields(fields).message.content for _, fields in entries] == [
            f"m {n}" for n in range(30)]
    finally:
        worker.request_stop()
        worker.join(10)
        session.close()
        client.close()


def test_a_relays_receipts_wake_the_captains_waiting_read_whole(tmp_path: Path, redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url)
    ledger = Ledger(tmp_path)
    store = Store(tmp_path / "outbox.sqlite3")
    receipts = Receipts("box-1", ledger, store)
    try:
        for n in range(1, 8):
            ledger.record(n, f"m-{n}", "Agent-1")
            ledger.set_local(n, n * 10)
            ledger.add_receipt(Receipt("box-1", n, "Agent-1", "delivered", verdict="submitted", attempts=1),
                               final=True)
        read = first_read(client, KEYS.receipts, lambda: receipts.publish(client))
        assert len(read) == 7 and ledger.unpublished_count() == 0
        told = [Receipt.from_fields(fields).delivery for _, fields in client.xrange(KEYS.receipts)]
        assert told == list(range(1, 8))  # oldest first
    finally:
        ledger.close()
        store.close()
        client.close()
