"""Receipts: every state change of a relayed delivery, recorded locally first, then published.

The local dispatcher's events become ``Receipt`` s in the ledger (durable), and ``publish`` moves
them, oldest first, onto their captain's ``qd:receipts:<captain>``. A state no event told of (a delivery recovery marked
``uncertain`` on start, one a stop-all cancelled, one whose receipt a crash lost) is found by
``sweep``, which records the final state of every relayed delivery not closed yet. An inbox batch's
round is recorded as one (``batched``): its ``sending`` steps that end in the same round go unsaid.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from quarterdeck.core.broker_client import write_batch
from quarterdeck.core.relay.ledger import Ledger, Relayed
from quarterdeck.core.relay.protocol import KEYS, STREAM_MAXLEN, Keys, Receipt
from quarterdeck.core.store.rows import DeliveryRow, StoreError, UnknownDelivery

if TYPE_CHECKING:
    from quarterdeck.core.broker_client import BrokerClient
    from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
    from quarterdeck.core.store.outbox import Store

log = logging.getLogger("quarterdeck.relay")

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
        self._local = threading.local()  # per thread: the events held by ``batched``

    def on_event(self, event: DeliveryEvent) -> None:
        """A dispatcher listener (on the worker thread): record the receipt of a relayed delivery; inside
        ``batched`` (on that thread) held until the batch ends."""
        held: list[DeliveryEvent] | None = getattr(self._local, "held", None)
        if held is not None:
            held.append(event)
        else:
            self.record([event])

    @contextmanager
    def batched(self) -> Iterator[None]:
        """``with receipts.batched():`` the events told on this thread meanwhile are recorded together
        at the end (one ledger read, one transaction, one wake of the publisher); a delivery's plain
        ``sending`` is left out when its final state follows in the batch (the captain marked it
        sending when it claimed it; the final receipt tells the rest)."""
        held: list[DeliveryEvent] = []
        self._local.held = held
        try:
            yield
        finally:
            self._local.held = None
            try:
                self.record(held)
            except (sqlite3.Error, StoreError) as exc:  # the heartbeat's sweep reports their final states
                log.warning("relay %s: %d receipt(s) of a round not recorded now (%s); their final states are "
                            "reported by the next sweep", self.relay, len(held), " ".join(str(exc).split()))

    def record(self, events: list[DeliveryEvent]) -> int:
        """Record the receipts of ``events`` (those of relayed deliveries) in one transaction; returns how
        many were queued for publishing."""
        ended = {e.delivery_id for e in events if RECEIPT_STATE.get(e.state) in FINAL}
        events = [e for e in events
                  if e.state in RECEIPT_STATE and not (e.state == "sending" and e.delivery_id in ended)]
        if not events:
            return 0
        relayed = self.ledger.for_events([(e.delivery_id, e.message_id, e.agent_id) for e in events])
        receipts = []
        for event, owner in zip(events, relayed, strict=True):
            receipt = None if owner is None else self._receipt(event, owner)
            if receipt is not None:
                receipts.append((receipt, receipt.state in FINAL))
        added = self.ledger.add_receipts(receipts)
        if added:
            self.wake.set()
        return added

    def _receipt(self, event: DeliveryEvent, relayed: Relayed) -> Receipt | None:
        state = RECEIPT_STATE[event.state]
        if state == "delivered":  # what was just recorded, without reading the row back
            return Receipt(self.relay, relayed.captain_delivery, event.agent_id, state, verdict=event.verdict or "",
                           evidence=event.evidence, attempts=event.attempt, at=time.time(), captain=relayed.captain)
        if state in FINAL:  # as recorded (the reason a stop gave, the attempts counted), as the sweep reports it
            try:
                return self._final(relayed, self.store.delivery(event.delivery_id))
            except UnknownDelivery:
                return None
        return Receipt(self.relay, relayed.captain_delivery, event.agent_id, state, verdict=event.verdict or "",
                       evidence=event.evidence, reason=event.detail, attempts=event.attempt, at=time.time(),
                       captain=relayed.captain)

    def _final(self, relayed: Relayed, row: DeliveryRow) -> Receipt | None:
        """The receipt of ``row``'s final state; None when it is not final."""
        state = RECEIPT_STATE.get(str(row.state))
        if state not in FINAL:
            return None
        at = row.finished_at.timestamp() if row.finished_at is not None else time.time()
        reason = "" if state == "delivered" else row.reason or ("expired" if row.state == "expired" else "")
        return Receipt(self.relay, relayed.captain_delivery, relayed.agent, state, verdict=row.verdict or "",
                       evidence=row.evidence or "", reason=reason, attempts=row.attempts, at=at,
                       captain=relayed.captain)

    def repeat(self, relayed: Relayed) -> None:
        """The captain sent a delivery the relay has already: if it has ended, tell its end again
        (the captain may not have heard it; it applies a receipt twice as once)."""
        if relayed.local_delivery is None:
            return
        try:
            receipt = self._final(relayed, self.store.delivery(relayed.local_delivery))
        except UnknownDelivery:
            return
        if receipt is not None and self.ledger.add_receipt(receipt, final=True, again=True):
            self.wake.set()

    def sweep(self) -> int:
        """Record the final state of relayed deliveries that reached one without a receipt; returns how many."""
        added = 0
        locals_ = {r.local_delivery: r for r in self.ledger.open_deliveries() if r.local_delivery is not None}
        states = self.store.states_of(locals_)  # one read; most open deliveries are still queued
        for local, relayed in locals_.items():
            if RECEIPT_STATE.get(states.get(local, "")) not in FINAL:
                continue
            try:
                receipt = self._final(relayed, self.store.delivery(local))
            except UnknownDelivery:
                continue
            if receipt is not None and self.ledger.add_receipt(receipt, final=True):
                added += 1
        if added:
            self.wake.set()
        return added

    def publish(self, client: BrokerClient, keys: Keys = KEYS, batch: int = 200) -> int:
        """XADD the waiting receipts onto their captains' streams, oldest first, up to ``batch`` at a time
        (``write_batch``: a reader waiting on a stream wakes to them all, not to the first); returns how
        many went. A broker failure propagates (they stay recorded and go next time)."""
        sent = 0
        while True:
            waiting = self.ledger.unpublished(batch)
            if not waiting:
                return sent
            pipe = write_batch(client)
            for _, fields in waiting:
                stream = keys.receipts_of(fields.get("captain", ""))
                pipe.xadd(stream, fields, maxlen=STREAM_MAXLEN, approximate=True)  # type: ignore[arg-type]
            pipe.execute()
            self.ledger.published(waiting[-1][0])
            sent += len(waiting)
            self.published += len(waiting)
            if len(waiting) < batch:  # all there were: one recorded since sets ``wake`` again
                return sent
