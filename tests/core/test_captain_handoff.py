"""Receipt batches handed from one thread to another (the receipt reader's to the forwarder's, which
records them with its claim): the handing thread gets what the recording returned, or its error, once
it is done; a batch nobody takes (the other thread is not running, or stopped before taking it) is
recorded by the handing thread itself; every batch is recorded exactly once."""
from __future__ import annotations

import threading
import time

import pytest

from quarterdeck.core.captain.handoff import Handoff
from quarterdeck.core.relay.protocol import Receipt


def receipts(n: int, first: int = 1) -> list[Receipt]:
    return [Receipt("M1", d, "A1", "delivered", at=time.time()) for d in range(first, first + n)]


class Taker:
    """A real thread taking handed batches, as the forwarder's does each round."""

    def __init__(self) -> None:
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.recorded: list[int] = []
        self.fail: BaseException | None = None
        self.handoff = Handoff(self.wake.set, self.running)
        self.thread = threading.Thread(target=self.run)

    def running(self) -> bool:
        return self.thread.is_alive() and not self.stop.is_set()

    def run(self) -> None:
        while not self.stop.is_set():
            self.wake.clear()
            slots = self.handoff.take()
            if slots:
                if self.fail is not None:
                    self.handoff.failed(slots, self.fail)
                else:
                    batch = self.handoff.receipts(slots)
                    self.recorded += [r.delivery for r in batch]
                    self.handoff.finish(slots, [r.delivery % 2 == 0 for r in batch])
            self.wake.wait(0.5)


def here(recorded: list[int]):
    def record(batch: list[Receipt]) -> list[bool]:
        recorded.extend(r.delivery for r in batch)
        return [True] * len(batch)
    return record


def test_batches_from_several_threads_are_recorded_once_by_the_taker_with_their_own_results():
    taker, mine = Taker(), []
    taker.thread.start()
    results: dict[int, list[bool]] = {}

    def hand(first: int) -> None:
        for k in range(20):
            start = first + k * 5
            results[start] = taker.handoff.hand(receipts(5, start), here(mine))

    handers = [threading.Thread(target=hand, args=(1000 * t,)) for t in range(1, 4)]
    for h in handers:
        h.start()
    for h in handers:
        h.join(10)
    taker.stop.set()
    taker.wake.set()
    taker.thread.join(5)
    assert mine == []
    assert sorted(taker.recorded) == sorted(1000 * t + i for t in range(1, 4) for i in range(100))
    assert all(results[start] == [d % 2 == 0 for d in range(start, start + 5)] for start in results)
    assert len(results) == 60


def test_nobody_running_the_handing_thread_records_it():
    taker, mine = Taker(), []
    assert taker.handoff.hand(receipts(3), here(mine)) == [True, True, True]
    assert mine == [1, 2, 3] and taker.recorded == []


def test_a_taker_that_stops_leaves_what_it_did_not_take_to_the_handing_thread():
    taker, mine = Taker(), []
    taker.thread.start()
    taker.stop.set()  # stopping: it takes nothing more (its thread may still be finishing a wait)
    assert taker.handoff.hand(receipts(2, 7), here(mine)) == [True, True]
    taker.wake.set()
    taker.thread.join(5)
    assert mine == [7, 8] and taker.recorded == []


def test_the_takers_error_reaches_the_handing_thread():
    taker = Taker()
    taker.fail = OSError("disk full")
    taker.thread.start()
    try:
        with pytest.raises(OSError, match="disk full"):
            taker.handoff.hand(receipts(2), here([]))
    finally:
        taker.stop.set()
        taker.wake.set()
        taker.thread.join(5)
