"""Receipts from the relays into the captain's outbox, in batches, and their events.

A relay's receipt becomes the delivery's outcome: ``delivered`` with the relay's verdict and its
evidence ("input read back (relay M2)"), ``failed`` with the relay's verdict and reason (the relay
retried already: never sent again from here), ``uncertain`` (never resent), ``cancelled``. A batch
is recorded in one transaction (``quarterdeck.core.store.forwarding.settle``); then each recorded
outcome is counted by the monitor and told to the dispatcher's listeners, as a local delivery's
is (``quarterdeck.core.dispatch.outcomes.relayed``). A receipt of a step on the way (the relay is
retrying) is told as ``retrying``; one saying the relay holds the delivery (GUI delivery paused there:
a draft in the agent's input, a person at its mouse) puts its reason on the row, still ``sending``, and
is told so until the relay goes on with it (``hold``). Runs on the forwarder's thread (the reader hands
its batches over: ``handoff``), or on the reader's while the forwarder's does not run.
"""
from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

from quarterdeck.core.dispatch import outcomes
from quarterdeck.core.dispatch.dispatcher import TERMINAL, DeliveryEvent
from quarterdeck.core.relay.protocol import Receipt
from quarterdeck.core.store import forwarding
from quarterdeck.core.store.forwarding import Applied, Matched, Outcome, settle
from quarterdeck.core.store.rows import StoreError, UnknownDelivery

if TYPE_CHECKING:
    from quarterdeck.core.captain.sent import InFlight, Sent
    from quarterdeck.core.dispatch.dispatcher import Dispatcher

__all__ = ["Applier", "outcome_of"]

log = logging.getLogger(__name__)

Settle = Callable[[Sequence[Outcome]], tuple[list[Applied], Matched]]
UNCLAIMED_FOR = 600.0  # seconds a receipt no delivery here matches is left pending (a file rebuilt meanwhile)
DELIVERED_VERDICTS = frozenset({"submitted", "unverified", "confirmed_by_agent"})
FAILED_VERDICTS = frozenset({"not_typed", "typed_not_submitted"})


def outcome_of(receipt: Receipt) -> Outcome:
    """The outcome a relay's receipt stands for, in the captain's words."""
    where = f"relay {receipt.relay}"
    evidence = f"{receipt.evidence} ({where})" if receipt.evidence else where
    reason = f"{where}: {receipt.reason or receipt.state}"
    if receipt.state == "delivered":
        verdict = receipt.verdict if receipt.verdict in DELIVERED_VERDICTS else "unverified"
        return Outcome(receipt.delivery, receipt.agent, receipt.relay, "delivered", None, verdict, evidence,
                       receipt.attempts)
    verdict_ = receipt.verdict if receipt.state == "failed" and receipt.verdict in FAILED_VERDICTS else None
    return Outcome(receipt.delivery, receipt.agent, receipt.relay, receipt.state, reason, verdict_,
                   evidence if receipt.state in ("failed", "uncertain") else None, receipt.attempts)


