"""Stop-all and resume-all for one dispatcher: recorded for every process, heard from every process.

``Stopping`` ties a dispatcher to the outbox's stop and resume generations (a ``StopWatch``):

- ``stop_everywhere`` records a stop-all (the queue is cancelled, every watching process halts).
  The caller has halted this dispatcher already; if a resume heard in the meantime lifted that
  halt, it is halted again and the stop listeners hear of it, so this process always matches
  the latest record. ``resume_everywhere`` is the same for a resume-all.
- a stop heard from another process halts the dispatcher if it was running and tells the stop
  listeners how many deliveries that stop cancelled; a resume heard lifts a halt and tells the
  resume listeners. Listeners run on the watch's thread.
- ``final()``: the process is shutting down; a resume heard from now on lifts nothing.
- the heard listeners hear every stop and resume recorded by another process, whatever this
  dispatcher's state (a captain passes them on to its relays: a ``quarterdeck stop`` that could not
  reach the broker itself).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Protocol

from quarterdeck.core.dispatch.stopwatch import StopWatch
from quarterdeck.core.store.rows import StopMark

if TYPE_CHECKING:
    from quarterdeck.core.store.outbox import Store

log = logging.getLogger(__name__)

__all__ = ["Stopping"]


class Haltable(Protocol):
    """What ``Stopping`` needs of its dispatcher."""

    @property
    def stopped(self) -> bool: ...

    def halt(self) -> None: ...

    def resume(self) -> None: ...


class Stopping:
    """See the module docstring. ``dispatcher`` offers ``stopped``, ``halt()`` and ``resume()``."""

    def __init__(self, dispatcher: Haltable, store: Store, *, interval: float = 0.05) -> None:
        self._dispatcher = dispatcher
        self.watch = StopWatch(store, self._heard_stop, interval=interval, on_resume=self._heard_resume)
        self._stop_listeners: list[Callable[[int], None]] = []
        self._resume_listeners: list[Callable[[], None]] = []
        self._heard_listeners: list[Callable[[str], None]] = []
        self._final = False

    def add_stop_listener(self, listener: Callable[[int], None]) -> None:
        self._stop_listeners.append(listener)

    def add_resume_listener(self, listener: Callable[[], None]) -> None:
        self._resume_listeners.append(listener)

    def add_heard_listener(self, listener: Callable[[str], None]) -> None:
        """``listener("stop" | "resume")`` for each recorded by another process (on the watch's thread)."""
        self._heard_listeners.append(listener)

    def final(self) -> None:
        self._final = True

    # -- this process's requests ------------------------------------------------------------------
    def stop_everywhere(self) -> int:
        mark = self.watch.request()
        log.warning("stop all #%d: %d queued deliveries cancelled", mark.generation, mark.cancelled)
        if not self._dispatcher.stopped:  # lifted by a resume heard since the caller's halt
            self._dispatcher.halt()
            self.tell_stopped(mark.cancelled)
        return mark.cancelled

    def resume_everywhere(self) -> None:
        mark = self.watch.request_resume()
        log.warning("resume all #%d", mark.resumed)
        if self._dispatcher.stopped and not self._final:  # halted by a stop heard since
            self._dispatcher.resume()
            self._tell(list(self._resume_listeners))

    def tell_stopped(self, cancelled: int) -> None:
        self._tell([partial(listener, cancelled) for listener in self._stop_listeners])

    # -- heard from other processes ---------------------------------------------------------------
    def _heard_stop(self, mark: StopMark) -> None:
        self._tell([partial(listener, "stop") for listener in self._heard_listeners])
        if self._dispatcher.stopped:
            return
        self._dispatcher.halt()
        log.warning("stop all #%d from another process: halted", mark.generation)
        self.tell_stopped(mark.cancelled)

    def _heard_resume(self, mark: StopMark) -> None:
        if not self._final:
            self._tell([partial(listener, "resume") for listener in self._heard_listeners])
        if not self._dispatcher.stopped or self._final:
            return
        log.warning("resume all #%d from another process", mark.resumed)
        self._dispatcher.resume()
        self._tell(list(self._resume_listeners))

    def _tell(self, calls: list[Callable[[], None]]) -> None:
        for call in calls:
            try:
                call()
            except Exception:
                log.exception("a stop or resume listener failed")
