"""The captain's side of the broker: one Redis connection and the receipt reader (issue 14).

:class:`BrokerLink` opens the connection lazily (short timeouts: a send never hangs on a broker
that is gone) and says what is wrong without the password (``broker redis://host:port
unreachable: ...``). :class:`ReceiptRouter` is one thread reading ``qd:receipts`` in consumer
group ``captain`` (consumer: host+pid) and handing each receipt to the delivery waiting for it,
by the captain's delivery id; a receipt is XACKed and XDELed once applied. A receipt nobody here
waits for is dropped the same way when its outbox row has ended (applying it again would change
nothing) and otherwise left pending for the captain process that waits for it (re-claimed by
XAUTOCLAIM once idle for a second).
"""
from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import redis

from quarterdeck.core.broker_url import endpoint
from quarterdeck.core.relay.protocol import CAPTAIN_GROUP, KEYS, STREAM_MAXLEN, ControlEntry, MalformedEntry, Receipt

__all__ = ["TERMINAL", "BrokerLink", "ReceiptRouter", "publish_control"]

log = logging.getLogger(__name__)
TERMINAL = frozenset({"delivered", "failed", "uncertain", "cancelled"})
ENDED_ROWS = frozenset({"delivered", "failed", "uncertain", "cancelled", "expired"})
BrokerDown = (redis.ConnectionError, redis.TimeoutError, OSError)


class BrokerLink:
    """A lazily opened Redis connection to ``url``; ``where`` names it without secrets."""

    def __init__(self, url: str, *, timeout: float = 2.0) -> None:
        self.url = url
        self.where = endpoint(url)
        self._timeout = timeout
        self._client: redis.Redis | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> redis.Redis:
        with self._lock:
            if self._client is None:
                self._client = redis.Redis.from_url(self.url, socket_connect_timeout=self._timeout,
                                                    socket_timeout=self._timeout + 1.0, health_check_interval=10)
            return self._client

    def unreachable(self, exc: BaseException) -> str:
        """``broker redis://host:port unreachable: Connection refused`` (never the password)."""
        reason = str(exc).replace(self.url, self.where) or type(exc).__name__
        return f"broker {self.where} unreachable: {reason.splitlines()[0]}"

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


class ReceiptRouter:
    """Receipts from ``qd:receipts`` to the deliveries waiting here; one daemon thread, started on demand."""

    def __init__(self, link: BrokerLink, row_states: Callable[[Iterable[int]], dict[int, str]] | None = None, *,
                 block_ms: int = 200) -> None:
        self.link = link
        self.consumer = f"{socket.gethostname()}-{os.getpid()}"
        self._row_states = row_states
        self._block_ms = block_ms
        self._waiters: dict[int, tuple[str, queue.Queue[Receipt]]] = {}  # delivery id -> (agent, receipts)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._grouped = False
        self._last_claim = 0.0

    def expect(self, delivery_id: int, agent: str) -> queue.Queue[Receipt]:
        """Register before sending: every receipt for ``delivery_id`` to ``agent`` goes into the returned
        queue (one naming another agent is not this delivery's: a delivery id is only unique per outbox)."""
        with self._lock:
            waiter = self._waiters.setdefault(delivery_id, (agent, queue.Queue()))[1]
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="qd-receipts", daemon=True)
                self._thread.start()
        return waiter

    def forget(self, delivery_id: int) -> None:
        with self._lock:
            self._waiters.pop(delivery_id, None)

    def close(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=2.0)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._poll()
            except BrokerDown as exc:
                self._grouped = False  # a broker that restarted without its data has no group
                log.debug("receipts: %s", self.link.unreachable(exc))
                self._stop.wait(0.5)
            except Exception:
                log.exception("receipt reader failed; going on")
                self._stop.wait(0.5)

    def _poll(self) -> None:
        client = self.link.client
        if not self._grouped:
            try:
                client.xgroup_create(KEYS.receipts, CAPTAIN_GROUP, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
            self._grouped = True
        entries: list[tuple[Any, dict[Any, Any]]] = []
        now = time.monotonic()
        if now - self._last_claim > 1.0:  # receipts another captain process left (or one that died)
            self._last_claim = now
            claimed: Any = client.xautoclaim(KEYS.receipts, CAPTAIN_GROUP, self.consumer, min_idle_time=1000,
                                             start_id="0-0", count=100)
            entries.extend(claimed[1] if len(claimed) > 1 else [])
        read: Any = client.xreadgroup(CAPTAIN_GROUP, self.consumer, {KEYS.receipts: ">"}, count=100,
                                      block=self._block_ms)
        for _stream, items in read or []:
            entries.extend(items)
        for entry_id, fields in entries:
            if fields:
                self._apply(client, entry_id, fields)

    def _apply(self, client: redis.Redis, entry_id: Any, fields: dict[Any, Any]) -> None:
        try:
            receipt = Receipt.from_fields(fields)
        except MalformedEntry as exc:
            log.warning("receipts: dropped a malformed entry %s: %s", entry_id, exc)
            self._done(client, entry_id)
            return
        with self._lock:
            agent, waiter = self._waiters.get(receipt.delivery, ("", None))
        if waiter is not None and agent == receipt.agent:
            waiter.put(receipt)
        elif self._row_states is not None:
            state = self._row_states([receipt.delivery]).get(receipt.delivery)
            if state is not None and state not in ENDED_ROWS:
                return  # another captain process on this outbox waits for it
        self._done(client, entry_id)

    @staticmethod
    def _done(client: redis.Redis, entry_id: Any) -> None:
        pipe = client.pipeline(transaction=False)
        pipe.xack(KEYS.receipts, CAPTAIN_GROUP, entry_id)
        pipe.xdel(KEYS.receipts, entry_id)
        pipe.execute()


def publish_control(link: BrokerLink, kind: str, generation: int) -> str | None:
    """XADD a stop-all or resume-all to ``qd:control`` for every relay; None, or why it could not be sent."""
    entry = ControlEntry(kind, generation, time.time())
    try:
        link.client.xadd(KEYS.control, entry.to_fields(), maxlen=STREAM_MAXLEN, approximate=True)  # type: ignore[arg-type]
    except BrokerDown as exc:
        why = link.unreachable(exc)
        log.warning("%s not sent to the relays: %s", kind, why)
        return why
    return None
