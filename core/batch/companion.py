"""The inbox batch: a companion of the dispatcher that delivers to its inbox agents many at a time.

The dispatcher works one delivery at a time: a claim, a started mark, an attempt and an outcome
(four transactions, two fsynced) and a file with two fsyncs per message, about 5 ms of CPU each.
An inbox agent needs none of its waits (no screen, no read-back), so ``attach`` makes the dispatcher
skip the inbox agents and hands them to an ``InboxBatch``: one thread that, while the dispatcher
works (``quarterdeck.core.dispatch.companions``) and is not stopped, runs rounds
(``quarterdeck.core.batch.round``): up to ``batch`` deliveries claimed in one transaction, their
files written, made durable and named with a few flushes for the whole round, their outcomes
recorded in one transaction. Before its first round the thread readies each enabled inbox agent's
folder (made if missing, its file system's flush descriptor kept, the temp files of a process killed
mid-round removed: ``InboxDelivery.sweep_leftovers``), so a new relay's first round
is a round, not a new folder per agent (a mkdir and an fsync of its parent each). With a
``stagger`` (the dispatcher's spacing of two agents' starts; a relay's ``--stagger``) it takes one
delivery a round and spaces two agents' as the dispatcher does: batches need ``--stagger 0``. Rounds
go back to back while more is queued (what is queued during one goes in the next, and under load
rounds grow); else the thread waits for ``notify`` (see ``_run``). ``around_round`` wraps each round (a relay
records a round's receipts together). A stop-all cancels what is queued; the round in flight
finishes. When the dispatcher stops working (the worker ends) the thread finishes its round and ends.
"""
from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from quarterdeck.core import flush
from quarterdeck.core.batch.round import Round, Unrecorded, inbox_for, record_unrecorded
from quarterdeck.core.delivery.errors import DeliveryError
from quarterdeck.core.resilience.episode import Episode
from quarterdeck.core.store import batching
from quarterdeck.core.store.rows import StoreError

if TYPE_CHECKING:
    from datetime import datetime

    from quarterdeck.core.dispatch.dispatcher import Dispatcher
    from quarterdeck.core.models import Agent
    from quarterdeck.core.roster.roster import Roster
    from quarterdeck.core.transports.inbox import InboxDelivery

__all__ = ["InboxBatch", "attach"]

log = logging.getLogger(__name__)

QUIET_POLL = 0.25  # as a DeliveryWorker's idle wait: another process's sends are seen within it


def attach(dispatcher: Dispatcher, *, batch: int = 200) -> InboxBatch:
    """Deliver ``dispatcher``'s inbox agents in batches from now on: it skips them, the companion
    takes them. Call before the dispatcher works."""
    companion = InboxBatch(dispatcher, batch=batch)
    dispatcher._skip_transports = dispatcher._skip_transports | {"inbox"}
    dispatcher.set_roster(dispatcher.roster)
    dispatcher.companions.add(companion)
    return companion


