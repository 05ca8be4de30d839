"""One round of the inbox batch: claim, write every file, record every outcome, tell the events.

Per round (``Round.run``): up to ``limit`` queued deliveries of the inbox agents are claimed and
started in one transaction (``quarterdeck.core.store.batching``), the listeners hear ``sending``;
each file is written under a temp name as the inbox transport writes it (``InboxDelivery.stage``),
in claim order; the claim's commit and the files' contents are made durable together
(``quarterdeck.core.flush``: one ``syncfs`` per file system, else an fsync each); each file is named
in claim order (so each agent's files sort in its queue order); their folders are flushed together;
every outcome is recorded in one durable transaction and told (``delivered`` with the transport's
verdict and evidence, as ``quarterdeck.core.dispatch.outcomes`` tells the dispatcher's own). N files
in k folders take two flushes, not N + k fsyncs (each a journal commit and a flush of the disk).

A file not written, flushed or named fails only its delivery (its temp file removed): a retryable
error hands it back to the queue (the attempt logged) and holds its agent for the dispatcher's
backoff, its later files in the round going back behind it untouched so its order holds (its
earlier ones are delivered); after the last attempt, or on a permanent error, it is ``failed``. A
claim that could not be flushed is nobody's failure (``quarterdeck.core.batch.files``). A folder
whose flush fails leaves its files maybe not durably named: ``uncertain``, never written again.
Each delivery takes a permit of its agent's breaker (the dispatcher's). A crash after the claim
leaves the round's deliveries ``sending`` and started: recovery makes them ``uncertain``. Outcomes
whose commit fails (the disk full, the outbox locked) are kept (``unrecorded``) and recorded and
told before the next round. A stop-all during the round cancels what the round would hand back to
the queue (the stop cancelled the queue meanwhile), as the dispatcher's stop cancels a retry.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec import structs

from quarterdeck.core import flush
from quarterdeck.core.batch.files import FilePhase, Written
from quarterdeck.core.delivery.errors import DeliveryError, verdict_of
from quarterdeck.core.dispatch import outcomes
from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
from quarterdeck.core.dispatch.idle_gate import NotIdle
from quarterdeck.core.dispatch.request import request_for
from quarterdeck.core.resilience import CallNotPermitted
from quarterdeck.core.resilience.breaker import Permit
from quarterdeck.core.store import batching
from quarterdeck.core.store.batching import Claimed, Done
from quarterdeck.core.store.control import STOPPED
from quarterdeck.core.transports.inbox import InboxDelivery

if TYPE_CHECKING:
    from quarterdeck.core.dispatch.dispatcher import Dispatcher
    from quarterdeck.core.models import Agent

log = logging.getLogger(__name__)

_TICK = timedelta(microseconds=1)
Unrecorded = list[tuple[list[Done], list[DeliveryEvent]]]  # outcomes a failed commit left, in round order


def inbox_for(agent: Agent, inboxes: dict[Path, InboxDelivery]) -> InboxDelivery:
    """``agent``'s inbox: one per folder, kept in ``inboxes`` across rounds."""
    path = Path(getattr(agent.transport, "path", "")).expanduser()
    inbox = inboxes.get(path)
    if inbox is None:
        inbox = inboxes[path] = InboxDelivery(path)
    return inbox


def _typing() -> None:
    """A file is written whole or not at all: nothing to mark while it is."""


