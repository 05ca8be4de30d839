"""Receipt batches from the receipt reader's thread to the forwarder's, which records them in the same
write transaction as its next claim (``quarterdeck.core.store.forwarding.settle_and_claim``): one
commit and one turn of the outbox's write lock for both, where two threads took turns before.

:meth:`Handoff.hand` runs on the reader's thread and returns once the batch is recorded (the reader
acknowledges the receipts to the broker only then), with what the recording returned, or raises
what it raised. While the forwarder's thread does not run, or once it stopped before taking the
batch, the reader records it itself.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from quarterdeck.core.relay.protocol import Receipt

__all__ = ["Handoff", "Slot"]

Record = Callable[[list[Receipt]], list[bool]]


class Slot:
    """One batch handed over: taken once (by the forwarder, or back by the reader), then done."""

    def __init__(self, receipts: list[Receipt]) -> None:
        self.receipts = receipts
        self.result: list[bool] = []
        self.error: BaseException | None = None
        self.done = threading.Event()
        self._taken = False
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            taken, self._taken = self._taken, True
        return not taken


class Handoff:
    def __init__(self, wake: Callable[[], None], running: Callable[[], bool]) -> None:
        self._wake = wake
        self._running = running
        self._slots: list[Slot] = []
        self._lock = threading.Lock()

    def hand(self, receipts: list[Receipt], record_here: Record) -> list[bool]:
        """On the reader's thread: have ``receipts`` recorded by the forwarder's thread, or here."""
        if not self._running():
            return record_here(receipts)
        slot = Slot(receipts)
        with self._lock:
            self._slots.append(slot)
        self._wake()
        while not slot.done.wait(0.05):
            if not self._running() and slot.take():  # it stopped before it took them
                with self._lock:
                    self._slots = [s for s in self._slots if s is not slot]
                return record_here(receipts)
        if slot.error is not None:
            raise slot.error
        return slot.result

    def take(self) -> list[Slot]:
        """On the forwarder's thread: the batches handed so far, now this thread's to finish."""
        with self._lock:
            slots, self._slots = self._slots, []
        return [slot for slot in slots if slot.take()]

    @staticmethod
    def receipts(slots: Sequence[Slot]) -> list[Receipt]:
        return [receipt for slot in slots for receipt in slot.receipts]

    @staticmethod
    def finish(slots: Sequence[Slot], results: list[bool]) -> None:
        """``results`` per receipt of ``slots`` in order (as :meth:`receipts` gave them)."""
        at = 0
        for slot in slots:
            slot.result = results[at:at + len(slot.receipts)]
            at += len(slot.receipts)
            slot.done.set()

    @staticmethod
    def failed(slots: Sequence[Slot], error: BaseException) -> None:
        for slot in slots:
            if not slot.done.is_set():
                slot.error = error
                slot.done.set()
