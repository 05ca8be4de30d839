"""The captain's receipt reader (issue 14): ``qd:receipts`` read in consumer group ``captain``
(consumer: host+pid) and recorded in batches, the reading going on while a batch is recorded.

Two daemon threads. The reader (``qd-receipts``) reads and parses; what it read waits for the
recorder (``qd-receipts-record``), which hands everything read since its last turn to ``sink`` as
one batch (the captain's forwarder records it in one transaction: ``quarterdeck.core.captain``). So
receipts the relays write while a batch is being recorded, each in its own read, are recorded
together, not one transaction per read. A read that brought receipts for an idle recorder is
followed at once by one that does not wait (a relay's pipeline of XADDs wakes a blocked read at its
first entry: the rest is there by then), and the recorder takes the batch after that one. At most
``count`` receipts wait: the reader stops reading while that many do. A receipt is XACKed and XDELed
once recorded, with the reader's next command (one round trip); while a batch is being recorded or
waits, the reader's reads block ``short_ms`` at most, so that comes within a few ms of the recording.

A receipt is handed to ``sink`` once per read of it: the receipts left pending (another captain's,
or a batch the sink could not record) are XAUTOCLAIMed every 2 s once idle for a second, less those
this reader holds (read, and not yet recorded or not yet acknowledged).
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis

from quarterdeck.core.broker_client import BrokerClient
from quarterdeck.core.broker_group import ensure_group
from quarterdeck.core.relay.protocol import CAPTAIN_GROUP, KEYS, MalformedEntry, Receipt
from quarterdeck.core.transports.broker import BrokerDown, BrokerLink

__all__ = ["ReceiptRouter"]

log = logging.getLogger(__name__)

Entries = list[tuple[Any, dict[Any, Any]]]


@dataclass
class _Batch:
    """Receipts read and not yet recorded, with their entries' ids (in the same order)."""

    receipts: list[Receipt] = field(default_factory=list)
    ids: list[Any] = field(default_factory=list)


