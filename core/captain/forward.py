"""The forwarder: the captain's relayed deliveries out to the relays' streams, in batches, without
waiting for any one of them (each entry names this outbox's id as its captain; their receipts come
back on that captain's stream through the receipt reader: ``apply``).

One thread. While its dispatcher works (a companion: ``quarterdeck.core.dispatch.companions``) and
is not stopped, each round claims up to ``batch`` queued deliveries of the relays' agents in one
transaction (``quarterdeck.core.store.forwarding.claim``: sending, started, machine = the relay),
the same one that records the receipts the reader handed over meanwhile (``handoff``), tells the
listeners ``sending``, and XADDs their ``DeliveryEntry`` s as one batch (``MAXLEN ~``;
``broker_client.write_batch``: a relay's waiting read wakes to all of its entries). Whether
anything is queued is asked as ``asking`` says (not again in a round for receipts alone).
Every round also reads the relays' heartbeats (once a second, for ``relay_wait``: see ``sent``),
turns deliveries whose relay had ``wait`` seconds of alive time to answer and did not ``uncertain``
("relay M2 did not report within 30 s: it may have typed it; not sent again"), and tells the end
of deliveries another process on this outbox recorded.

The broker unreachable (``Outage``): nothing is claimed; queued deliveries to relays carry the
reason ("waiting for broker redis://127.0.0.1:6390: Connection refused"), told once per delivery
per outage, never counted against an agent's breaker; they go when the broker answers again. A
failed pipeline may have written some entries: its deliveries stay ``sending`` and are written
again, same delivery ids (a relay does not type an id it has twice), before anything more is
claimed (a broker that answers PING but refuses writes holds one batch, not the whole queue).
"""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

import redis

from quarterdeck.core.broker_client import write_batch
from quarterdeck.core.captain.apply import Applier
from quarterdeck.core.captain.asking import Asking
from quarterdeck.core.captain.handoff import Handoff, Slot
from quarterdeck.core.captain.outage import Outage
from quarterdeck.core.captain.relay_wait import RelayWatch
from quarterdeck.core.captain.sent import Liveness, Sent
from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
from quarterdeck.core.dispatch.outcomes import REDACTED
from quarterdeck.core.dispatch.request import message_of
from quarterdeck.core.relay.protocol import KEYS, STREAM_MAXLEN, DeliveryEntry
from quarterdeck.core.resilience.episode import Episode
from quarterdeck.core.roster.remote import STALE_S
from quarterdeck.core.store import forwarding
from quarterdeck.core.store.control import outbox_id
from quarterdeck.core.store.forwarding import Applied, Forwarded, Matched, Outcome
from quarterdeck.core.store.rows import StoreError
from quarterdeck.core.transports.broker import BrokerDown, BrokerLink
from quarterdeck.core.transports.receipt_reader import ReceiptRouter

if TYPE_CHECKING:
    from quarterdeck.core.dispatch.dispatcher import Dispatcher
    from quarterdeck.core.roster.roster import Roster

__all__ = ["Forwarder"]

log = logging.getLogger(__name__)

QUIET_POLL = 0.25  # as a DeliveryWorker's idle wait
Written = tuple[Forwarded, dict[str, str]]  # a claimed delivery and its entry's fields


