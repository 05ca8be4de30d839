"""The captain's receipt reader against a real redis-server: receipts written while a batch is being
recorded are read meanwhile and handed over together as the next batch (at most ``count`` of them);
each is handed once (the periodic XAUTOCLAIM does not bring back those still being recorded), and
XACKed and XDELed only once the sink recorded it; one the sink says is not this outbox's, or a
batch it could not record, stays pending and comes back."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import redis
from redis_server import RedisServer, redis_server  # noqa: F401

from quarterdeck.core.relay.protocol import CAPTAIN_GROUP, KEYS, Receipt
from quarterdeck.core.transports.broker import BrokerLink
from quarterdeck.core.transports.receipt_reader import ReceiptRouter


class Sink:
    """Records batches of delivery ids; ``gate`` holds the recording of a batch until it is set."""

    def __init__(self, ours: Callable[[Receipt], bool] = lambda r: True) -> None:
        self.batches: list[list[int]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.ours = ours
        self.fail: Exception | None = None

    def __call__(self, receipts: list[Receipt]) -> list[bool]:
        self.entered.set()
        assert self.gate.wait(10)
        if self.fail is not None:
            failure, self.fail = self.fail, None
            raise failure
        self.batches.append([r.delivery for r in receipts])
        return [self.ours(r) for r in receipts]

    def handed(self) -> list[int]:
        return [d for batch in self.batches for d in batch]


@pytest.fixture
def client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url)
    yield client
    client.close()


def reader(url: str, sink: Sink, **options: int) -> Iterator[ReceiptRouter]:
    link = BrokerLink(url)
    router = ReceiptRouter(link, sink, **options)
    router.start()
    try:
        yield router
    finally:
        router.close(wait=2.0)
        link.close()


def write(client: redis.Redis, *deliveries: int) -> None:
    for delivery in deliveries:  # each its own XADD: a read may end after any of them
        client.xadd(KEYS.receipts, Receipt("M1", delivery, "A1", "delivered", "submitted", attempts=1,
                                           at=time.time()).to_fields())  # type: ignore[arg-type]


def pending(client: redis.Redis) -> int:
    return int(client.xpending(KEYS.receipts, CAPTAIN_GROUP)["pending"])


def until(what: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "not within the time given"
        time.sleep(0.005)


def test_receipts_read_while_a_batch_is_recorded_are_handed_together_and_acknowledged_once_recorded(
        redis_server: RedisServer, client: redis.Redis) -> None:
    sink = Sink()
    for _router in reader(redis_server.url, sink):
        sink.gate.clear()
        write(client, 1)
        assert sink.entered.wait(5)  # the first batch is being recorded, and held there
        write(client, 2, 3, 4, 5, 6)
        until(lambda: pending(client) == 6)  # read meanwhile: all six are read, none acknowledged
        time.sleep(0.05)
        assert sink.batches == [] and client.xlen(KEYS.receipts) == 6
        sink.gate.set()
        until(lambda: client.xlen(KEYS.receipts) == 0 and pending(client) == 0)
        assert sink.batches == [[1], [2, 3, 4, 5, 6]]


def test_at_most_count_receipts_wait_while_a_batch_is_recorded(redis_server: RedisServer,
                                                               client: redis.Redis) -> None:
    sink = Sink()
    for _router in reader(redis_server.url, sink, count=4):
        sink.gate.clear()
        write(client, 1)
        assert sink.entered.wait(5)
        write(client, *range(2, 12))
        until(lambda: pending(client) == 5)  # the one being recorded, and four waiting
        time.sleep(0.1)
        assert pending(client) == 5
        sink.gate.set()
        until(lambda: client.xlen(KEYS.receipts) == 0 and pending(client) == 0)
        assert sink.handed() == list(range(1, 12))
        assert all(len(batch) <= 4 for batch in sink.batches)


def test_receipts_still_being_recorded_are_not_reclaimed_and_handed_twice(redis_server: RedisServer,
                                                                         client: redis.Redis) -> None:
    sink = Sink()
    for _router in reader(redis_server.url, sink):
        sink.gate.clear()
        write(client, 1)
        assert sink.entered.wait(5)
        write(client, 2, 3)
        until(lambda: pending(client) == 3)
        time.sleep(3.5)  # idle for longer than a second, over at least one XAUTOCLAIM
        sink.gate.set()
        until(lambda: client.xlen(KEYS.receipts) == 0 and pending(client) == 0)
        time.sleep(0.2)
        assert sink.batches == [[1], [2, 3]]


def test_one_not_ours_stays_pending_and_comes_back(redis_server: RedisServer, client: redis.Redis) -> None:
    sink = Sink(ours=lambda r: r.delivery != 2)
    for _router in reader(redis_server.url, sink):
        write(client, 1, 2, 3)
        until(lambda: sorted(sink.handed()) == [1, 2, 3])
        until(lambda: client.xlen(KEYS.receipts) == 1 and pending(client) == 1)
        until(lambda: sink.handed().count(2) == 2, timeout=6.0)  # reclaimed once idle: handed again
        assert sink.handed().count(1) == sink.handed().count(3) == 1


def test_a_batch_that_could_not_be_recorded_stays_pending_and_is_recorded_later(
        redis_server: RedisServer, client: redis.Redis, caplog) -> None:
    sink = Sink()
    sink.fail = OSError("disk full")
    for _router in reader(redis_server.url, sink):
        with caplog.at_level(logging.WARNING):
            write(client, 7, 8)
            until(lambda: sink.handed() == [7, 8], timeout=6.0)
            until(lambda: client.xlen(KEYS.receipts) == 0 and pending(client) == 0)
    assert "receipts: 2 could not be recorded (OSError: disk full); they stay pending" in caplog.text


def test_a_malformed_entry_is_dropped_with_one_line_and_acknowledged(redis_server: RedisServer,
                                                                     client: redis.Redis, caplog) -> None:
    sink = Sink()
    for _router in reader(redis_server.url, sink):
        with caplog.at_level(logging.WARNING):
            client.xadd(KEYS.receipts, {"v": "1", "relay": "M1"})
            write(client, 4)
            until(lambda: sink.handed() == [4])
            until(lambda: client.xlen(KEYS.receipts) == 0 and pending(client) == 0)
    assert "receipts: dropped a malformed entry" in caplog.text
