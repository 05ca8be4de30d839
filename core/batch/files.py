"""The files of an inbox round (``quarterdeck.core.batch.round``): their contents made durable with the
round's claim, each named in claim order, their folders flushed together.

``FilePhase`` is the part of ``Round`` that handles the staged files; ``Round`` provides the outcome
bookkeeping it calls (``_end``, ``_refused``, ``_synced``). An agent's run stops at its first file
that fails (``stopped_agents``: the claim position of that file): its later files go back to the
queue behind it, its earlier ones are delivered. A claim that could not be flushed (the outbox's
storage) is nobody's fault: every file goes back to the queue without an attempt counted, its agent
held for ``OUTBOX_PAUSE`` (a failed ``syncfs`` of a file system the outbox shares with the inboxes
counts as that too: it cannot tell whose write-back failed).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from quarterdeck.core import flush
from quarterdeck.core.delivery.errors import DeliveryError, RetryableError
from quarterdeck.core.store import batching
from quarterdeck.core.transports.inbox import InboxDelivery, Staged

if TYPE_CHECKING:
    from quarterdeck.core.dispatch.dispatcher import Dispatcher
    from quarterdeck.core.resilience.breaker import Permit
    from quarterdeck.core.store.batching import Claimed

log = logging.getLogger("quarterdeck.core.batch.round")

OUTBOX_PAUSE = 1.0  # seconds an agent waits after its round's claim could not be flushed


@dataclass
class Written:
    """A file of the round written under its temp name; ``final`` once named."""

    claimed: Claimed
    staged: Staged
    permit: Permit
    attempt: int
    began: float  # epoch seconds
    clock: float  # time.monotonic() when its write began
    position: int  # in the round's claim order
    final: Path | None = None


class FilePhase:
    """See the module docstring (a base of ``Round``)."""

    dispatcher: Dispatcher
    held: dict[str, float]
    stopped_agents: dict[str, int]
    inboxes_of: dict[int, InboxDelivery]
    anchors: dict[int, int]

    def _end(self, item: Claimed, state: str, reason: str | None = None) -> None: ...

    def _refused(self, item: Claimed, permit: Permit, exc: DeliveryError, attempt: int, began: float,
                 clock: float, position: int) -> None: ...

    def _synced(self, inbox: InboxDelivery, entries: list[Written], why: str | None) -> None: ...

    def held_back(self, agent: str, position: int) -> bool:
        """Whether an earlier file of ``agent`` in this round failed (this one goes back behind it)."""
        stop = self.stopped_agents.get(agent)
        return stop is not None and stop < position

    def folder(self, entry: Written) -> InboxDelivery:
        return self.inboxes_of[entry.claimed.task.delivery_id]

    def files_flushed(self, staged: list[Written]) -> list[Written]:
        """Make the round's claim and the staged files' contents durable together (one flush for the
        claim's log and the files on one file system); those that could not be: not named. Returns the
        rest, in claim order."""
        outbox = batching.files(self.dispatcher.store)
        errors = flush.durable([*(entry.staged.temp for entry in staged), *outbox], self.anchors,
                               together=len(outbox) + flush.SYNCFS_FROM)  # a lone file: fsyncs of its own
        claim_error = next((e for e in errors[len(staged):] if e is not None), None)
        if claim_error is not None:
            log.warning("inbox deliveries wait: the outbox %s could not be flushed (%s); trying again in %.0f s",
                        self.dispatcher.store.path, claim_error.strerror or claim_error, OUTBOX_PAUSE)
        kept = []
        for entry, error in zip(staged, errors[:len(staged)], strict=True):
            if error is None and claim_error is None:
                kept.append(entry)
                continue
            InboxDelivery.discard(entry.staged)
            if claim_error is not None:
                self._back(entry, f"waiting: the outbox could not be flushed: {claim_error.strerror or claim_error}")
                agent = entry.claimed.task.agent_id
                self.held[agent] = max(self.held.get(agent, 0.0), time.monotonic() + OUTBOX_PAUSE)
            else:
                assert error is not None
                self._not_named(entry, RetryableError(f"writing to inbox {self.folder(entry).path} failed: "
                                                      f"{error.strerror or error}"))
        return kept

    def named(self, flushed: list[Written]) -> list[Written]:
        """Give each flushed file its name, in claim order; returns those named."""
        done = []
        for entry in flushed:
            if self.held_back(entry.claimed.task.agent_id, entry.position):
                InboxDelivery.discard(entry.staged)
                self._not_named(entry, None)
                continue
            try:
                entry.final = self.folder(entry).name(entry.staged)
            except DeliveryError as exc:
                self._not_named(entry, exc)
                continue
            done.append(entry)
        return done

    def folders_flushed(self, named: list[Written]) -> None:
        """Flush the folders of the named files together: each file ``delivered``, or ``uncertain``
        when its folder's flush failed."""
        by_folder: dict[InboxDelivery, list[Written]] = {}
        for entry in named:
            by_folder.setdefault(self.folder(entry), []).append(entry)
        folders = list(by_folder)
        for inbox, error in zip(folders, flush.durable([f.path for f in folders], self.anchors), strict=True):
            self._synced(inbox, by_folder[inbox], None if error is None else error.strerror or str(error))

    def dropped(self, staged: list[Written]) -> None:
        """After a bug part way: no temp file left, every breaker permit handed back (``Round.run`` puts
        back in the queue what nothing was named of; a named one stays ``sending``: recovery makes it
        ``uncertain``)."""
        for entry in staged:
            if entry.final is None:
                InboxDelivery.discard(entry.staged)  # removing a temp name twice is harmless
            if not entry.permit.settled:
                self.dispatcher.breakers.get(entry.claimed.task.agent_id).on_ignored(entry.permit)

    def _not_named(self, entry: Written, exc: DeliveryError | None) -> None:
        """A staged file that got no name: refused with ``exc``, or (None, or an earlier file of its
        agent failed) back in the queue behind that one."""
        agent = entry.claimed.task.agent_id
        if exc is None or self.held_back(agent, entry.position):
            self._back(entry, f"behind an earlier message to {agent} that is tried again")
            return
        self._refused(entry.claimed, entry.permit, exc, entry.attempt, entry.began, entry.clock, entry.position)

    def _back(self, entry: Written, reason: str) -> None:
        """Back in the queue, no attempt counted, its breaker permit handed back."""
        self.dispatcher.breakers.get(entry.claimed.task.agent_id).on_ignored(entry.permit)
        self._end(entry.claimed, "queued", reason)
