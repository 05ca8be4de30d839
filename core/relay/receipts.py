"""Receipts: every state change of a relayed delivery, recorded locally first, then published.

The local dispatcher's events become ``Receipt`` s in the ledger (durable), and ``publish`` moves
them, oldest first, onto ``qd:receipts``. A state no event told of (a delivery recovery marked
``uncertain`` on start, one a stop-all cancelled, one whose receipt a crash lost) is found by
``sweep``, which records the final state of every relayed delivery not closed yet.
"""
from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from quarterdeck.core.relay.intake import local_delivery
from quarterdeck.core.relay.ledger import Ledger
from quarterdeck.core.relay.protocol import STREAM_MAXLEN, Receipt
from quarterdeck.core.store.rows import UnknownDelivery

if TYPE_CHECKING:
    import redis

    from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
    from quarterdeck.core.store.outbox import Store

# the dispatcher's event states as receipt states (a retry is still sending; a pause puts it back)
RECEIPT_STATE = {"waiting": "queued", "queued": "queued", "sending": "sending", "retrying": "sending",
                 "paused": "queued", "delivered": "delivered", "failed": "failed", "cancelled": "cancelled",
                 "uncertain": "uncertain", "expired": "cancelled"}
FINAL = frozenset({"delivered", "failed", "cancelled", "uncertain"})


class Receipts:
    """See the module docstring. ``wake`` is set whenever a receipt waits to be published."""

    def __init__(self, relay: str, ledger: Ledger, store: Store) -> None:
        self.relay = relay
        self.ledger = ledger
        self.store = store
        self.wake = threading.Event()
        self.published = 0

    def on_event(self, event: DeliveryEvent) -> None:
        """A dispatcher listener (on the worker thread): record the receipt of a relayed delivery."""
        relayed = self.ledger.relayed(event.message_id, event.agent_id)
        state = RECEIPT_STATE.get(event.state)
        if relayed is None or state is None:
            return
        reason = "" if state == "delivered" else event.detail
        if event.state == "expired" and not reason:
            reason = "expired"
        receipt = Receipt(self.relay, relayed.captain_delivery, event.agent_id, state, verdict=event.verdict or "",
                          evidence=event.evidence, reason=reason, attempts=event.attempt, at=time.time())
        if self.ledger.add_receipt(event.message_id, receipt, final=state in FINAL):
            self.wake.set()

    def sweep(self) -> int:
        """Record the final state of relayed deliveries that reached one without a receipt; returns how many."""
        added = 0
        for relayed in self.ledger.open_deliveries():
            local = relayed.local_delivery
            if local is None:
                local = local_delivery(self.store.connection(), relayed.message_id, relayed.agent)
            if local is None:
                continue
            try:
                row = self.store.delivery(local)
            except UnknownDelivery:
                continue
            state = RECEIPT_STATE.get(str(row.state))
            if state not in FINAL:
                continue
            at = row.finished_at.timestamp() if row.finished_at is not None else time.time()
            receipt = Receipt(self.relay, relayed.captain_delivery, relayed.agent, state, verdict=row.verdict or "",
                              evidence=row.evidence or "", reason="" if state == "delivered" else row.reason or "",
                              attempts=row.attempts, at=at)
            if self.ledger.add_receipt(relayed.message_id, receipt, final=True):
                added += 1
        if added:
            self.wake.set()
        return added

    def publish(self, client: redis.Redis, stream: str, batch: int = 200) -> int:
        """XADD the waiting receipts onto ``stream``, oldest first; returns how many went. A broker
        failure propagates (they stay recorded and go next time)."""
        sent = 0
        while True:
            waiting = self.ledger.unpublished(batch)
            if not waiting:
                return sent
            pipe = client.pipeline(transaction=False)
            for _, fields in waiting:
                pipe.xadd(stream, fields, maxlen=STREAM_MAXLEN, approximate=True)  # type: ignore[arg-type]
            pipe.execute()
            self.ledger.published(waiting[-1][0])
            sent += len(waiting)
            self.published += len(waiting)