class InboxBatch:
    """See the module docstring. ``delivered`` counts the deliveries it claimed, for figures."""

    def __init__(self, dispatcher: Dispatcher, *, batch: int = 200, poll: float = QUIET_POLL) -> None:
        self.dispatcher = dispatcher
        self.batch = batch
        self.poll = poll  # the longest idle wait: how soon another process's queued deliveries are seen
        self.around_round: Callable[[], AbstractContextManager[object]] = nullcontext  # e.g. receipts batched
        self.claimed = 0
        self.rounds = 0
        self._working = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: tuple[threading.Thread, threading.Event] | None = None  # and what ends it
        self._inboxes: dict[Path, InboxDelivery] = {}
        self._held: dict[str, float] = {}
        self._last_name: dict[InboxDelivery, datetime] = {}
        self._roster: tuple[Roster | None, dict[str, Agent]] = (None, {})
        self._agent_inbox: dict[str, InboxDelivery] = {}  # each agent's inbox, once its folder is anchored
        self._last: tuple[str | None, float] = (None, 0.0)  # the last agent claimed, and when
        self._fault = Episode(log, "inbox deliveries go again")  # the outbox failing
        self._unrecorded: Unrecorded = []  # a round's outcomes whose commit failed (``round.record_unrecorded``)

    def __repr__(self) -> str:
        return f"InboxBatch({self.claimed} claimed in {self.rounds} rounds)"

    # -- a companion of the dispatcher ------------------------------------------------------------
    def working(self, on: bool) -> None:
        ending: tuple[threading.Thread, threading.Event] | None = None
        with self._lock:
            self._working += 1 if on else -1
            if on and self._thread is None:
                done = threading.Event()
                thread = threading.Thread(target=self._run, args=(done,), name="qd-inbox-batch", daemon=True)
                self._thread = (thread, done)
                thread.start()
            elif not on and self._working <= 0 and self._thread is not None:
                ending, self._thread = self._thread, None
                ending[1].set()
        self._wake.set()
        if ending is not None and ending[0] is not threading.current_thread():
            ending[0].join()  # its round in flight finishes first

    def notify(self) -> None:
        self._wake.set()

    # -- the loop ---------------------------------------------------------------------------------
    def _run(self, done: threading.Event) -> None:
        """Rounds back to back while more is queued: a round is followed at once when its claim says more
        may be claimable (``batching.Claims.more``) or a ``notify`` came during it (what was queued
        meanwhile goes in the next: under load rounds grow, so their fixed cost is shared, with no wait
        added); else, and idle, it waits for ``notify``, a held agent's backoff to end, or ``poll`` (a
        claim that would find nothing is not made)."""
        anchors: dict[int, int] = {}  # this thread's descriptor per file system written to (``flush.anchor``)
        self._agent_inbox = {}  # cached with this thread's anchors only
        try:
            self._ready(anchors)
            self._loop(done, anchors)
            if self._unrecorded:  # a last try on the way out; else recovery makes them uncertain
                with contextlib.suppress(sqlite3.Error, StoreError), self.around_round():
                    record_unrecorded(self.dispatcher, self._unrecorded)
        finally:
            for fd in anchors.values():
                with contextlib.suppress(OSError):
                    if fd >= 0:  # -1: a file system without one
                        os.close(fd)

    def _ready(self, anchors: dict[int, int]) -> None:
        """Each enabled inbox agent's folder made if missing and its file system's descriptor kept (see
        the module docstring). A folder that cannot be made is left as it is: its deliveries say why."""
        try:  # each round's claim is flushed with its files
            flush.anchor(anchors, self.dispatcher.store.path.parent)
        except Exception:  # a bug: the rounds go on (the claim is then fsynced on its own)
            log.exception("the outbox's file system could not be made ready")
        for agent in self._agents().values():
            if not agent.enabled:
                continue
            try:
                inbox = inbox_for(agent, self._inboxes)
                inbox.ensure_folder()
                if swept := inbox.sweep_leftovers():
                    log.info("removed %d unfinished file(s) a stopped process left in %s", swept, inbox.path)
                flush.anchor(anchors, inbox.path)
            except DeliveryError:
                pass
            except Exception:  # a bug: the rounds go on (this agent's say what is wrong)
                log.exception("the inbox of %s could not be made ready", agent.id)

    def _loop(self, done: threading.Event, anchors: dict[int, int]) -> None:
        while not done.is_set():
            more = False
            self._wake.clear()  # set again by a notify during the round: more was queued meanwhile
            if not self.dispatcher.stopped or self._unrecorded:  # kept outcomes are recorded while stopped too
                try:
                    more = self._round(done, anchors)
                    self._fault.ok()
                except (sqlite3.Error, StoreError) as exc:  # the outbox cannot be written: one line an episode
                    self._fault.failed("inbox deliveries wait: the outbox %s: %s; retrying",
                                       self.dispatcher.store.path, exc)
                    self._wake.wait(1.0)
                except Exception:
                    log.exception("the inbox batch failed a round; going on")
                    self._wake.wait(0.5)
            if not more:  # at once if a notify came during the round
                self._wake.wait(self._idle_wait())

    def _idle_wait(self) -> float:
        now = time.monotonic()
        held = [until - now for until in self._held.values() if until > now]
        return min([self.poll, *held])

    def _round(self, done: threading.Event, anchors: dict[int, int]) -> bool:
        """One round; whether more may be claimable at once (its claim filled its limit or passed some by)."""
        if self._unrecorded:  # outcomes a failed commit left: recorded before anything else is claimed
            with self.around_round():
                record_unrecorded(self.dispatcher, self._unrecorded)
        agents = self._agents()
        if not agents or self.dispatcher.stopped:
            return False
        batch = Round(self.dispatcher, agents, self._inboxes, self._held, self._last_name, anchors=anchors,
                      agent_inbox=self._agent_inbox, unrecorded=self._unrecorded)
        ready, limit = batch.open_agents(), self.batch
        stagger = self.dispatcher.stagger
        if stagger > 0:  # the dispatcher's spacing of two agents' starts: one at a time, as it delivers
            limit = 1
            agent = batching.peek(self.dispatcher.store, ready, own_only=self.dispatcher.own_only)
            if agent is None:
                return False
            if self._last[0] not in (None, agent) and not self._spaced(self._last[1] + stagger, done):
                return False
        with self.around_round():
            claimed = batch.run(limit, ready)
        if claimed:
            self._last = (claimed[-1], time.monotonic())
            self.claimed += len(claimed)
            self.rounds += 1
        return batch.more

    def _spaced(self, until: float, done: threading.Event) -> bool:
        """Wait until ``until`` (time.monotonic()); False when a stop came meanwhile."""
        while (left := until - time.monotonic()) > 0:
            if done.wait(min(left, 0.005)) or self.dispatcher.stopped:
                return False
        return not self.dispatcher.stopped

    def _agents(self) -> dict[str, Agent]:
        """The inbox agents of the dispatcher's roster (disabled ones too: theirs fail, as the dispatcher's)."""
        roster = self.dispatcher.roster
        if self._roster[0] is not roster:
            self._roster = (roster, {a.id: a for a in roster.agents if a.transport.kind == "inbox"})
            self._agent_inbox = {}  # an agent's folder may have changed
        return self._roster[1]