class Applier:
    """Records outcomes of relayed deliveries for ``dispatcher``; ``sent`` is what is in flight."""

    def __init__(self, dispatcher: Dispatcher, sent: Sent) -> None:
        self.dispatcher = dispatcher
        self.sent = sent
        self.hand: Callable[[list[Receipt]], list[bool]] | None = None  # to the forwarder's thread

    def receipts(self, receipts: list[Receipt]) -> list[bool]:
        """The receipt reader's sink: record a batch (handed to the forwarder's thread, which records it
        with its next claim, when it is set up so); per receipt, whether it is done with (this
        outbox's, or matching none here for ``UNCLAIMED_FOR`` seconds: an outbox started afresh leaves
        such)."""
        return self.take(receipts) if self.hand is None else self.hand(receipts)

    def take(self, receipts: list[Receipt], settle_with: Settle | None = None) -> list[bool]:
        """Record ``receipts`` here (``settle_with``: instead of :func:`settle`, e.g. with a claim)."""
        for relay, agent in {(r.relay, r.agent) for r in receipts}:  # the relay works on these agents' queues
            self.sent.progress(relay, agent)
        _, matched = self.record([outcome_of(r) for r in receipts], settle_with)
        for receipt in receipts:
            if receipt.state == "sending" and receipt.attempts > 1 and receipt.reason:
                flight = self.sent.get(receipt.delivery)
                if flight is not None and flight.agent == receipt.agent:
                    self.dispatcher.tell(DeliveryEvent(receipt.delivery, flight.message_id, receipt.agent,
                                                       "retrying", receipt.attempts - 1,
                                                       f"relay {receipt.relay}: {receipt.reason}"))
        try:  # after the claim this batch was recorded with: a fault here must not strand what it claimed
            self.hold(receipts, matched)
        except (sqlite3.Error, StoreError) as exc:  # a reason is advice: the outcomes are recorded already
            log.warning("a relay's reason for holding a delivery was not recorded (%s); its heartbeat still "
                        "says it is paused", " ".join(str(exc).split()))
        now = time.time()  # one no delivery here matches stays a while, but not for ever
        return [(r.delivery, r.agent, r.relay) in matched or now - r.at > UNCLAIMED_FOR for r in receipts]

    def hold(self, receipts: list[Receipt], matched: Matched) -> None:
        """A relay put a delivery of this outbox back (GUI delivery paused there: a draft in the agent's
        input, a hand at the mouse): the reason goes on the row, still ``sending``, and is told, so the
        captain sees why it waits and what to do; a later ``sending`` of it takes the reason back (and
        the relay's announcement, once it is no longer paused: ``relay_wait``). In order: the last word
        on a delivery in ``receipts`` is the one that stays."""
        notes: dict[tuple[int, str, str], str | None] = {}  # (delivery, agent, relay) -> its reason now
        for r in receipts:
            key = (r.delivery, r.agent, r.relay)
            if key not in matched:
                continue
            if r.state == "queued" and r.reason:
                notes[key] = f"relay {r.relay}: {r.reason}"
            elif r.state == "sending" or key in notes:
                notes[key] = None
        if notes:
            for (delivery, agent, _), reason, message_id in forwarding.note_relay_held(self.dispatcher.store, notes):
                self.dispatcher.tell(DeliveryEvent(delivery, message_id, agent, "sending", detail=reason or ""))

    def record(self, batch: Sequence[Outcome], settle_with: Settle | None = None) -> tuple[list[Applied], Matched]:
        """Record ``batch`` (one transaction) and tell what changed; returns what :func:`settle` does."""
        applied, matched = (settle_with or partial(settle, self.dispatcher.store))(batch)
        self.sent.pop_many(done.outcome.delivery for done in applied)
        for done in applied:
            outcomes.relayed(self.dispatcher, self.event(done))
        return applied, matched

    @staticmethod
    def event(done: Applied) -> DeliveryEvent:
        o = done.outcome
        if o.state == "delivered":
            detail = f"delivered by relay {o.relay} after {o.attempts} attempt(s)"
            if done.was == "uncertain":
                detail += " (it was uncertain: the relay reported late)"
            return DeliveryEvent(o.delivery, done.message_id, o.agent, o.state, o.attempts, detail, done.latency,
                                 o.verdict, o.evidence or "")
        return DeliveryEvent(o.delivery, done.message_id, o.agent, o.state, o.attempts, o.reason or o.state,
                             None, o.verdict, o.evidence or "")

    def recorded(self, flights: Sequence[InFlight], *, popped: bool = False) -> None:
        """Deliveries that ended without this process recording it (another captain process on this
        outbox read their receipts): tell each one's end as recorded (``popped``: no longer in flight)."""
        if not flights:
            return
        states = self.dispatcher.store.states_of(f.delivery for f in flights)
        for flight in flights:
            if states.get(flight.delivery) not in TERMINAL or (not popped and self.sent.pop(flight.delivery) is None):
                continue
            try:
                row = self.dispatcher.store.delivery(flight.delivery)
            except UnknownDelivery:
                continue
            self.dispatcher.tell(DeliveryEvent(row.id, row.message_id, row.agent_id, str(row.state), row.attempts,
                                               row.reason or "", None, row.verdict, row.evidence or ""))
