"""The dispatcher: works the durable outbox one delivery at a time, with retry and breakers.

A plain-Python worker (the GUI hosts it in a QThread, the CLI runs it in-process). After the stagger
each delivery is claimed (``sending``), marked started as its first attempt begins (a crash before
that queues it again), delivered under ``run_with_resilience`` (one breaker permit per delivery;
others go out during its backoff: ``quarterdeck.core.dispatch.backoff``) and ends ``delivered``,
``failed``, ``uncertain`` (it may have arrived) or ``cancelled``. ``own_only`` (a command's send):
claim only this process's deliveries and orphans. Listeners get a ``DeliveryEvent`` per state a
delivery passes through, on the worker thread (or a ``companions`` one: the relay forwarder).

Stop-all sets one event: the current wait (backoff, stagger, screen lock, pane read-back) ends at
once, queued deliveries are cancelled, and the in-flight one finishes or is marked. It reaches
every process on the same outbox: ``stop_all`` records it in the store, and while a dispatcher
works (``run``, or ``watching()`` around other loops) its ``StopWatch`` halts it within about
``stop_poll`` seconds of a stop recorded anywhere else; stop listeners then hear how many queued
deliveries that stop cancelled. ``resume`` lifts this process's halt; ``resume_everywhere``
records a resume-all that lifts the halt of every watching process stopped that way. Deliveries
sent "when idle" wait for their agent to be free: ``quarterdeck.core.dispatch.idle_gate``.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from msgspec import Struct

from quarterdeck.core.config import CoordinationConfig
from quarterdeck.core.delivery.contract import Receipt, Transport
from quarterdeck.core.delivery.errors import Cancelled, HumanActivity, Paused
from quarterdeck.core.dispatch import outcomes
from quarterdeck.core.dispatch.backoff import Backoff
from quarterdeck.core.dispatch.companions import Companions
from quarterdeck.core.dispatch.desk import Desk, NoDesk
from quarterdeck.core.dispatch.idle_gate import ActivityLookup, IdleGate, Waiting
from quarterdeck.core.dispatch.request import request_for
from quarterdeck.core.dispatch.stopping import Stopping
from quarterdeck.core.dispatch.stopwatch import StopWatch
from quarterdeck.core.models import Agent, Message
from quarterdeck.core.resilience import BreakerConfig, BreakerRegistry
from quarterdeck.core.resilience.retry import RetryPolicy, run_with_resilience
from quarterdeck.core.store.rows import DeliveryTask, Verdicted

if TYPE_CHECKING:
    from quarterdeck.core.monitor import Monitor
    from quarterdeck.core.roster.roster import Roster
    from quarterdeck.core.store.outbox import Store

log = logging.getLogger(__name__)

TERMINAL = frozenset({"delivered", "failed", "cancelled", "uncertain", "expired"})


class DeliveryEvent(Struct, Verdicted, frozen=True):
    """One step of one delivery, as the roster, the composer and the CLI show it."""

    delivery_id: int
    message_id: str
    agent_id: str
    state: str  # (waiting | queued) sending | retrying | paused | delivered | failed | cancelled | uncertain | expired
    attempt: int = 0
    detail: str = ""
    latency: float | None = None
    verdict: str | None = None  # submitted | unverified (delivered); not_typed | typed_not_submitted (failed)
    evidence: str = ""


class Dispatcher:
    def __init__(self, store: Store, roster: Roster, *, config: CoordinationConfig | None = None,
                 transport_factory: Callable[[Agent], Transport],
                 breakers: BreakerRegistry | None = None, monitor: Monitor | None = None,
                 stagger: float = 0.05, breaker_wait: float = 30.0,
                 skip_transports: frozenset[str] = frozenset(), stop_poll: float = 0.05,
                 desk_return: Desk | None = None, activity: ActivityLookup | None = None) -> None:
        self.config = config or CoordinationConfig()
        self.store = store
        self.monitor = monitor
        self.stagger = stagger
        self.policy = RetryPolicy(max_retries=self.config.max_retries, base_delay=self.config.base_delay,
                                  multiplier=self.config.backoff_multiplier, jitter=self.config.base_delay)
        self.breakers = breakers or BreakerRegistry(BreakerConfig.from_threshold(
            self.config.circuit_breaker_threshold, wait_duration=breaker_wait))
        self._factory = transport_factory
        self._transports: dict[str, Transport] = {}
        self._raw_content: dict[str, str] = {}
        self._listeners: list[Callable[[DeliveryEvent], None]] = []
        self._stop = threading.Event()
        self._roster_lock = threading.RLock()  # set_roster and resume may come from two threads
        self.stopping = Stopping(self, store, interval=stop_poll)
        self.stop_watch = self.stopping.watch
        self.add_stop_listener = self.stopping.add_stop_listener  # listener(cancelled), watch thread
        self.add_resume_listener = self.stopping.add_resume_listener  # listener(), watch thread
        self.stop_everywhere = self.stopping.stop_everywhere  # record a stop-all; returns cancelled
        self.resume_everywhere = self.stopping.resume_everywhere  # record a resume-all
        self._wake = threading.Event()
        self._last_agent: str | None = None
        self._last_start = 0.0  # time.monotonic() when the last delivery began
        self._forced: set[int] = set()  # deliveries the captain sends over a draft
        self._skip_transports = skip_transports
        self.gui_paused: str | None = None  # why GUI delivery waits for the captain, if it does
        self.pauses = 0  # GUI pauses so far (set with ``gui_paused``, under the roster lock)
        self.desk_return: Desk = desk_return if desk_return is not None else NoDesk()
        self.own_only = False  # claim only what this process queued (and orphans): a command's send
        self.interrupted = False  # ending (SIGTERM, Ctrl+C): release what was claimed, not typed
        self._backoff = Backoff(self)
        self.companions = Companions()  # deliver beside this loop to agents it skips (the relay forwarder)
        self.idle_gate = IdleGate(store, self._emit, activity, agents=lambda: self.roster.agents)
        self.set_roster(roster)

    # -- wiring ---------------------------------------------------------------------------------
    def add_listener(self, listener: Callable[[DeliveryEvent], None]) -> None:
        self._listeners.append(listener)

    @contextmanager
    def watching(self) -> Iterator[StopWatch]:
        """``with dispatcher.watching():`` a stop-all recorded anywhere halts it; companions deliver meanwhile."""
        with self.stop_watch, self.companions.working():
            yield self.stop_watch

    def set_roster(self, roster: Roster) -> None:
        """Deliver to ``roster`` from the next claim on (the panel edits agents while running)."""
        # agents this process cannot reach (gui without a display, or gui while paused for a
        # person at the mouse): left queued for later or for a process that can
        with self._roster_lock:
            skip = self._skip_transports | ({"gui"} if self.gui_paused else set())
            self._skipped = frozenset(a.id for a in roster.agents if a.transport.kind in skip)
            self.roster = roster
        self._wake.set()

    def remember_raw(self, message: Message) -> None:
        """Keep the unredacted text of a message stored redacted, for this process's deliveries."""
        self._raw_content[message.id] = message.content
        self._wake.set()

    def notify(self) -> None:
        """Something was queued: end an idle wait."""
        self._wake.set()
        self.companions.notify()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def halt(self) -> None:
        """Interrupt every wait and claim nothing more; no I/O (safe from a UI thread)."""
        self._stop.set()
        self._wake.set()

    def interrupt(self) -> None:
        """The process is ending (a signal): stop waiting, claim nothing more, and hand a claimed delivery
        that nothing was typed for back to the queue (unlike stop-all, nothing is cancelled). Signal-safe."""
        self.interrupted = True
        self.halt()

    def stop_all(self) -> int:
        """Stop now, everywhere (the fail-safe's path): halt, record a stop-all (the queue is cancelled,
        every other process halts) and tell the stop listeners. Returns how many were cancelled."""
        self.halt()
        cancelled = self.stop_everywhere()
        self.stopping.tell_stopped(cancelled)
        return cancelled

    def resume(self, *, pauses: int | None = None) -> None:
        """Deliver again after stop-all or a GUI pause (the pointer is accepted where it is); ``pauses``: a GUI
        pause that came since the count was ``pauses`` (a send began) stays."""
        with self._roster_lock:
            self._stop.clear()
            if self.gui_paused and pauses in (None, self.pauses):
                self.gui_paused = None
                self.desk_return.resumed()
                self.set_roster(self.roster)
        self._wake.set()

    # -- the loop -------------------------------------------------------------------------------
    def run(self, *, until: Callable[[], bool] | None = None, idle_wait: float = 0.25) -> None:
        """Deliver until stopped (or until ``until()`` is true when the outbox has nothing for us)."""
        with self.watching():
            while not self._stop.is_set():
                if until is not None and until():
                    return
                if self.process_next() is not None:
                    continue
                self._wake.wait(idle_wait)
                self._wake.clear()

    def process_next(self, *, also_skip: frozenset[str] = frozenset()) -> DeliveryEvent | None:
        """Claim and deliver one queued delivery; None when there is nothing to do."""
        if self._stop.is_set():
            return None
        self.idle_gate.tick()  # waiting deliveries whose agent is idle join the queue
        skip = self._skipped | also_skip
        agent_id = self.store.peek_next(exclude_agents=skip, own_only=self.own_only)
        if agent_id is None:
            if not also_skip:
                self.desk_return.idle()  # a batch is over: focus and pointer go back to the captain
            return None
        if self._last_agent not in (None, agent_id) and self.stagger > 0:
            # the stagger spaces the starts of two agents' deliveries, before anything is claimed (a
            # crash now leaves nothing 'sending'); a delivery that took longer has spaced them already
            if self._stop.wait(max(0.0, self._last_start + self.stagger - time.monotonic())):
                return None
        task = self.store.claim_next(exclude_agents=skip, own_only=self.own_only, started=False)
        if task is None:
            return None
        self.desk_return.claimed(task.transport)
        self._last_agent = task.agent_id
        self._last_start = time.monotonic()
        self._emit(task, "sending")
        typing = [False]
        try:
            return self._deliver(task, typing)
        except Exception as exc:  # a bug or an unexpected transport error: never leave it 'sending'
            log.exception("delivery %s to %s crashed", task.delivery_id, task.agent_id)
            why = f"internal error: {type(exc).__name__}: {exc}"
            if typing[0]:  # typing had begun: the text may be there
                return outcomes.uncertain(self, task, why, 0)
            return outcomes.failed(self, task, why, 0)

    def _deliver(self, task: DeliveryTask, typing: list[bool]) -> DeliveryEvent:
        agent = self.roster.get(task.agent_id) if task.agent_id in self.roster else None
        if agent is None or not agent.enabled:
            return outcomes.failed(self, task, f"{task.agent_id} is not an enabled agent on the roster", 0)
        content = self.content_of(task)
        if content is None:
            return outcomes.failed(self, task, outcomes.REDACTED, 0)
        request = request_for(task, agent.id, content, force=task.delivery_id in self._forced,
                              typing=lambda: self._typing(task, typing))
        self._forced.discard(task.delivery_id)
        transport = self._transport(agent)
        attempts: list[datetime] = []

        def attempt() -> Receipt:
            attempts.append(datetime.now(UTC))
            if not getattr(transport, "marks_typing", False):
                self._typing(task, typing)
            try:
                return transport.deliver(request, self._stop)
            except HumanActivity as human:
                if human.pasted:
                    raise
                raise Paused(str(human)) from human

        try:
            outcome = run_with_resilience(attempt, breaker=self.breakers.get(agent.id), policy=self.policy,
                                          stop_event=self._stop, on_attempt=outcomes.attempted(self, task, attempts),
                                          sleep=self._backoff.waiter(agent.id))
        except Paused as paused:
            return outcomes.paused(self, task, paused)
        except Cancelled as stopped:
            return outcomes.stopped(self, task, stopped, len(attempts), interrupted=self.interrupted)
        return outcomes.record(self, task, outcome)

    def force(self, paused: DeliveryEvent) -> None:
        """Deliver the delivery a draft paused on anyway: its agent's input is cleared first."""
        self._forced.add(paused.delivery_id)
        self.resume()

    def skip(self, paused: DeliveryEvent, reason: str) -> DeliveryEvent:
        """Cancel the queued delivery a pause put back (``paused``: its event), then resume."""
        self.store.mark_cancelled(paused.delivery_id, reason)
        self.resume()
        return self._emit(paused, "cancelled", detail=reason)

    def _typing(self, task: DeliveryTask, typing: list[bool]) -> None:
        """Typing begins: from now on a crash leaves the delivery 'uncertain', not queued."""
        if not typing[0]:
            self.idle_gate.before_typing(task)  # a when-idle delivery: NotIdle unless its agent still is
            self.store.mark_started(task.delivery_id)
            typing[0] = True
            self._last_start = time.monotonic()

    def content_of(self, task: DeliveryTask) -> str | None:
        """The text to deliver: the stored one, or this process's unredacted one (None: stored redacted only)."""
        if task.redacted and task.message_id not in self._raw_content:
            return None
        return self._raw_content.get(task.message_id, task.content)

    def _transport(self, agent: Agent) -> Transport:
        key = f"{agent.id}:{agent.transport!r}"
        if key not in self._transports:
            self._transports[key] = self._factory(agent)
        return self._transports[key]

    def _emit(self, task: DeliveryTask | DeliveryEvent | Waiting, state: str, *, attempt: int = 0, detail: str = "",
              latency: float | None = None, verdict: str | None = None, evidence: str = "") -> DeliveryEvent:
        return self.tell(DeliveryEvent(task.delivery_id, task.message_id, task.agent_id, state, attempt, detail,
                                       latency, verdict, evidence))

    def tell(self, event: DeliveryEvent) -> DeliveryEvent:
        """Hand ``event`` to every listener (a companion's deliveries, on its thread); returns it."""
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("delivery listener failed on %s", event)
        return event
