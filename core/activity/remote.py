"""Activity events from the relays' machines, into the captain's ``agent_events`` (issue 14).

Each relay publishes its agents' activity events (their hooks, the watchers of their panes and
windows) to every captain (``quarterdeck.core.relay.event_entry.EventEntry``, on
``qd:events:<captain>``: ``quarterdeck.core.relay.captains``). :class:`EventReader` says in
``qd:captains`` that this captain (its outbox's id) is here, reads its stream (in consumer group
``captain``, consumer: host and pid: every process on one outbox shares it) and ``qd:events`` (what
a relay sent while it knew no captain: group ``captain`` too, so the first captain to read one takes
it), and stores every event in the captain's outbox file, so
``quarterdeck attention``, ``agents list`` and the panel's activity column show remote agents as
they show local ones. An event is stored under its key (unique per event: one read twice, or
published twice after a relay crash, is stored once) and only then XACKed and XDELed. Its time comes
in the broker's clock and is stored in this machine's (the offset from Redis ``TIME``, once per
batch). Entries another captain process left (or one that died) are claimed once idle for
:data:`CLAIM_IDLE_MS`.

Faults: the broker unreachable, the reader waits and reads on when it answers (entries wait in
the stream); the outbox file failing (locked, full, read-only), the entries stay unacknowledged and
are stored when it works; either is one log line per episode.

:func:`start_event_reader` starts the reader thread and returns its closer; :func:`read_events_now`
stores what waits and returns, and :func:`catch_up` does it for a command that runs once (``agents
list``, ``attention``), saying in one line why it could not.
"""
from __future__ import annotations

import logging
import math
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from quarterdeck.core.activity.events import KINDS, ActivityEvent
from quarterdeck.core.activity.record import INSERT, row
from quarterdeck.core.broker_client import BrokerClient
from quarterdeck.core.broker_group import ensure_group
from quarterdeck.core.relay.captains import SAY_EVERY_S, say_here
from quarterdeck.core.relay.event_entry import EventEntry
from quarterdeck.core.relay.protocol import CAPTAIN_GROUP, KEYS, MalformedEntry
from quarterdeck.core.roster.remote import broker_now
from quarterdeck.core.store.control import outbox_id
from quarterdeck.core.store.db import immediate
from quarterdeck.core.store.schema import open_migrated
from quarterdeck.core.transports.broker import BrokerDown, BrokerLink

__all__ = ["EventReader", "catch_up", "read_events_now", "start_event_reader"]

log = logging.getLogger(__name__)

CLAIM_IDLE_MS = 2000
BATCH = 200
PAUSE = 0.5  # seconds before trying again after a fault


def event_of(entry: EventEntry, offset: float) -> ActivityEvent:
    """The stored form of ``entry``; ``offset`` is the broker's clock minus this machine's."""
    return ActivityEvent(agent_id=entry.agent, source=entry.source, kind=entry.kind, name=entry.name,
                         at=entry.at - offset, waits_for=entry.waits_for or None, detail=entry.detail or None,
                         text=entry.text or None, session=entry.session or None)