class Forwarder:
    """See the module docstring. ``close()`` ends it (and its receipt reader)."""

    def __init__(self, dispatcher: Dispatcher, link: BrokerLink, *, wait: float = 30.0, batch: int = 500,
                 max_in_flight: int = 20_000, poll: float = 0.01) -> None:
        self.dispatcher = dispatcher
        self.store = dispatcher.store
        self.link = link
        self.wait = wait
        self.batch = batch
        self.max_in_flight = max_in_flight
        self.poll = poll
        self.liveness = Liveness(gone_after=STALE_S)
        self.sent = Sent(self.liveness)
        self.watch = RelayWatch(dispatcher, self.liveness, self.sent)
        self.applier = Applier(dispatcher, self.sent)
        self.captain = outbox_id(self.store.connection())  # names this outbox on the relays' streams
        self.router = ReceiptRouter(link, self.applier.receipts, stream=KEYS.receipts_of(self.captain))
        self.outage = Outage(link, self.store)
        self.forwarded = 0  # entries written, for figures
        self._unconfirmed: list[Written] = []  # written by a pipeline that failed: maybe in a stream
        self._working = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.handoff = Handoff(self._wake.set, self._running)  # the reader's receipts, recorded with a claim
        self.applier.hand = lambda receipts: self.handoff.hand(receipts, self.applier.take)
        self._thread: threading.Thread | None = None
        self._relays_read = self._settled = self._busy = 0.0  # _busy: when there was last something to do
        self._fault = Episode(log, "relayed deliveries go on")  # the outbox failing
        self._asking = Asking(poll)
        self._roster: tuple[Roster | None, dict[str, str]] = (None, {})
        self._streams: dict[str, str] = {}  # relay -> its stream's key

    # -- a companion of the dispatcher ------------------------------------------------------------
    def working(self, on: bool) -> None:
        self._asking.wanted()
        with self._lock:
            self._working += 1 if on else -1
            if on and self._thread is None and not self._stop.is_set():
                self.router.start()
                self._thread = threading.Thread(target=self._run, name="qd-forward", daemon=True)
                self._thread.start()
        self._wake.set()

    def notify(self) -> None:
        self._asking.wanted()  # before the wake: the round that follows asks
        self._wake.set()

    def _running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive() and not self._stop.is_set()

    def close(self, grace: float = 1.0) -> None:
        """Stop; deliveries in flight get up to ``grace`` seconds for their receipts first (those left
        stay ``sending``: the next captain process recovers them as ``uncertain``, and the relay's
        receipt, when it comes, replaces that guess)."""
        deadline = time.monotonic() + grace
        while self._thread is not None and len(self.sent) and time.monotonic() < deadline:
            time.sleep(0.02)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10.0)
        self.router.close()

    # -- the loop ---------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # before the round: a notify during it ends the wait below at once
            try:
                busy = self._round()
                self._fault.ok()
            except (sqlite3.Error, StoreError) as exc:  # the outbox cannot be written: one line an episode
                self._fault.failed("relayed deliveries wait: the outbox %s: %s; retrying", self.store.path, exc)
                busy = False
                self._stop.wait(1.0)
            except Exception:
                log.exception("the relay forwarder failed a round; going on")
                busy = False
                self._stop.wait(0.5)
            now = time.monotonic()
            if busy or self.sent:
                self._busy = now
            if not busy:  # this process's sends wake it (notify); another's are seen within ``poll`` while
                # deliveries are in flight or went lately, within ``QUIET_POLL`` when all is quiet
                quiet = self._working <= 0 or now - self._busy > 1.0
                self._wake.wait(QUIET_POLL if quiet else self.poll)

    def _round(self) -> bool:
        """One round; True when there may be more to claim at once. Receipts handed over by the reader
        meanwhile are recorded in the claim's transaction (or in one of their own)."""
        slots = self.handoff.take()
        try:
            now = time.monotonic()
            relays = self._relays() if self._working > 0 and not self.dispatcher.stopped else {}
            fresh = bool(relays) and self.outage.why is None  # before a claim (not at a broker that is down)
            if (self.sent or self._unconfirmed or fresh) and now - self._relays_read >= 1.0:
                self._relays_read = now
                self._heartbeats()
            self.liveness.tick(self.outage.why is None and self.router.down is None)  # receipts could come
            queued = bool(relays) and self._asking.due(now) and (self._asking.told
                                                                  or forwarding.any_queued(self.store, relays))
            # the broker unreachable, or answering but not taking the writes (full, read-only, an ACL):
            # nothing more is claimed until what a failed write left is written
            if (queued or self._unconfirmed) and not (self.outage.answers() and self._written_again()):
                self._claim(slots, relays, 0)
                self._expire(now)  # after the receipts taken: one of them may end a delivery about to expire
                self._tell(self.outage.waiting(relays))
                return False
            room = min(self.batch, self.max_in_flight - len(self.sent)) if queued else 0
            claimed = self._claim(slots, relays, room)
            try:
                self._expire(now)
            finally:  # claimed (sending): written whatever else fails, else it would be left untracked
                if claimed:
                    self._forward(claimed)
            return self._asking.after(full=len(claimed) == room > 0)
        except BaseException as exc:
            self.handoff.failed(slots, exc)
            raise

    def _claim(self, slots: list[Slot], relays: dict[str, str], limit: int) -> list[Forwarded]:
        """Record the receipts of ``slots`` and claim up to ``limit``, in one transaction."""
        if not slots:
            return forwarding.claim(self.store, relays, own_only=self.dispatcher.own_only, limit=limit)
        claimed: list[Forwarded] = []
        settle = partial(self._settle_and_claim, relays, limit, claimed)
        self.handoff.finish(slots, self.applier.take(self.handoff.receipts(slots), settle))
        return claimed

    def _settle_and_claim(self, relays: dict[str, str], limit: int, claimed: list[Forwarded],
                          batch: Sequence[Outcome]) -> tuple[list[Applied], Matched]:
        """Record ``batch`` and claim up to ``limit`` into ``claimed``, in one transaction."""
        if limit <= 0:  # nothing to claim: the write lock only for receipts of an end
            return forwarding.settle(self.store, batch)
        applied, matched, claimed[:] = forwarding.settle_and_claim(self.store, batch, relays,
                                                                   own_only=self.dispatcher.own_only, limit=limit)
        return applied, matched

    def _relays(self) -> dict[str, str]:
        """The relays' agents (agent id -> relay) of the dispatcher's roster."""
        roster = self.dispatcher.roster
        if self._roster[0] is not roster:
            self._roster = (roster, {a.id: a.transport.relay for a in roster.agents if a.transport.kind == "relay"})
        return self._roster[1]

    def _forward(self, claimed: list[Forwarded]) -> None:
        refused: list[Outcome] = []
        entries: list[Written] = []
        sent_at = time.time()
        roster = self.dispatcher.roster
        for item in claimed:
            task = item.task
            agent = roster.get(task.agent_id) if task.agent_id in roster else None
            content = self.dispatcher.content_of(task)
            why = (f"{task.agent_id} is not an enabled agent on the roster" if agent is None or not agent.enabled
                   else REDACTED if content is None else None)
            try:
                if why is None and content is not None:
                    entry = DeliveryEntry(task.delivery_id, task.agent_id, message_of(task, content), sent_at,
                                          self.captain)
                    entries.append((item, entry.to_fields()))
                    continue
            except Exception as exc:  # a stored message this version cannot send: nothing went out
                log.exception("delivery %s to %s could not be written", task.delivery_id, task.agent_id)
                why = f"internal error: {type(exc).__name__}: {exc}"
            refused.append(Outcome(task.delivery_id, task.agent_id, item.relay, "failed", why))
        for item, _ in entries:
            self.dispatcher.tell(DeliveryEvent(item.task.delivery_id, item.task.message_id, item.task.agent_id,
                                               "sending"))
        self._write(entries)  # before anything that may fail: what went out is tracked (``sent``)
        if refused:
            self.applier.record(refused)

    def _write(self, entries: list[Written]) -> bool:
        """XADD ``entries`` as one batch; True when the broker took them all."""
        if not entries:
            return True
        self.sent.add((i.task.delivery_id, i.task.message_id, i.task.agent_id, i.relay) for i, _ in entries)
        try:
            pipe = write_batch(self.link.client)
            streams = self._streams
            for item, fields in entries:
                stream = streams.get(item.relay) or streams.setdefault(item.relay, KEYS.relay_in(item.relay))
                pipe.xadd(stream, fields, maxlen=STREAM_MAXLEN, approximate=True)  # type: ignore[arg-type]
            pipe.execute()
        except (*BrokerDown, redis.RedisError) as exc:
            for item, _ in entries:
                self.sent.pop(item.task.delivery_id)
            self._unconfirmed.extend(entries)
            self.outage.failed(exc, f"{len(entries)} sent deliveries are written again when it answers")
            return False
        self.outage.ok()
        self.forwarded += len(entries)
        self.watch.written({item.task.delivery_id for item, _ in entries})
        return True

    def _written_again(self) -> bool:
        """Write the entries of a failed pipeline again (same delivery ids), those still ``sending``;
        whether none is left unwritten."""
        if not self._unconfirmed:
            return True
        entries = self._unconfirmed
        states = self.store.states_of(item.task.delivery_id for item, _ in entries)
        again = [(item, fields) for item, fields in entries if states.get(item.task.delivery_id) == "sending"]
        self._unconfirmed = []  # ``_write`` keeps those it fails to write again
        if again and self._write(again):
            log.info("%d relayed deliveries written again to the broker", len(again))
        return not self._unconfirmed

    def _heartbeats(self) -> None:
        """Read the relays' announcements: when each was last seen, for ``relay_wait`` (``RelayWatch``)."""
        try:  # a malformed announcement is skipped
            self.watch.read(self.link.client)
        except (*BrokerDown, redis.RedisError) as exc:  # unreachable, or refusing (full, an ACL)
            self.outage.failed(exc)

    def _expire(self, now: float) -> None:
        expired = self.sent.expired(self.wait)
        if expired:
            why = f"did not report within {self.wait:g} s: it may have typed it; not sent again"
            applied, _ = self.applier.record([Outcome(f.delivery, f.agent, f.relay, "uncertain",
                                                      f"relay {f.relay} {why}") for f in expired])
            done = {a.outcome.delivery for a in applied}
            self.applier.recorded([f for f in expired if f.delivery not in done], popped=True)
        if now - self._settled >= 1.0:  # ended by another process on this outbox that read its receipt
            self._settled = now
            self.applier.recorded(self.sent.older_than(2.0, now))

    def _tell(self, waiting: list[tuple[int, str, str]]) -> None:
        for delivery, message_id, agent in waiting:
            self.dispatcher.tell(DeliveryEvent(delivery, message_id, agent, "queued", detail=self.outage.reason))
