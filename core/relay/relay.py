"""The relay loop: one machine's deliverer for the captain, over Redis Streams (``quarterdeck relay``).

A relay named NAME, with its roster (its local agents) and its own data dir, runs five threads:

- **intake**: creates the consumer group ``relay`` on ``qd:relay:NAME:in`` (MKSTREAM), reads its
  own pending entries first (id 0: what it took before a crash but never acknowledged), then new
  ones (``>``), and every few seconds XAUTOCLAIMs entries idle more than 30 s (a dead consumer's).
  Each entry goes into the LOCAL outbox under the captain's message id (``intake.take``: a
  duplicate is recognised and not typed twice); only then is it XACKed and XDELed.
- **delivery**: the local ``DeliveryWorker``: the local dispatcher and transports deliver.
- **receipts**: every state change of a relayed delivery, recorded in the ledger, published to
  ``qd:receipts`` (``receipts.Receipts``); kept until the broker takes them.
- **control**: follows ``qd:control`` (XREAD, BLOCK 100 ms): ``stop`` is a local stop-all,
  ``resume`` a local resume-all.
- **heartbeat**: rewrites its field in ``qd:relays`` every 2 s (``seen_at``) and sweeps final
  states no event told of. Nothing is removed on exit: the captain judges by ``seen_at``.

Broker unreachable: local delivery goes on, each thread retries with a growing pause, and one line
is logged per outage (``Outage``), not per attempt.
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
from redis import exceptions as rx

from quarterdeck.core.models import Agent
from quarterdeck.core.relay.control import Control
from quarterdeck.core.relay.intake import acknowledge, decode_all, take_all
from quarterdeck.core.relay.ledger import Ledger, Relayed
from quarterdeck.core.relay.link import describe, is_broker_failure
from quarterdeck.core.relay.protocol import KEYS, RELAY_GROUP, AnnouncedAgent, Announcement, Keys, Receipt
from quarterdeck.core.relay.receipts import Receipts
from quarterdeck.core.service import DeliveryWorker
from quarterdeck.core.session import Session

log = logging.getLogger("quarterdeck.relay")

CLAIM_IDLE_MS = 30_000
CLAIM_EVERY = 5.0
HEARTBEAT = 2.0
READ_BLOCK_MS = 1000
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


class Outage:
    """One log line when the broker becomes unreachable and one when it answers again, whichever
    thread notices; ``down`` is True meanwhile."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._since: float | None = None
        self._lock = threading.Lock()
        self.outages = 0

    @property
    def down(self) -> bool:
        return self._since is not None

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            if self._since is not None:
                return
            self._since = time.monotonic()
            self.outages += 1
        log.warning("relay: %s; delivering what this relay holds, retrying until it answers", describe(exc, self.url))

    def ok(self) -> None:
        with self._lock:
            since, self._since = self._since, None
        if since is not None:
            log.warning("relay: broker answers again after %.1f s", time.monotonic() - since)