@dataclass
class Round(FilePhase):
    """One batch for ``dispatcher``'s inbox ``agents``; ``inboxes`` and ``held`` live across rounds."""

    dispatcher: Dispatcher
    agents: dict[str, Agent]
    inboxes: dict[Path, InboxDelivery]
    held: dict[str, float]  # agent -> time.monotonic() before which it is not claimed (a retry's backoff)
    last_name: dict[InboxDelivery, datetime]  # the last name stamped in each inbox (``inboxes`` keeps them)
    done: list[Done] = field(default_factory=list)
    events: list[DeliveryEvent] = field(default_factory=list)
    anchors: dict[int, int] = field(default_factory=dict)  # file system -> a descriptor to flush it through
    stopped_agents: dict[str, int] = field(default_factory=dict)  # agent -> claim position of its failed file
    inboxes_of: dict[int, InboxDelivery] = field(default_factory=dict)  # delivery -> its inbox
    agent_inbox: dict[str, InboxDelivery] = field(default_factory=dict)  # its folder's, anchored (across rounds)
    more: bool = False  # the claim says more may be claimable at once (``batching.Claims``)
    unrecorded: Unrecorded = field(default_factory=list)  # the companion's, across rounds

    def open_agents(self) -> list[str]:
        """The agents not held back by a retry's backoff."""
        now = time.monotonic()
        return [a for a in self.agents if self.held.get(a, 0.0) <= now]

    def run(self, limit: int, agents: list[str]) -> list[str]:
        """Deliver one batch to ``agents``; returns the agent of each delivery claimed, in order."""
        dispatcher = self.dispatcher
        # the claim's commit is flushed with the files' contents (``files_flushed``), before any is named:
        # the outbox's file system is anchored (``InboxBatch`` did it before the first round)
        claimed = batching.claim(dispatcher.store, agents, own_only=dispatcher.own_only, limit=limit, durable=False)
        self.more = claimed.more
        if not claimed:
            return []
        for item in claimed:
            if not item.when_idle:
                self._tell(item, "sending")
        staged: list[Written] = []
        try:
            for position, item in enumerate(claimed):  # stamped in claim order: a folder's names sort in queue order
                known = item.task.agent_id in self.agents
                stamp = self._stamp(self._inbox(item)) if known else datetime.now(UTC)
                if (entry := self._write(item, stamp, position)) is not None:
                    staged.append(entry)
            self.folders_flushed(self.named(self.files_flushed(staged)))
        except BaseException:
            self.dropped(staged)
            named = {entry.claimed.task.delivery_id for entry in staged if entry.final is not None}
            ended = {done.delivery for done in self.done}
            back = [Done(item.task.delivery_id, "queued", "an internal error in the inbox round; nothing of it was "
                         "written") for item in claimed if item.task.delivery_id not in named | ended]
            try:  # those named stay sending: recovery makes them uncertain
                batching.finish(dispatcher.store, [*self.done, *back])
            except Exception:  # recorded before the next round (``unrecorded``)
                self.unrecorded.append(([*self.done, *back], []))
            raise
        self.done, self.events = stopped_meanwhile(dispatcher, self.done, self.events)
        try:
            changed = batching.finish(dispatcher.store, self.done)
        except Exception:  # the outbox cannot be written now: kept, recorded and told before the next round
            self.unrecorded.append((self.done, self.events))
            raise
        told(dispatcher, self.events, changed)
        return [item.task.agent_id for item in claimed]

    # -- one file -----------------------------------------------------------------------------
    def _write(self, item: Claimed, stamp: datetime, position: int) -> Written | None:
        task, dispatcher = item.task, self.dispatcher
        if task.agent_id in self.stopped_agents:  # an earlier file of its agent goes again later: so does this
            self._end(item, "queued", f"behind an earlier message to {task.agent_id} that is tried again")
            return None
        agent = self.agents.get(task.agent_id)
        if agent is None or not agent.enabled:
            self._end(item, "failed", f"{task.agent_id} is not an enabled agent on the roster")
            return None
        content = dispatcher.content_of(task)
        if content is None:
            self._end(item, "failed", outcomes.REDACTED)
            return None
        if item.when_idle and not self._idle_start(item):
            return None
        try:
            permit = dispatcher.breakers.get(agent.id).try_acquire()
        except CallNotPermitted as refused:
            self._end(item, "failed", f"breaker open: {refused}")
            return None
        inbox = self.inboxes_of[task.delivery_id]  # made as its name was stamped
        attempt, began, clock = item.attempts + 1, time.time(), time.monotonic()
        try:
            staged = inbox.stage(request_for(task, agent.id, content, force=False, typing=_typing), stamp)
        except DeliveryError as exc:
            self._refused(item, permit, exc, attempt, began, clock, position)
            return None
        except Exception as exc:  # a bug: the file may be there, so never again and never 'failed'
            log.exception("delivery %s to %s crashed", task.delivery_id, task.agent_id)
            dispatcher.breakers.get(agent.id).on_ignored(permit, exc)
            self._end(item, "uncertain", f"internal error: {type(exc).__name__}: {exc}", attempt=attempt,
                      began=began, error=str(exc))
            return None
        except BaseException:
            dispatcher.breakers.get(agent.id).on_ignored(permit)
            raise
        return Written(item, staged, permit, attempt, began, clock, position)

    def _idle_start(self, item: Claimed) -> bool:
        """A when-idle delivery: its agent must still be free (else it waits again); then it starts."""
        try:
            self.dispatcher.idle_gate.before_typing(item.task)
        except NotIdle as busy:
            outcomes.paused(self.dispatcher, item.task, busy)
            return False
        if not batching.start(self.dispatcher.store, item.task.delivery_id):
            return False
        self._tell(item, "sending")
        return True

    def _refused(self, item: Claimed, permit: Permit, exc: DeliveryError, attempt: int, began: float,
                 clock: float, position: int) -> None:
        """The file was not written (nothing of it has its name): again later, or failed."""
        policy, agent = self.dispatcher.policy, item.task.agent_id
        self.dispatcher.breakers.get(agent).on_error(permit, exc, time.monotonic() - clock)
        if exc.retryable and attempt < policy.max_attempts:
            self.held[agent] = time.monotonic() + policy.delay(attempt)
            self.stopped_agents[agent] = min(self.stopped_agents.get(agent, position), position)
            self._end(item, "queued", f"retrying: {exc}", attempt=attempt, began=began, error=str(exc),
                      event="retrying")
            return
        verdict = verdict_of(exc)
        self._end(item, "failed", str(exc) or type(exc).__name__, attempt=attempt, began=began, error=str(exc),
                  verdict=verdict)

    def _synced(self, inbox: InboxDelivery, entries: list[Written], why: str | None) -> None:
        """``inbox``'s folder was flushed (``why`` None) or not: each of its files is delivered, or uncertain."""
        for entry in entries:
            item, elapsed = entry.claimed, time.monotonic() - entry.clock
            assert entry.final is not None  # only named files reach here
            breaker = self.dispatcher.breakers.get(item.task.agent_id)
            if why is not None:
                breaker.on_error(entry.permit, why, elapsed)
                self._end(item, "uncertain", f"written to {entry.final}, but its folder could not be flushed: {why}",
                          attempt=entry.attempt, began=entry.began, error=why)
                continue
            breaker.on_success(entry.permit, elapsed)
            receipt = inbox.receipt(entry.final)
            self._end(item, "delivered", None, attempt=entry.attempt, began=entry.began, latency=elapsed,
                      verdict=receipt.verdict, evidence=receipt.evidence, detail=receipt.detail)

    # -- helpers ------------------------------------------------------------------------------
    def _inbox(self, item: Claimed) -> InboxDelivery:
        agent = item.task.agent_id
        inbox = self.agent_inbox.get(agent)  # its folder looked up once (the cache goes with the roster)
        if inbox is None:
            inbox = inbox_for(self.agents[agent], self.inboxes)
            if flush.anchor(self.anchors, inbox.path):  # a folder not there yet: looked up again next round
                self.agent_inbox[agent] = inbox
        self.inboxes_of[item.task.delivery_id] = inbox
        return inbox

    def _stamp(self, inbox: InboxDelivery) -> datetime:
        """Now, later than the last file named in ``inbox``: its files sort in the order written."""
        now = datetime.now(UTC)
        last = self.last_name.get(inbox)
        if last is not None and now <= last:
            now = last + _TICK
        self.last_name[inbox] = now
        return now

    def _end(self, item: Claimed, state: str, reason: str | None = None, *, attempt: int = 0, began: float = 0.0,
             error: str | None = None, verdict: str | None = None, evidence: str = "", latency: float | None = None,
             detail: str = "", event: str | None = None) -> None:
        self.done.append(Done(item.task.delivery_id, state, reason, verdict, evidence or None,
                              None if latency is None else latency * 1000.0, attempt, began,
                              time.time() if attempt else 0.0, error))
        self.events.append(DeliveryEvent(item.task.delivery_id, item.task.message_id, item.task.agent_id,
                                         event or state, attempt, detail if state == "delivered" else reason or "",
                                         latency, verdict, evidence))

    def _tell(self, item: Claimed, state: str) -> None:
        self.dispatcher.tell(DeliveryEvent(item.task.delivery_id, item.task.message_id, item.task.agent_id, state))



