"""The captain's receipt reader (issue 14): its own ``qd:receipts:<captain>`` (the outbox's id) read
in consumer group ``captain`` (consumer: host+pid; every process on the outbox shares the group) by
one daemon thread (``qd-receipts``) and handed to ``sink`` in batches (the captain's forwarder
records a batch in one transaction: ``quarterdeck.core.captain``).

Each turn: a read that waits up to ``block_ms`` for receipts (a relay writes its receipts in one
MULTI/EXEC on a single server, so the read wakes to all of them, not to the first); then the batch
is recorded. A receipt is XACKed and XDELed only once recorded, with the reader's next command (one
round trip). The receipts left pending (a dead process's, one no delivery here matches yet, or a
batch the sink could not record) are XAUTOCLAIMed every 2 s once idle for a second and handed to
``sink`` again, at most ``count`` at a time, each claim going on from where the last one stopped (so
those further on come back too while more than ``count`` wait there).
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import redis

from quarterdeck.core.broker_client import BrokerClient
from quarterdeck.core.broker_group import ensure_group
from quarterdeck.core.relay.protocol import CAPTAIN_GROUP, KEYS, MalformedEntry, Receipt
from quarterdeck.core.resilience.episode import Episode
from quarterdeck.core.transports.broker import BrokerDown, BrokerLink

__all__ = ["ReceiptRouter"]

log = logging.getLogger(__name__)

Entries = list[tuple[Any, dict[Any, Any]]]


class ReceiptRouter:
    """Receipts from ``stream`` to ``sink``, in batches (see the module docstring); :meth:`start`.

    ``sink(receipts)`` records a batch and says, per receipt, whether it is done with: those are
    XACKed and XDELed together; one that is not (no delivery here matches it yet) stays pending
    (XAUTOCLAIMed by whoever reads next, once idle for a second). A batch the sink could not record
    (a storage fault) stays pending too and comes back the same way. A batch holds at most ``count``
    receipts.
    """

    def __init__(self, link: BrokerLink, sink: Callable[[list[Receipt]], list[bool]], *, block_ms: int = 1000,
                 count: int = 500, stream: str = KEYS.receipts) -> None:
        self.link = link
        self.stream = stream
        self.consumer = f"{socket.gethostname()}-{os.getpid()}"
        self._sink = sink
        self._block_ms = block_ms
        self._count = count
        self._stop = threading.Event()
        self._fault = Episode(log, "receipts are recorded again")  # the outbox failing
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._grouped = False
        self._last_claim = 0.0
        self._claim_from: Any = "0-0"  # where the next XAUTOCLAIM goes on from ("0-0": the start)
        self._done: list[Any] = []  # entries recorded (or to drop), acknowledged with the next command
        self.down: str | None = None  # why the broker could not be read, while it cannot

    def start(self) -> None:
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="qd-receipts", daemon=True)
                self._thread.start()

    def close(self, wait: float = 0.1) -> None:
        """Stop reading; a read blocked waiting for receipts ends on its own (what it brings then is left
        pending for the next captain process), so this waits at most ``wait`` seconds for the thread."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=wait)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._poll()
                self.down = None
            except Exception as exc:
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
        client = self.link.client
        if not self._grouped:
            ensure_group(client, self.stream, CAPTAIN_GROUP)
            self._grouped = True
        entries: Entries = []
        now = time.monotonic()
        if now - self._last_claim > 2.0:  # receipts left pending (a dead captain process's, or not recorded)
            self._last_claim = now
            claimed: Any = self._after_acks(client, lambda c: c.xautoclaim(
                self.stream, CAPTAIN_GROUP, self.consumer, min_idle_time=1000, start_id=self._claim_from,
                count=self._count))
            self._claim_from = claimed[0] if claimed else "0-0"
            entries.extend(claimed[1] if len(claimed) > 1 else [])
        entries += self._read(client, self._count - len(entries), None if entries else self._block_ms)
        if entries and not self._stop.is_set():
            self._route(client, entries)

    def _read(self, client: BrokerClient, count: int, block: int | None) -> Entries:
        """New entries, at most ``count``, waiting up to ``block`` ms for some (None: not waiting)."""
        if count <= 0:
            return []
        read: Any = self._after_acks(client, lambda c: c.xreadgroup(
            CAPTAIN_GROUP, self.consumer, {self.stream: ">"}, count=count, block=block))
        return [entry for _stream, items in read or [] for entry in items]

    def _route(self, client: Any, entries: Entries) -> None:
        """Parse ``entries`` and record their receipts in one batch (a malformed or deleted entry is
        acknowledged with the next command)."""
        done: list[Any] = []
        receipts: list[Receipt] = []
        ids: list[Any] = []
        for entry_id, fields in entries:
            if not fields:  # deleted meanwhile
                done.append(entry_id)
                continue
            try:
                receipts.append(Receipt.from_fields(fields))
                ids.append(entry_id)
            except MalformedEntry as exc:
                log.warning("receipts: dropped a malformed entry %s: %s", entry_id, exc)
                done.append(entry_id)
        if receipts:
            try:
                ours = self._sink(receipts)
                self._fault.ok()
            except Exception as exc:  # a storage fault: they come back once the outbox takes them
                if self._stop.is_set():  # the session closed its outbox meanwhile
                    log.debug("receipts: closed before %d were recorded; they stay pending", len(receipts))
                    return
                self._fault.failed("receipts: %d could not be recorded (%s: %s); they stay pending and are "
                                   "recorded once the outbox takes them", len(receipts), type(exc).__name__, exc)
                ours = [False] * len(receipts)
            done.extend(entry_id for entry_id, mine in zip(ids, ours, strict=True) if mine)
        self._done.extend(done)
        if self._stop.is_set() and self._done:  # no next read: acknowledged now
            self._acknowledge(client)

    def _acknowledge(self, client: BrokerClient) -> None:
        try:
            self._after_acks(client, None)
        except (*BrokerDown, redis.RedisError) as exc:  # they stay pending: recorded again, then acknowledged
            log.debug("receipts: not acknowledged on closing (%s: %s)", type(exc).__name__, self.link.reason(exc))

    def _after_acks(self, client: BrokerClient, command: Callable[[Any], Any] | None) -> Any:
        """What ``command`` (given the client, or a pipeline) returns, sent after the XACK and XDEL of the
        entries done with since the last command, in one round trip. If it fails they stay pending: they
        come back and are recorded again, which changes nothing, then acknowledged."""
        done, self._done = self._done, []
        if not done:
            return None if command is None else command(client)
        pipe = client.pipeline(transaction=False)
        pipe.xack(self.stream, CAPTAIN_GROUP, *done)
        pipe.xdel(self.stream, *done)
        if command is not None:
            command(pipe)
        return pipe.execute()[-1]
