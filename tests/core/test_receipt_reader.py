"""The captain's receipt reader against a real redis-server: a relay's pipeline of receipts is one
batch (at most ``count`` receipts), those written while a batch is recorded the next one; each is
XACKed and XDELed only once the sink recorded it; one the sink says is not this outbox's, or a batch
it could not record, stays pending and comes back; a malformed entry is dropped."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import redis
from redis.client import Pipeline
from redis_server import RedisServer, redis_server  # noqa: F401

from quarterdeck.core.relay.protocol import CAPTAIN_GROUP, KEYS, VERSION, Receipt
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
        self.fail_times = 1  # how many calls in a row ``fail`` is raised

    def __call__(self, receipts: list[Receipt]) -> list[bool]:
        self.entered.set()
        assert self.gate.wait(10)
        if self.fail is not None:
            failure = self.fail
            self.fail_times -= 1
            if self.fail_times <= 0:
                self.fail = None
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


def write(client: redis.Redis | Pipeline, *deliveries: int) -> None:
    for delivery in deliveries:  # each its own XADD: a read may end after any of them
        client.xadd(KEYS.receipts, Receipt("M1", delivery, "A1", "delivered", "submitted", attempts=1,
                                           at=time.time()).to_fields())  # type: ignore[arg-type]


def blocked(client: redis.Redis) -> None:
    """Until the reader waits in a blocking read."""
    until(lambda: any("b" in c["flags"] and c["cmd"] == "xreadgroup" for c in client.client_list()))


def pending(client: redis.Redis) -> int:
    return int(client.xpending(KEYS.receipts, CAPTAIN_GROUP)["pending"])


def until(what: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "not within the time given"
        time.sleep(0.005)


def test_a_pipeline_of_receipts_is_one_batch(redis_server: RedisServer, client: redis.Redis) -> None:
    sink = Sink()
    for _router in reader(redis_server.url, sink):
        blocked(client)
        pipe = client.pipeline(transaction=True)  # as a relay publishes them: the blocked read wakes to all
        write(pipe, 1, 2, 3, 4, 5, 6)
        pipe.execute()
        until(lambda: client.xlen(KEYS.receipts) == 0 and pending(client) == 0)
        assert sink.batches == [[1, 2, 3, 4, 5, 6]]


def test_receipts_are_acknowledged_only_once_recorded_and_those_written_meanwhile_are_the_next_batch(
        redis_server: RedisServer, client: redis.Redis) -> None:
    sink = Sink()
    for _router in reader(redis_server.url, sink):
        sink.gate.clear()
        write(client, 1)
        assert sink.entered.wait(5)  # the first batch is being recorded, and held there
        write(client, 2, 3, 4, 5, 6)
        time.sleep(0.1)
        assert sink.batches == [] and client.xlen(KEYS.receipts) == 6 and pending(client) == 1
        sink.gate.set()
        until(lambda: client.xlen(KEYS.receipts) == 0 and pending(client) == 0)
        assert sink.batches == [[1], [2, 3, 4, 5, 6]]


def test_a_batch_holds_at_most_count_receipts(redis_server: RedisServer, client: redis.Redis) -> None:
    sink = Sink()
    for _router in reader(redis_server.url, sink, count=4):
        blocked(client)
        pipe = client.pipeline(transaction=True)
        write(pipe, *range(1, 12))
        pipe.execute()
        until(lambda: client.xlen(KEYS.receipts) == 0 and pending(client) == 0)
        assert sink.handed() == list(range(1, 12))
        assert [len(batch) for batch in sink.batches] == [4, 4, 3]


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
    sink.fail, sink.fail_times = OSError("disk full"), 3  # three tries in a row: one episode
    for _router in reader(redis_server.url, sink):
        blocked(client)
        with caplog.at_level(logging.WARNING):
            pipe = client.pipeline(transaction=True)  # one batch, as the pipeline test shows
            write(pipe, 7, 8)
            pipe.execute()
            until(lambda: sink.handed() == [7, 8], timeout=15.0)  # reclaimed every 2 s once idle 1 s
            until(lambda: client.xlen(KEYS.receipts) == 0 and pending(client) == 0)
    lines = [r.getMessage() for r in caplog.records if r.name.endswith("receipt_reader")]
    assert len(lines) == 2, lines  # one when it began, one when it ended: not one per try
    assert lines[0].startswith("receipts: 2 could not be recorded (OSError: disk full); they stay pending")
    assert lines[1].startswith("receipts are recorded again after ")


def test_a_malformed_entry_is_dropped_with_one_line_and_acknowledged(redis_server: RedisServer,
                                                                     client: redis.Redis, caplog) -> None:
    sink = Sink()
    for _router in reader(redis_server.url, sink):
        with caplog.at_level(logging.WARNING):
            client.xadd(KEYS.receipts, {"v": VERSION, "relay": "M1"})
            write(client, 4)
            until(lambda: sink.handed() == [4])
            until(lambda: client.xlen(KEYS.receipts) == 0 and pending(client) == 0)
    assert "receipts: dropped a malformed entry" in caplog.text


def test_a_broker_outage_is_said_while_it_lasts_and_reading_goes_on_after(redis_server: RedisServer) -> None:
    sink = Sink()
    for router in reader(redis_server.url, sink):
        redis_server.stop()
        until(lambda r=router: r.down is not None)
        assert router.down.startswith(f"broker {router.link.where} unreachable")
        redis_server.start()
        client = redis.Redis.from_url(redis_server.url)
        try:
            write(client, 3)
            until(lambda r=router: sink.handed() == [3] and r.down is None, timeout=6.0)
        finally:
            client.close()


def test_a_refused_read_is_one_warning_and_reading_goes_on(redis_server: RedisServer, client: redis.Redis,
                                                           caplog) -> None:
    sink = Sink()
    for router in reader(redis_server.url, sink):
        blocked(client)
        with caplog.at_level(logging.WARNING):
            client.xgroup_destroy(KEYS.receipts, CAPTAIN_GROUP)  # the blocked read is refused: NOGROUP
            until(lambda r=router: r.down is not None)
            write(client, 5)
            until(lambda: sink.handed() == [5], timeout=6.0)
    refused = [r.getMessage() for r in caplog.records if "refused to hand receipts" in r.getMessage()]
    assert len(refused) == 1 and refused[0].endswith("; retrying"), refused


def test_a_batch_recorded_while_closing_is_acknowledged_at_once(redis_server: RedisServer,
                                                               client: redis.Redis) -> None:
    sink = Sink()
    for router in reader(redis_server.url, sink):
        sink.gate.clear()
        write(client, 9)
        assert sink.entered.wait(5)
        router.close(wait=0.0)  # no next read will carry the acknowledgement
        sink.gate.set()
        until(lambda: client.xlen(KEYS.receipts) == 0 and pending(client) == 0)
        assert sink.batches == [[9]]


def test_pending_receipts_beyond_one_batch_are_all_reclaimed_in_turn(redis_server: RedisServer,
                                                                     client: redis.Redis) -> None:
    """More receipts left pending than a batch holds (another captain's, it being away): each reclaim
    goes on from where the last one stopped, so this captain's own, further on, come back too."""
    client.xgroup_create(KEYS.receipts, CAPTAIN_GROUP, id="0", mkstream=True)
    write(client, 1, 2, 3, 4, 5, 100)
    client.xreadgroup(CAPTAIN_GROUP, "gone-1", {KEYS.receipts: ">"})  # read by a captain process now gone
    sink = Sink(ours=lambda r: r.delivery == 100)
    time.sleep(1.0)  # idle long enough to be reclaimed
    for _router in reader(redis_server.url, sink, count=2):
        until(lambda: 100 in sink.handed(), timeout=10.0)
        until(lambda: pending(client) == 5)
    assert sink.batches[:3] == [[1, 2], [3, 4], [5, 100]]