def told(dispatcher: Dispatcher, events: list[DeliveryEvent], changed: set[int]) -> None:
    """Count and tell the ``events`` of the deliveries whose outcome was just recorded (``changed``)."""
    monitor = dispatcher.monitor
    for event in events:
        if event.delivery_id not in changed:
            continue
        if monitor is not None and event.state == "delivered":
            monitor.record_delivery(event.agent_id, True, event.latency or 0.0, verified=event.verdict == "submitted")
        elif monitor is not None and event.state == "failed" and event.attempt:
            monitor.record_delivery(event.agent_id, False, event.latency or 0.0)
        dispatcher.tell(event)


def stopped_meanwhile(dispatcher: Dispatcher, done: list[Done], events: list[DeliveryEvent]
                      ) -> tuple[list[Done], list[DeliveryEvent]]:
    """After a stop-all, what a round would hand back to the queue is cancelled instead, as the stop
    cancelled the queue (a process that is ending hands it back: the next one sends it)."""
    if not dispatcher.stopped or dispatcher.interrupted:
        return done, events
    back = {d.delivery for d in done if d.state == "queued"}
    return ([replace(d, state="cancelled", reason=STOPPED) if d.state == "queued" else d for d in done],
            [structs.replace(e, state="cancelled", detail=STOPPED)
             if e.delivery_id in back and e.state in ("queued", "retrying") else e for e in events])


def record_unrecorded(dispatcher: Dispatcher, unrecorded: Unrecorded) -> None:
    """Record (and tell) the outcomes earlier rounds could not, oldest first (a stop-all since cancels
    their hand-backs); raises while the outbox still cannot be written (what is left stays for the
    next try). Their deliveries are ``sending`` meanwhile, so no round claims another of their
    agents' messages before them, and a stop cannot cancel them: they are recorded while stopped too."""
    while unrecorded:
        done, events = stopped_meanwhile(dispatcher, *unrecorded[0])
        told(dispatcher, events, batching.finish(dispatcher.store, done))
        unrecorded.pop(0)