@dataclass
class Relay:
    """See the module docstring. ``run`` blocks until ``stop`` is set, then stops after the delivery
    in flight."""

    name: str
    session: Session
    client: redis.Redis
    url: str
    keys: Keys = KEYS
    stop: threading.Event = field(default_factory=threading.Event)
    taken: int = 0
    duplicates: int = 0
    unsent: int = 0  # receipts left for the next start (counted on close)

    def __post_init__(self) -> None:
        self.stream = self.keys.relay_in(self.name)
        self.outage = Outage(self.url)
        self.ledger = Ledger(self.session.store.path.parent)
        self.receipts = Receipts(self.name, self.ledger, self.session.store)
        self.session.dispatcher.add_listener(self.receipts.on_event)
        self.worker = DeliveryWorker(self.session.dispatcher, idle_wait=0.05)
        self.control = Control(self.session.dispatcher, self.client, self.keys.control, self.outage,
                               after=self._after_control)
        self.started_at = time.time()
        self._threads: list[threading.Thread] = []

    # -- running --------------------------------------------------------------------------------
    def run(self) -> None:
        """Deliver for the captain until ``stop`` is set; then finish the delivery in flight."""
        self.receipts.sweep()  # final states a crash kept from being told (recovery marked them)
        self.worker.start()
        for target, name in ((self._intake, "intake"), (self._publish, "receipts"),
                             (self.control.follow_until(self.stop), "control"), (self._heartbeat, "heartbeat")):
            thread = threading.Thread(target=self._guarded(target), name=f"relay-{name}", daemon=True)
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
            self.receipts.publish(self.client, self.keys.receipts)
        except rx.RedisError as exc:
            log.warning("relay %s: %d receipt(s) wait for the broker; they go on the next start (%s)", self.name,
                        self.ledger.unpublished_count(), describe(exc, self.url))
        self.unsent = self.ledger.unpublished_count()
        self.ledger.close()

    def _guarded(self, loop: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            pause = 0.1
            while not self.stop.is_set():
                try:
                    loop()
                    return
                except Exception as exc:
                    if not is_broker_failure(exc):
                        log.exception("relay %s: %s failed; retrying", self.name, threading.current_thread().name)
                    else:
                        self.outage.failed(exc)
                    self.stop.wait(pause)
                    pause = min(pause * 2, MAX_PAUSE)
        return run

    # -- intake ---------------------------------------------------------------------------------
    def _ensure_group(self) -> None:
        try:
            self.client.xgroup_create(self.stream, RELAY_GROUP, id="0", mkstream=True)
        except rx.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _intake(self) -> None:
        self._ensure_group()
        self.outage.ok()
        backlog = True  # our own pending entries first: taken before a crash, never acknowledged
        next_claim = 0.0
        while not self.stop.is_set():
            if time.monotonic() >= next_claim:
                self._claim_abandoned()
                next_claim = time.monotonic() + CLAIM_EVERY
            reply: Any = self.client.xreadgroup(RELAY_GROUP, self.name, {self.stream: "0" if backlog else ">"},
                                                count=100, block=None if backlog else READ_BLOCK_MS)
            self.outage.ok()
            entries = reply[0][1] if reply else []
            if backlog and not entries:
                backlog = False
            self._handle(entries)

    def _claim_abandoned(self) -> None:
        start = "0-0"
        while True:
            reply: Any = self.client.xautoclaim(self.stream, RELAY_GROUP, self.name, CLAIM_IDLE_MS, start, count=100)
            start, entries = reply[0], reply[1]
            self._handle([entry for entry in entries if entry and entry[1] is not None])
            if start in (b"0-0", "0-0") or self.stop.is_set():
                return

    def _handle(self, raws: list[Any]) -> None:
        """Take a read of entries (one outbox transaction), then acknowledge them all (one round trip)."""
        read = decode_all(raws)
        for entry_id, fields, why in read.refused:
            log.warning("relay %s: dropped entry %s: %s", self.name, entry_id, why)
            self._refuse(entry_id, fields, why)
        taken = take_all(self.session, self.ledger, read.entries)
        self.worker.notify()
        for entry_id, entry, (local, new) in zip(read.entry_ids, read.entries, taken, strict=True):
            if new:
                self.taken += 1
            else:
                self.duplicates += 1
                self.receipts.repeat(Relayed(entry.delivery, entry.message.id, entry.agent, local))
                log.info("relay %s: entry %s repeats delivery %d to %s; not queued again", self.name,
                         entry_id, entry.delivery, entry.agent)
        acknowledge(self.client, self.stream, read.ids)

    def _after_control(self) -> None:
        self.receipts.sweep()  # what a stop cancelled goes back as receipts now
        self.worker.notify()

    def _refuse(self, entry_id: str, fields: dict[bytes, bytes], why: str) -> None:
        """A malformed entry that still names a delivery and an agent: tell the captain it failed."""
        try:
            delivery = int(fields.get(b"delivery", b""))
            agent = fields[b"agent"].decode()
        except (KeyError, ValueError):
            return
        receipt = Receipt(self.name, delivery, agent, "failed", verdict="not_typed",
                          reason=f"the relay could not read the entry: {why}", at=time.time())
        if self.ledger.add_receipt(receipt, final=True):
            self.receipts.wake.set()

    # -- receipts and heartbeat -----------------------------------------------------------------
    def _publish(self) -> None:
        while not self.stop.is_set():
            self.receipts.wake.wait(0.5)
            self.receipts.wake.clear()
            self.receipts.publish(self.client, self.keys.receipts)
            self.outage.ok()

    def _heartbeat(self) -> None:
        while not self.stop.is_set():
            self.receipts.sweep()
            self.client.hset(self.keys.relays, self.name, self.announcement().to_json())
            self.outage.ok()
            self.stop.wait(HEARTBEAT)

    def announcement(self) -> Announcement:
        agents = [AnnouncedAgent(a.id, a.display_name or a.id, a.role, a.transport.kind, target_text(a))
                  for a in self.session.roster.agents]
        return Announcement(self.name, socket.gethostname(), os.getpid(), self.started_at, time.time(), agents)