class ReceiptRouter:
    """Receipts from ``qd:receipts`` to ``sink``, in batches (see the module docstring); :meth:`start`.

    ``sink(receipts)`` records a batch and says, per receipt, whether it was this outbox's: those are
    XACKed and XDELed together; one that was not (another captain's outbox on the same broker) stays
    pending for the captain it belongs to (XAUTOCLAIMed by whoever reads next, once idle for a
    second). A batch the sink could not record (a storage fault) stays pending too and comes back the
    same way.
    """

    def __init__(self, link: BrokerLink, sink: Callable[[list[Receipt]], list[bool]], *, block_ms: int = 1000,
                 count: int = 500, short_ms: int = 10) -> None:
        self.link = link
        self.consumer = f"{socket.gethostname()}-{os.getpid()}"
        self._sink = sink
        self._block_ms = block_ms
        self._short_ms = min(short_ms, block_ms)
        self._count = count
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._grouped = False
        self._last_claim = 0.0
        self._changed = threading.Condition()  # guards what follows
        self._waiting = _Batch()  # read, for the recorder's next turn
        self._finished: list[tuple[list[Any], list[Any]]] = []  # recorded: (entries, those to acknowledge)
        self._recording = False  # the recorder has a batch
        self._draining = False  # the last read brought receipts for an idle recorder: the next read, at once,
        # may bring more (a relay's XADDs wake a blocked read at the first), to go in the same batch
        self._held: set[Any] = set()  # entries read and not yet finished with (waiting, being recorded)
        self._done: list[Any] = []  # entries recorded (or to drop), acknowledged with the next command
        self._client: BrokerClient | None = None  # the reader's, for the recorder's acknowledgement on closing
        self.down: str | None = None  # why the broker could not be read, while it cannot

    def start(self) -> None:
        with self._lock:
            if not self._threads and not self._stop.is_set():
                self._threads = [threading.Thread(target=self._run, name="qd-receipts", daemon=True),
                                 threading.Thread(target=self._recorder, name="qd-receipts-record", daemon=True)]
                for thread in self._threads:
                    thread.start()

    def close(self, wait: float = 0.1) -> None:
        """Stop reading; a read blocked waiting for receipts ends on its own (what it brings then is left
        pending for the next captain process, as what was read and waits for the recorder is), so this
        waits at most ``wait`` seconds for the threads; a batch being recorded is acknowledged once it is."""
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        deadline = time.monotonic() + wait
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    # -- the reader -------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._poll()
                self.down = None
            except Exception as exc:
                self._read_all()
                if self._stop.is_set():  # closed under a blocked read: what it brought stays pending
                    log.debug("receipt reader closed mid-read (%s: %s)", type(exc).__name__, self.link.reason(exc))
                    return
                self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, BrokerDown):
            self._grouped = False  # a broker that restarted without its data has no group
            self.down = self.link.unreachable(exc)
            log.debug("receipts: %s", self.down)  # the forwarder says the outage
            self._stop.wait(0.2)
        elif isinstance(exc, redis.ResponseError):  # refused (full, an ACL): one line per episode
            refused = f"broker {self.link.where} refused to hand receipts: {self.link.reason(exc)}"
            if refused != self.down:
                log.warning("%s; retrying", refused)
            self._grouped, self.down = False, refused
            self._stop.wait(1.0)
        else:
            log.error("receipt reader failed; going on", exc_info=exc)
            self._stop.wait(0.5)

    def _poll(self) -> None:
        client = self._client = self.link.client
        if not self._grouped:
            ensure_group(client, KEYS.receipts, CAPTAIN_GROUP)
            self._grouped = True
        entries: Entries = []
        now = time.monotonic()
        if now - self._last_claim > 2.0:  # receipts left pending (a dead captain process's, or not recorded)
            self._last_claim = now
            claimed: Any = self._after_acks(client, lambda c: c.xautoclaim(
                KEYS.receipts, CAPTAIN_GROUP, self.consumer, min_idle_time=1000, start_id="0-0", count=self._count))
            with self._changed:  # those held are on their way already
                entries.extend(e for e in (claimed[1] if len(claimed) > 1 else []) if e[0] not in self._held)
        with self._changed:
            self._collect()
            room = self._count - len(self._waiting.receipts)
            busy = bool(self._held)
            if room <= 0:  # the recorder is behind: read again once it took what waits
                self._changed.wait(self._short_ms / 1000)
        if room > 0:
            block = None if entries or self._draining else self._short_ms if busy else self._block_ms
            read: Any = self._after_acks(client, lambda c: c.xreadgroup(
                CAPTAIN_GROUP, self.consumer, {KEYS.receipts: ">"}, count=room, block=block))
            for _stream, items in read or []:
                entries.extend(items)
        if entries and not self._stop.is_set():
            self._route(client, entries)
        else:
            self._read_all()

    def _read_all(self) -> None:
        """Nothing more to read at once: what waits is the recorder's."""
        with self._changed:
            self._draining = False
            self._changed.notify_all()

    def _route(self, client: Any, entries: Entries) -> None:
        """Parse ``entries`` and leave their receipts for the recorder (a malformed or deleted entry is
        acknowledged with the next command)."""
        batch, dropped = _Batch(), []
        for entry_id, fields in entries:
            if not fields:  # deleted meanwhile
                dropped.append(entry_id)
                continue
            try:
                batch.receipts.append(Receipt.from_fields(fields))
                batch.ids.append(entry_id)
            except MalformedEntry as exc:
                log.warning("receipts: dropped a malformed entry %s: %s", entry_id, exc)
                dropped.append(entry_id)
        with self._changed:
            self._done += dropped
            self._draining = not self._recording and len(self._waiting.receipts) + len(batch.receipts) < self._count
            if batch.receipts:
                self._held.update(batch.ids)
                self._waiting.receipts += batch.receipts
                self._waiting.ids += batch.ids
                self._changed.notify_all()

    def _after_acks(self, client: BrokerClient, command: Callable[[Any], Any] | None) -> Any:
        """What ``command`` (given the client, or a pipeline) returns, sent after the XACK and XDEL of the
        entries done with since the last command, in one round trip. If it fails they stay pending: they
        come back and are recorded again, which changes nothing, then acknowledged."""
        with self._changed:
            self._collect()
            done, self._done = self._done, []
        if not done:
            return None if command is None else command(client)
        pipe = client.pipeline(transaction=False)
        pipe.xack(KEYS.receipts, CAPTAIN_GROUP, *done)
        pipe.xdel(KEYS.receipts, *done)
        if command is not None:
            command(pipe)
        return pipe.execute()[-1]

    def _collect(self) -> None:
        """Under ``_changed``: the recorder's batches, finished with (no longer held: reclaimable, but for
        those acknowledged by the next command, which goes before any XAUTOCLAIM)."""
        for entries, recorded in self._finished:
            self._held.difference_update(entries)
            self._done += recorded
        self._finished.clear()

    # -- the recorder -----------------------------------------------------------------------------
    def _recorder(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: (bool(self._waiting.receipts) and not self._draining)
                                       or self._stop.is_set())
                if self._stop.is_set():  # what waits is left pending for the next captain process
                    return
                batch, self._waiting, self._recording = self._waiting, _Batch(), True
                self._changed.notify_all()  # room to read again
            recorded = self._record(batch)
            with self._changed:
                self._finished.append((batch.ids, recorded))
                self._recording = False
                self._changed.notify_all()
            if self._stop.is_set():  # the reader sends no next command: acknowledged now
                self._acknowledge()

    def _record(self, batch: _Batch) -> list[Any]:
        """Hand ``batch`` to the sink; the entries to acknowledge (the sink's answer says which)."""
        try:
            ours = self._sink(batch.receipts)
            return [entry_id for entry_id, mine in zip(batch.ids, ours, strict=True) if mine]
        except Exception as exc:  # a storage fault: they come back once the outbox takes them
            if self._stop.is_set():  # the session closed its outbox meanwhile
                log.debug("receipts: closed before %d were recorded; they stay pending", len(batch.receipts))
            else:
                log.warning("receipts: %d could not be recorded (%s: %s); they stay pending", len(batch.receipts),
                            type(exc).__name__, exc)
            return []

    def _acknowledge(self) -> None:
        client = self._client
        if client is None:
            return
        try:
            self._after_acks(client, None)
        except (*BrokerDown, redis.RedisError) as exc:  # they stay pending: recorded again, then acknowledged
            log.debug("receipts: not acknowledged on closing (%s: %s)", type(exc).__name__, self.link.reason(exc))
