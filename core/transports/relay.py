"""Deliver to an agent on another machine through its relay, over the broker (issue 14).

:meth:`RelayDelivery.deliver` XADDs a ``DeliveryEntry`` (the captain's delivery id and the
message) to ``qd:relay:<name>:in`` (``MAXLEN ~``), then waits, at most ``wait`` seconds, for the
relay's terminal receipt (``quarterdeck.core.transports.broker.ReceiptRouter``), and ends as the
relay's delivery ended:

- ``delivered``: a ``Receipt`` with the relay's verdict and evidence ("... (relay M2)");
- ``failed``: ``RelayFailed`` (permanent, carrying the relay's verdict and reason: the relay has
  retried already, and sending again could type it twice);
- ``uncertain``: ``MayHaveArrived`` (never resent); ``cancelled``: ``Cancelled``;
- no terminal receipt in time: ``MayHaveArrived`` "relay M2 did not report within 30 s" (it may
  have typed: uncertain, not failed);
- the broker unreachable before the entry was written: ``RetryableError`` naming the broker (nothing
  went out; the dispatcher tries again).

The message goes with its content as the captain's dispatcher chose it (the text after the
delivery's header line), so the relay renders the same header for its agent.
"""
from __future__ import annotations

import json
import queue
import threading
import time
from datetime import UTC, datetime

from quarterdeck.core.delivery.contract import DeliveryRequest, Receipt
from quarterdeck.core.delivery.errors import (
    SUBMITTED,
    UNVERIFIED,
    Cancelled,
    MayHaveArrived,
    PermanentError,
    RetryableError,
    Verdict,
)
from quarterdeck.core.models import Message
from quarterdeck.core.relay.protocol import KEYS, STREAM_MAXLEN, DeliveryEntry
from quarterdeck.core.relay.protocol import Receipt as RelayReceipt
from quarterdeck.core.store.outbox import Store
from quarterdeck.core.transports.broker import TERMINAL, BrokerDown, BrokerLink, ReceiptRouter

__all__ = ["RelayDelivery", "RelayFailed"]

STOP_GRACE_S = 1.0  # after stop-all, how long the relay's own cancel receipt is awaited


class RelayFailed(PermanentError):
    """The relay's delivery failed; ``verdict`` and ``evidence`` are the relay's."""

    def __init__(self, message: str, *, verdict: str | None = None, evidence: str = "") -> None:
        super().__init__(message)
        if verdict:
            self.verdict = verdict
        self.evidence = evidence


class RelayDelivery:
    """The transport of every agent on relay ``relay``."""

    kind = "relay"

    def __init__(self, relay: str, link: BrokerLink, router: ReceiptRouter, store: Store, *,
                 wait: float = 30.0) -> None:
        self.relay = relay
        self.link = link
        self.router = router
        self.store = store
        self.wait = wait

    def __repr__(self) -> str:
        return f"RelayDelivery({self.relay!r} via {self.link.where})"

    def check(self) -> str | None:
        try:
            self.link.client.ping()
        except BrokerDown as exc:
            return self.link.unreachable(exc)
        return None

    def deliver(self, request: DeliveryRequest, stop: threading.Event) -> Receipt:
        if stop.is_set():
            raise Cancelled("stopped before sending to the relay")
        delivery_id, message = self._wire(request)
        waiter = self.router.expect(delivery_id, request.agent_id)
        try:
            entry = DeliveryEntry(delivery_id, request.agent_id, message, time.time())
            try:
                self.link.client.xadd(KEYS.relay_in(self.relay), entry.to_fields(),  # type: ignore[arg-type]
                                      maxlen=STREAM_MAXLEN, approximate=True)
            except BrokerDown as exc:
                raise RetryableError(self.link.unreachable(exc)) from exc
            return self._outcome(self._await(waiter, stop))
        finally:
            self.router.forget(delivery_id)

    def _await(self, waiter: queue.Queue[RelayReceipt], stop: threading.Event) -> RelayReceipt:
        deadline = time.monotonic() + self.wait
        while True:
            left = deadline - time.monotonic()
            if stop.is_set():
                left = min(left, STOP_GRACE_S)
                deadline = min(deadline, time.monotonic() + STOP_GRACE_S)
            if left <= 0:
                why = "stopped" if stop.is_set() else f"did not report within {self.wait:g} s"
                raise MayHaveArrived(f"relay {self.relay} {why}: it may have typed it; not sent again")
            try:
                receipt = waiter.get(timeout=min(left, 0.05))
            except queue.Empty:
                continue
            if receipt.state in TERMINAL:
                return receipt

    def _outcome(self, receipt: RelayReceipt) -> Receipt:
        where = f"relay {self.relay}"
        evidence = f"{receipt.evidence} ({where})" if receipt.evidence else where
        reason = receipt.reason or receipt.state
        if receipt.state == "delivered":
            verdict: Verdict = SUBMITTED if receipt.verdict == SUBMITTED else UNVERIFIED
            detail = f"delivered by {where} after {receipt.attempts} attempt(s)"
            return Receipt(self.kind, verdict, evidence, detail)
        if receipt.state == "uncertain":
            raise MayHaveArrived(f"{where}: {reason}", evidence=evidence)
        if receipt.state == "cancelled":
            raise Cancelled(f"{where}: {reason}")
        raise RelayFailed(f"{where}: {reason}", verdict=receipt.verdict or None, evidence=evidence)

    def _wire(self, request: DeliveryRequest) -> tuple[int, Message]:
        """The captain's delivery id of ``request`` (its row being sent) and the message to send."""
        conn = self.store.connection()
        row = conn.execute("SELECT id FROM deliveries WHERE message_id = ? AND agent_id = ? AND state = 'sending' "
                           "ORDER BY id DESC LIMIT 1", (request.message_id, request.agent_id)).fetchone()
        stored = conn.execute("SELECT sender_kind, type, tags FROM messages WHERE id = ?",
                              (request.message_id,)).fetchone()
        if row is None or stored is None:
            raise PermanentError(f"no delivery of {request.message_id} to {request.agent_id} is being sent")
        _, _, content = request.text.partition("\n")  # the header line is the relay's to render
        created = request.created_at or datetime.now(UTC)
        message = Message(id=request.message_id, sender=request.sender, sender_kind=stored["sender_kind"],
                          type=stored["type"], priority=request.priority, tags=json.loads(stored["tags"]),
                          recipients=list(request.recipients), content=content,
                          created_at=created if created.tzinfo else created.replace(tzinfo=UTC))
        return int(row["id"]), message