class EventReader:
    """See the module docstring. ``db`` is the captain's outbox file (``quarterdeck.sqlite3``)."""

    def __init__(self, link: BrokerLink, db: Path, *, block_ms: int = 500) -> None:
        self.link = link
        self.db = Path(db)
        self.streams: list[str] = []  # this captain's, then ``qd:events`` (set at the first poll)
        self.block_ms = block_ms
        self.consumer = f"{socket.gethostname()}-{os.getpid()}-events"
        self.stored = 0  # events new to the table
        self.read = 0  # entries read (repeats included)
        self._grouped = False
        self._captain: str | None = None  # this outbox's id, read at the first poll
        self._said = -math.inf  # when this captain last said it is here (``qd:captains``)
        self._last_claim = 0.0
        self._conn: sqlite3.Connection | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing: str | None = None

    # -- one pass -------------------------------------------------------------------------------
    def poll(self, block_ms: int | None) -> int:
        """Read once (claimed idle entries, then new ones, waiting up to ``block_ms``), store and
        acknowledge them; the number of entries handled."""
        client = self.link.client
        if not self._grouped:
            if self._captain is None:
                self._captain = outbox_id(self._connection())
            self.streams = [KEYS.events_of(self._captain), KEYS.events] if self._captain else [KEYS.events]
            for stream in self.streams:
                ensure_group(client, stream, CAPTAIN_GROUP)
            self._grouped = True
        if self._captain and time.monotonic() - self._said >= SAY_EVERY_S:
            say_here(client, self._captain, broker_now(client))
            self._said = time.monotonic()
        entries: list[tuple[str, Any, Any]] = []  # (stream, entry id, fields)
        if time.monotonic() - self._last_claim > CLAIM_IDLE_MS / 1000:
            self._last_claim = time.monotonic()
            for stream in self.streams:
                claimed: Any = client.xautoclaim(stream, CAPTAIN_GROUP, self.consumer, min_idle_time=CLAIM_IDLE_MS,
                                                 start_id="0-0", count=BATCH)
                entries.extend((stream, *e) for e in (claimed[1] if len(claimed) > 1 else []) if e and e[1])
        for stream in reversed(self.streams):  # one key per command (a cluster); waiting only on this captain's
            read: Any = client.xreadgroup(CAPTAIN_GROUP, self.consumer, {stream: ">"}, count=BATCH,
                                          block=None if entries or stream != self.streams[0] else block_ms)
            entries.extend((stream, *item) for _stream, items in read or [] for item in items)
        if entries:
            self._store(client, entries)
        return len(entries)

    def _store(self, client: BrokerClient, entries: list[tuple[str, Any, Any]]) -> None:
        rows, ids = [], []
        offset = broker_now(client) - time.time()
        for stream, entry_id, fields in entries:
            ids.append((stream, entry_id))
            if not fields:
                continue
            try:
                entry = EventEntry.from_fields(fields)
                if entry.kind not in KINDS:
                    raise MalformedEntry(f"an event entry's kind {entry.kind[:40]!r} is not one this Quarterdeck "
                                         "knows: run the same Quarterdeck version on every machine")
            except MalformedEntry as exc:
                log.warning("activity events: dropped entry %s: %s", entry_id, exc)
                continue
            rows.append(row(event_of(entry, offset), entry.key))
        if rows:
            conn = self._connection()
            before = conn.total_changes
            with immediate(conn):
                conn.executemany(INSERT, rows)
            self.stored += conn.total_changes - before
        self.read += len(ids)
        pipe = client.pipeline(transaction=False)
        for stream in {stream for stream, _ in ids}:
            done = [entry_id for s, entry_id in ids if s == stream]
            pipe.xack(stream, CAPTAIN_GROUP, *done)
            pipe.xdel(stream, *done)
        pipe.execute()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = open_migrated(self.db)
        return self._conn

    def close_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- the thread -----------------------------------------------------------------------------
    def start(self) -> Callable[[], None]:
        self._thread = threading.Thread(target=self._run, name="qd-events", daemon=True)
        self._thread.start()
        return self.close

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.block_ms / 1000 + 3)
            self._thread = None

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self.poll(self.block_ms)
                except Exception as exc:
                    self._fault(exc)
                    self._stop.wait(PAUSE)
                else:
                    self._works()
        finally:
            self.close_connection()

    def _fault(self, exc: BaseException) -> None:
        if isinstance(exc, BrokerDown):
            self._grouped = False  # a broker that restarted without its data has no group
            what, line = "broker", f"{self.link.unreachable(exc)}; remote activity waits in the stream"
        elif isinstance(exc, sqlite3.Error | OSError):
            self.close_connection()
            what, line = "storage", (f"{self.db}: {' '.join(str(exc).split())[:200]}; remote activity events "
                                     "stay unacknowledged and are stored when it works")
        elif isinstance(exc, redis.RedisError):
            what, line = "refused", f"broker {self.link.where}: {' '.join(str(exc).split())[:200]}"
        else:
            what, line = "bug", ""
        if self._failing == what:
            return
        self._failing = what
        if what == "bug":
            log.error("activity events: reading them failed; retrying (said once until it works)",
                      exc_info=(type(exc), exc, exc.__traceback__))
        else:
            log.warning("activity events: %s", line)

    def _works(self) -> None:
        if self._failing is not None:
            log.warning("activity events: reading them works again")
            self._failing = None


def start_event_reader(link: BrokerLink, db: Path) -> Callable[[], None]:
    """Start reading the relays' activity events into ``db`` (a thread); returns what stops it."""
    return EventReader(link, db).start()


def read_events_now(link: BrokerLink, db: Path, *, limit: int = 100_000) -> int:
    """Store the relays' activity events waiting now (a command that runs once: ``attention``);
    returns how many entries were handled. Raises as the broker or the file fails."""
    reader = EventReader(link, db)
    reader._last_claim = -CLAIM_IDLE_MS  # claim what a dead captain process left, too
    try:
        handled = 0
        while handled < limit:
            got = reader.poll(None)
            handled += got
            if got == 0:
                return handled
        return handled
    finally:
        reader.close_connection()


def catch_up(link: BrokerLink, db: Path) -> str | None:
    """Store the relays' activity events waiting now; None, or one line saying why not (the broker
    unreachable, the file failing): the command shows what was stored before."""
    try:
        read_events_now(link, db)
    except BrokerDown as exc:
        return f"{link.unreachable(exc)}: remote agents' activity as last read"
    except (sqlite3.Error, OSError, redis.RedisError) as exc:
        return f"remote agents' activity not read ({' '.join(str(exc).split())[:200]}): as last read"
    return None
