"""One line per fault episode for the relay's threads, not a traceback every retry.

A thread of the relay (intake, receipts, control, heartbeat, events) that fails is restarted
after a pause; what failed decides what is said, once when the episode starts and once when
the thread works again (:meth:`Faults.ok`):

- the broker unreachable: the relay's ``Outage`` (one line per outage, whichever thread sees it);
- local storage (the outbox or ``relay.sqlite`` locked, full, read-only, damaged; a file that cannot
  be written): what the thread leaves for later (an entry it could not take stays unacknowledged in
  the broker and is taken again, once, when the storage works);
- the broker refusing a command (an ACL without it): the broker's one line;
- anything else is a bug: its traceback once per episode, in the log.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from typing import Protocol

from redis import exceptions as rx

from quarterdeck.core.relay.link import describe, is_broker_failure
from quarterdeck.core.store import StoreError

log = logging.getLogger("quarterdeck.relay")

STORAGE, BROKER, REFUSED, BUG = "storage", "broker", "refused", "bug"

# what each thread leaves for later while its storage fails
LATER = {
    "intake": "the entries it could not take stay unacknowledged in the broker and are taken once it works",
    "receipts": "receipts wait in relay.sqlite and go once it works",
    "heartbeat": "final states are reported once it works",
    "events": "activity events are published once it works",
}


class Health(Protocol):
    def ok(self) -> None: ...


class Progress:
    """``ok()`` tells both: the broker answered (``outage``) and ``where`` works (``faults``)."""

    def __init__(self, faults: Faults, where: str, outage: Health) -> None:
        self.faults, self.where, self.outage = faults, where, outage

    def ok(self) -> None:
        self.outage.ok()
        self.faults.ok(self.where)


def kind_of(exc: BaseException) -> str:
    """Which kind of fault ``exc`` is (see the module docstring)."""
    if isinstance(exc, sqlite3.Error | StoreError) or (isinstance(exc, OSError) and exc.filename is not None):
        return STORAGE
    if is_broker_failure(exc):
        return BROKER
    if isinstance(exc, rx.RedisError):
        return REFUSED
    return BUG


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


class Faults:
    """Episodes of non-broker faults, per thread (``where``): :meth:`failed` logs the first failure of
    an episode, :meth:`ok` ends it with one line saying how long it lasted."""

    def __init__(self, relay: str, url: str) -> None:
        self.relay = relay
        self.url = url
        self._since: dict[str, float] = {}
        self._lock = threading.Lock()
        self.episodes = 0

    def progress(self, where: str, outage: Health) -> Progress:
        return Progress(self, where, outage)

    def failing(self, where: str) -> bool:
        with self._lock:
            return where in self._since

    def failed(self, where: str, exc: BaseException, kind: str) -> None:
        with self._lock:
            if where in self._since:
                return
            self._since[where] = time.monotonic()
            self.episodes += 1
        if kind == STORAGE:
            log.warning("relay %s: %s: local storage failed: %s; %s, retrying", self.relay, where, one_line(exc),
                        LATER.get(where, "retrying"))
        elif kind == REFUSED:
            log.warning("relay %s: %s: %s; retrying", self.relay, where, describe(exc, self.url))
        else:
            log.error("relay %s: %s failed; retrying (said once until it works)", self.relay, where,
                      exc_info=(type(exc), exc, exc.__traceback__))

    def ok(self, where: str) -> None:
        with self._lock:
            since = self._since.pop(where, None)
        if since is not None:
            log.warning("relay %s: %s works again after %.1f s", self.relay, where, time.monotonic() - since)
