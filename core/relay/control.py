"""Stop all and resume from the captain: ``qd:control`` applied to the local dispatcher.

The relay XREADs the stream (no group: every relay sees every entry) with BLOCK 100 ms from the
last id it saw. ``stop`` halts the local dispatcher at once (the delivery in flight ends at its
next wait, nothing more is claimed) and records a local stop-all (the local queue is cancelled;
other processes on this outbox halt too); ``resume`` lifts it and records a resume-all. On start,
before its intake reads (and its worker runs, when the broker answers then), the relay reads the
latest entry: if the captain's last word was ``stop``, it starts halted, its local queue cancelled.
"""
from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from quarterdeck.core.relay.link import fields_of
from quarterdeck.core.relay.protocol import ControlEntry
from quarterdeck.core.store.control import STOPPED

if TYPE_CHECKING:
    from quarterdeck.core.broker_client import BrokerClient
    from quarterdeck.core.dispatch.dispatcher import Dispatcher

log = logging.getLogger("quarterdeck.relay")

BLOCK_MS = 100


class Health(Protocol):
    def ok(self) -> None: ...


class Control:
    """Follows ``stream`` on ``client`` and applies it to ``dispatcher``."""

    def __init__(self, dispatcher: Dispatcher, client: BrokerClient, stream: str, outage: Health,
                 after: Callable[[], None] = lambda: None) -> None:
        self.dispatcher = dispatcher
        self.after = after  # called once an entry is applied (the relay reports what a stop cancelled)
        self.client = client
        self.stream = stream
        self.outage = outage
        self.last_id: str | None = None  # set once ``prime`` read the latest entry
        self._priming = threading.Lock()
        self.applied: list[tuple[ControlEntry, float]] = []  # (entry, monotonic time applied)

    def follow_until(self, stop: threading.Event) -> Callable[[], None]:
        def follow() -> None:
            self.prime()
            while not stop.is_set():
                reply: Any = self.client.xread({self.stream: self.last_id or "$"}, count=100, block=BLOCK_MS)
                self.outage.ok()
                for raw in reply[0][1] if reply else []:
                    entry_id, fields = fields_of(raw)
                    self.apply(fields)  # one that fails part way (its stop not recorded) is read again
                    self.last_id = entry_id
        return follow

    def prime(self) -> None:
        """Read the latest entry, once (the intake reads nothing before): if the captain's last word is
        a stop, it is applied as one that arrives live (halted, this outbox's queue cancelled)."""
        with self._priming:
            if self.last_id is not None:
                return
            latest: Any = self.client.xrevrange(self.stream, count=1)
            self.outage.ok()
            last_id, fields = fields_of(latest[0]) if latest else ("0-0", {})
            entry = None
            with contextlib.suppress(ValueError):
                entry = ControlEntry.from_fields(fields) if latest else None
            if entry is not None and entry.kind == "stop":
                self._start_stopped(entry, fields)
            self.last_id = last_id

    def _start_stopped(self, entry: ControlEntry, fields: dict[bytes, bytes]) -> None:
        """The captain's last word is a stop. Applied before this start (this outbox's own stop-all not
        resumed since): halted, and what recovery put back in the queue cancelled, with no new stop-all.
        Else applied as a live one. Again from the top if it fails part way (``last_id`` not set)."""
        log.warning("relay: the captain's last word was stop all (#%d): starting halted", entry.generation)
        mark = self.dispatcher.store.stop_mark()
        if mark.generation <= mark.resumed_after:
            self.apply(fields)
            return
        self.dispatcher.halt()
        if self.dispatcher.store.cancel_queued(reason=STOPPED):
            self.after()

    def apply(self, fields: dict[bytes, bytes]) -> None:
        try:
            entry = ControlEntry.from_fields(fields)
        except ValueError as exc:
            log.warning("relay: ignored a control entry: %s", exc)
            return
        if entry.kind == "stop":
            self.dispatcher.halt()  # at once: the rest (recording, cancelling) follows
            self.applied.append((entry, time.monotonic()))
            cancelled = self.dispatcher.stop_everywhere()
            log.warning("relay: stop all #%d from the captain: halted, %d queued cancelled", entry.generation,
                        cancelled)
        else:  # stopped here, or recorded stopped (a resume that failed part way is read again)
            mark = self.dispatcher.store.stop_mark()
            was_stopped = self.dispatcher.stopped or mark.generation > mark.resumed_after
            self.dispatcher.resume()
            self.applied.append((entry, time.monotonic()))
            if was_stopped:
                self.dispatcher.resume_everywhere()
            log.warning("relay: resume all #%d from the captain", entry.generation)
        self.after()
