"""The captain's side of the broker: one Redis connection and the receipt reader (issue 14).

:class:`BrokerLink` opens the connection lazily (short timeouts: a send never hangs on a broker
that is gone) and says what is wrong without the password (``broker redis://host:port
unreachable: ...``). :class:`ReceiptRouter` is one thread reading ``qd:receipts`` in consumer
group ``captain`` (consumer: host+pid) in batches and handing them to the captain's forwarder
(``quarterdeck.core.captain``), which records them; a receipt is XACKed and XDELed once recorded, in
the same round trip as the next read.
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

from quarterdeck.core.broker_client import BROKER_DOWN, BrokerClient, open_client, ready
from quarterdeck.core.broker_group import ensure_group
from quarterdeck.core.broker_url import endpoint
from quarterdeck.core.relay.protocol import CAPTAIN_GROUP, KEYS, STREAM_MAXLEN, ControlEntry, MalformedEntry, Receipt

__all__ = ["BrokerDown", "BrokerLink", "ReceiptRouter", "publish_control"]

log = logging.getLogger(__name__)
BrokerDown = BROKER_DOWN


class BrokerLink:
    """A lazily opened Redis connection to ``url`` (a single server, or any node of a Redis Cluster:
    :func:`quarterdeck.core.broker_client.open_client` tells which); ``where`` names it without secrets."""

    def __init__(self, url: str, *, timeout: float = 2.0) -> None:
        self.url = url
        self.where = endpoint(url)
        self._timeout = timeout
        self._client: BrokerClient | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> BrokerClient:
        """The client, opened at first use: one round trip (``INFO cluster``) decides whether it is a
        cluster's; raises one of ``BrokerDown`` (or ``redis.RedisError``) when that fails, and the
        next use asks again."""
        with self._lock:
            if self._client is None:
                self._client = open_client(self.url, connect_timeout=self._timeout,
                                           read_timeout=self._timeout + 1.0, health_check_interval=10)
            return self._client

    def ready(self) -> None:
        """Raise one of ``BrokerDown`` unless a connection to the broker is open (one is opened when
        none is; a closed one is opened again): to the server, or to the cluster's default node.
        Sends no command, but for the first use of the link (the client is opened then)."""
        ready(self.client)

    def unreachable(self, exc: BaseException) -> str:
        """``broker redis://host:port unreachable: Connection refused`` (never the password)."""
        return f"broker {self.where} unreachable: {self.reason(exc)}"

    def reason(self, exc: BaseException) -> str:
        """What ``exc`` says, in one line, without the password."""
        reason = str(exc).replace(self.url, self.where) or type(exc).__name__
        return reason.splitlines()[0]

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


class ReceiptRouter:
    """Receipts from ``qd:receipts`` to ``sink``, in batches; one daemon thread, from :meth:`start`.

    ``sink(receipts)`` records a batch (the captain's forwarder writes them to the outbox in one
    transaction) and says, per receipt, whether it was this outbox's: those are XACKed and XDELed
    together; one that was not (another captain's outbox on the same broker) stays pending for the
    captain it belongs to (XAUTOCLAIMed by whoever reads next, once idle for a second). A batch the
    sink could not record (a storage fault) stays pending too and comes back the same way.
    """

    def __init__(self, link: BrokerLink, sink: Callable[[list[Receipt]], list[bool]], *, block_ms: int = 1000,
                 count: int = 500) -> None:
        self.link = link
        self.consumer = f"{socket.gethostname()}-{os.getpid()}"
        self._sink = sink
        self._block_ms = block_ms
        self._count = count
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._grouped = False
        self._last_claim = 0.0
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
            ensure_group(client, KEYS.receipts, CAPTAIN_GROUP)
            self._grouped = True
        entries: list[tuple[Any, dict[Any, Any]]] = []
        now = time.monotonic()
        if now - self._last_claim > 2.0:  # receipts left pending (a dead captain process's, or not recorded)
            self._last_claim = now
            claimed: Any = self._after_acks(client, lambda c: c.xautoclaim(
                KEYS.receipts, CAPTAIN_GROUP, self.consumer, min_idle_time=1000, start_id="0-0", count=self._count))
            entries.extend(claimed[1] if len(claimed) > 1 else [])
        block = None if entries else self._block_ms
        read: Any = self._after_acks(client, lambda c: c.xreadgroup(CAPTAIN_GROUP, self.consumer, {KEYS.receipts: ">"},
                                                                    count=self._count, block=block))
        for _stream, items in read or []:
            entries.extend(items)
        if entries and not self._stop.is_set():
            self._route(client, entries)

    def _route(self, client: Any, entries: list[tuple[Any, dict[Any, Any]]]) -> None:
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
            except Exception as exc:  # a storage fault: they come back once the outbox takes them
                if self._stop.is_set():  # the session closed its outbox meanwhile
                    log.debug("receipts: closed before %d were recorded; they stay pending", len(receipts))
                    return
                log.warning("receipts: %d could not be recorded (%s: %s); they stay pending", len(receipts),
                            type(exc).__name__, exc)
                ours = [False] * len(receipts)
            done.extend(entry_id for entry_id, mine in zip(ids, ours, strict=True) if mine)
        self._done.extend(done)
        if self._stop.is_set() and self._done:  # no next read: acknowledged now
            self._after_acks(client, None)

    def _after_acks(self, client: BrokerClient, command: Callable[[Any], Any] | None) -> Any:
        """What ``command`` (given the client, or a pipeline) returns, sent after the XACK and XDEL of the
        entries done with since the last command, in one round trip. If it fails they stay pending: they
        come back and are recorded again, which changes nothing, then acknowledged."""
        done, self._done = self._done, []
        if not done:
            return None if command is None else command(client)
        pipe = client.pipeline(transaction=False)
        pipe.xack(KEYS.receipts, CAPTAIN_GROUP, *done)
        pipe.xdel(KEYS.receipts, *done)
        if command is not None:
            command(pipe)
        return pipe.execute()[-1]


def publish_control(link: BrokerLink, kind: str, generation: int) -> str | None:
    """XADD a stop-all or resume-all to ``qd:control`` for every relay; None, or why it could not be sent."""
    entry = ControlEntry(kind, generation, time.time())
    try:
        link.client.xadd(KEYS.control, entry.to_fields(), maxlen=STREAM_MAXLEN, approximate=True)  # type: ignore[arg-type]
    except BrokerDown as exc:
        why = link.unreachable(exc)
    except redis.RedisError as exc:  # refused (an ACL, a cluster given a database other than 0)
        why = f"broker {link.where} refused it: {link.reason(exc)}"
    else:
        return None
    log.warning("%s not sent to the relays: %s", kind, why)
    return why
