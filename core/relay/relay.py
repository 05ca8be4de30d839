"""The relay loop: one machine's deliverer for the captain, over Redis Streams (``quarterdeck relay``).

A relay named NAME, with its roster (its local agents) and its own data dir, runs five threads:

- **intake**: creates the consumer group ``relay`` on ``qd:relay:NAME:in`` (MKSTREAM), reads its
  own pending entries first (id 0: what it took before a crash but never acknowledged), then new
  ones (``>``), and every few seconds XAUTOCLAIMs entries idle more than 30 s (a dead consumer's).
  Each entry goes into the LOCAL outbox under the captain's message id (``intake.take``: a
  duplicate is recognised and not typed twice); only then is it XACKed and XDELed, in the same
  round trip as the next read (and on the way out). The captain writes a batch at once (``write_batch``), so
  a waiting read wakes to the whole of it: one read, one take (two on a cluster).
- **delivery**: the local ``DeliveryWorker``: the local dispatcher and transports deliver; inbox
  agents in batches beside it (``quarterdeck.core.batch``: many files per transaction).
- **receipts**: every state change of a relayed delivery, recorded in the ledger, published to its
  captain's ``qd:receipts:<captain>`` (``receipts.Receipts``); kept until the broker takes them. An
  inbox round's are recorded together, and a ``sending`` that ends in the same round is not told.
- **control**: follows ``qd:control`` (XREAD, BLOCK 100 ms): ``stop`` is a local stop-all,
  ``resume`` a local resume-all.
- **heartbeat**: rewrites its field in ``qd:relays`` every 2 s (``seen_at``, from Redis ``TIME``: the
  broker's clock, so a relay whose clock is off does not look stale, nor fresh once dead) and sweeps
  final states no event told of; hourly it prunes the ledger (``prune``). Nothing is removed on
  exit: the captain judges by ``seen_at``.
- **events**: its agents' activity events, published to every captain on its ``qd:events:<captain>`` (``events_out``).

Broker unreachable: local delivery goes on, each thread retries with a growing pause, and one line
is logged per outage (``Outage``), not per attempt. Any other fault (local storage locked, full or
read-only; a command the broker refuses) is one line per episode (``faults``): an entry that could
not be taken stays unacknowledged and is taken again, once, when the storage works.
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

from redis import exceptions as rx

from quarterdeck.core.batch import attach
from quarterdeck.core.broker_client import BrokerClient
from quarterdeck.core.broker_group import ensure_group
from quarterdeck.core.models import Agent
from quarterdeck.core.relay.control import Control
from quarterdeck.core.relay.events_out import EventPublisher
from quarterdeck.core.relay.faults import BROKER, Faults, kind_of
from quarterdeck.core.relay.intake import acknowledge, acknowledging, decode_all, refusal, take_all
from quarterdeck.core.relay.ledger import Ledger, Relayed
from quarterdeck.core.relay.link import describe
from quarterdeck.core.relay.outage import Outage
from quarterdeck.core.relay.protocol import KEYS, RELAY_GROUP, AnnouncedAgent, Announcement, Keys
from quarterdeck.core.relay.prune import EVERY_S, prune_ledger
from quarterdeck.core.relay.receipts import Receipts
from quarterdeck.core.roster.remote import broker_now
from quarterdeck.core.service import DeliveryWorker
from quarterdeck.core.session import Session

log = logging.getLogger("quarterdeck.relay")

CLAIM_IDLE_MS = 30_000
CLAIM_EVERY = 5.0
HEARTBEAT = 2.0
READ_BLOCK_MS = 1000
READ_COUNT = 100
MAX_PAUSE = 2.0


def target_text(agent: Agent) -> str:
    """Where an agent is reached, in one short line (a pane, a folder, a chat point)."""
    transport = agent.transport
    if transport.kind == "tmux":
        return transport.target
    if transport.kind == "inbox":
        return str(transport.path)
    if transport.kind == "gui":
        return f"chat ({transport.chat[0]}, {transport.chat[1]})"
    return "-"


@dataclass
class Relay:
    """See the module docstring. ``run`` blocks until ``stop`` is set, then stops after the delivery
    in flight."""

    name: str
    session: Session
    client: BrokerClient
    url: str
    keys: Keys = KEYS
    stop: threading.Event = field(default_factory=threading.Event)
    taken: int = 0
    duplicates: int = 0
    unsent: int = 0  # receipts left for the next start (counted on close)

    def __post_init__(self) -> None:
        self.stream = self.keys.relay_in(self.name)
        self.outage = Outage(self.url)
        self.faults = Faults(self.name, self.url)
        self.ledger = Ledger(self.session.store.path.parent)
        self.receipts = Receipts(self.name, self.ledger, self.session.store)
        self.session.dispatcher.add_listener(self.receipts.on_event)
        self.inbox_batch = attach(self.session.dispatcher)  # inbox agents: many deliveries per transaction
        self.inbox_batch.around_round = self.receipts.batched  # a round's receipts: one transaction
        self.inbox_agents = frozenset(a.id for a in self.session.roster.agents if a.transport.kind == "inbox")
        self.worker = DeliveryWorker(self.session.dispatcher, idle_wait=0.05)
        self.control = Control(self.session.dispatcher, self.client, self.keys.control,
                               self.faults.progress("control", self.outage), after=self._after_control)
        self.started_at = time.time()
        self.clock_offset = 0.0  # the broker's clock minus this machine's (Redis TIME, each heartbeat)
        self.events = EventPublisher(self.name, self.session.store.path, self.client, self.keys,
                                     [a.id for a in self.session.roster.agents], self.outage)
        self.pruned = 0
        self._threads: list[threading.Thread] = []
        self._unacked: list[str] = []  # entries taken, not yet acknowledged (that goes with the next read)

    # -- running --------------------------------------------------------------------------------
    def run(self) -> None:
        """Deliver for the captain until ``stop`` is set; then finish the delivery in flight."""
        self.receipts.sweep()  # final states a crash kept from being told (recovery marked them)
        try:  # the captain's last word before anything is typed: a relay started during a stop starts halted
            self.control.prime()
        except Exception as exc:  # asked again before the intake reads; what this outbox holds goes on
            self._failed("control", exc)
        self.worker.start()
        for target, name in ((self._intake, "intake"), (self._publish, "receipts"),
                             (self.control.follow_until(self.stop), "control"), (self._heartbeat, "heartbeat"),
                             (self.events.loop_until(self.stop, lambda: self.faults.ok("events")), "events")):
            thread = threading.Thread(target=self._guarded(target, name), name=f"relay-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("relay %s started (pid %d): %d agent(s), stream %s", self.name, os.getpid(),
                 len(self.session.roster.agents), self.stream)
        self.stop.wait()
        self.close()

    def close(self) -> None:
        self.stop.set()
        self.receipts.wake.set()
        for thread in self._threads:
            thread.join(timeout=READ_BLOCK_MS / 1000 + 6)
        self.worker.request_stop()
        self.worker.join()
        self.receipts.sweep()
        try:
            self.receipts.publish(self.client, self.keys)
        except rx.RedisError as exc:
            log.warning("relay %s: %d receipt(s) wait for the broker; they go on the next start (%s)", self.name,
                        self.ledger.unpublished_count(), describe(exc, self.url))
        self.unsent = self.ledger.unpublished_count()
        self.ledger.close()

    def _guarded(self, loop: Callable[[], None], where: str) -> Callable[[], None]:
        """Run ``loop`` until it returns, restarting it after a growing pause when it fails: one line
        per broker outage (``Outage``), one per episode of any other fault (``Faults``)."""
        def run() -> None:
            pause = 0.1
            while not self.stop.is_set():
                try:
                    loop()
                    return
                except Exception as exc:
                    self._failed(where, exc)
                    self.stop.wait(pause)
                    pause = min(pause * 2, MAX_PAUSE)
        return run

    def _failed(self, where: str, exc: Exception) -> None:
        kind = kind_of(exc)
        if kind == BROKER:
            self.outage.failed(exc)
        else:
            self.faults.failed(where, exc, kind)

    # -- intake ---------------------------------------------------------------------------------
    def _intake(self) -> None:
        self.control.prime()  # nothing is read before the captain's last word is known (a stop: cancelled)
        ensure_group(self.client, self.stream, RELAY_GROUP)
        self.outage.ok()
        backlog = True  # our own pending entries first: taken before a crash, never acknowledged
        next_claim = 0.0
        while not self.stop.is_set():
            if time.monotonic() >= next_claim:
                self._claim_abandoned()
                next_claim = time.monotonic() + CLAIM_EVERY
            reply = self._read("0" if backlog else ">", None if backlog else READ_BLOCK_MS)
            self.outage.ok()
            entries = reply[0][1] if reply else []
            if backlog and not entries:
                backlog = False
            self._handle(entries)
            self.faults.ok("intake")
        self._read_acknowledged()

    def _read(self, start: str, block: int | None) -> Any:
        """XREADGROUP from ``start``, after acknowledging what was taken since the last read, in one
        round trip (XACK, XDEL, XREADGROUP in one pipeline)."""
        ids, self._unacked = self._unacked, []
        try:
            if not ids:
                return self.client.xreadgroup(RELAY_GROUP, self.name, {self.stream: start}, count=READ_COUNT,
                                              block=block)
            pipe = acknowledging(self.client.pipeline(transaction=False), self.stream, ids)
            pipe.xreadgroup(RELAY_GROUP, self.name, {self.stream: start}, count=READ_COUNT, block=block)
            return pipe.execute()[-1]
        except BaseException:
            self._unacked[:0] = ids  # again with the next read (acknowledging twice is harmless)
            raise

    def _read_acknowledged(self) -> None:
        """Acknowledge what was taken since the last read (on the way out)."""
        ids, self._unacked = self._unacked, []
        try:
            acknowledge(self.client, self.stream, ids)
        except rx.RedisError:  # left pending: the next start reads them again and recognises each
            log.info("relay %s: %d taken entries left unacknowledged; the next start recognises them", self.name,
                     len(ids))

    def _claim_abandoned(self) -> None:
        start = "0-0"
        while True:
            reply: Any = self.client.xautoclaim(self.stream, RELAY_GROUP, self.name, CLAIM_IDLE_MS, start, count=100)
            start, entries = reply[0], reply[1]
            self._handle([entry for entry in entries if entry and entry[1] is not None])
            if start in (b"0-0", "0-0") or self.stop.is_set():
                return

    def _handle(self, raws: list[Any]) -> None:
        """Take a read of entries (one outbox transaction); they are acknowledged with the next read."""
        read = decode_all(raws)
        for entry_id, fields, why in read.refused:
            log.warning("relay %s: dropped entry %s: %s", self.name, entry_id, why)
            self._refuse(entry_id, fields, why)
        taken = take_all(self.session, self.ledger, read.entries)  # the inbox batch is told there
        wake_worker = False
        for entry_id, entry, (local, new) in zip(read.entry_ids, read.entries, taken, strict=True):
            if new:
                self.taken += 1
                wake_worker = wake_worker or entry.agent not in self.inbox_agents
            else:
                self.duplicates += 1
                self.receipts.repeat(Relayed(entry.delivery, entry.message.id, entry.agent, local, entry.captain))
                log.info("relay %s: entry %s repeats delivery %d to %s; not queued again", self.name,
                         entry_id, entry.delivery, entry.agent)
        if wake_worker:  # the dispatcher delivers it (not an inbox agent's)
            self.worker.notify()
        self._unacked += read.ids  # taken (committed): acknowledged with the next read

    def _after_control(self) -> None:
        self.receipts.sweep()  # what a stop cancelled goes back as receipts now
        self.worker.notify()

    def _refuse(self, entry_id: str, fields: dict[bytes, bytes], why: str) -> None:
        """A malformed entry that still names a delivery and an agent: tell the captain it failed."""
        receipt = refusal(self.name, fields, why)
        if receipt is not None and self.ledger.add_receipt(receipt, final=True):
            self.receipts.wake.set()

    # -- receipts and heartbeat -----------------------------------------------------------------
    def _publish(self) -> None:
        while not self.stop.is_set():
            self.receipts.wake.wait(0.5)
            self.receipts.wake.clear()
            if self.receipts.publish(self.client, self.keys):
                self.outage.ok()  # only when the broker took some: nothing to send is no answer
            self.faults.ok("receipts")

    def _heartbeat(self) -> None:
        next_prune = time.monotonic() + 60.0  # not while a restarted relay catches up
        while not self.stop.is_set():
            self.receipts.sweep()
            now = broker_now(self.client)  # seen_at in the broker's clock
            self.clock_offset = now - time.time()
            self.client.hset(self.keys.relays, self.name, self.announcement(now).to_json())
            self.outage.ok()
            if time.monotonic() >= next_prune:
                self.pruned += prune_ledger(self.ledger.path.parent, self.session.store.path)
                next_prune = time.monotonic() + EVERY_S
            self.faults.ok("heartbeat")
            self.stop.wait(HEARTBEAT)

    def announcement(self, seen_at: float | None = None) -> Announcement:
        """This relay in ``qd:relays``; times in the broker's clock (``seen_at``: Redis TIME)."""
        agents = [AnnouncedAgent(a.id, a.display_name or a.id, a.role, a.transport.kind, target_text(a))
                  for a in self.session.roster.agents]
        seen = time.time() + self.clock_offset if seen_at is None else seen_at
        return Announcement(self.name, socket.gethostname(), os.getpid(), self.started_at + self.clock_offset,
                            seen, agents, self.session.dispatcher.gui_paused or "")
