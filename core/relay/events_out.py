"""A relay's agents' activity events, published to every captain on its ``qd:events:<captain>``
(``captains``: those seen within a week; ``qd:events`` while none is).

The hooks and watchers on the relay's machine record into the relay's own ``agent_events`` (its
outbox file, or the spool file next to it when the file is busy: taken in here first). The
publisher reads the rows after the last one it published (by ``seq``), XADDs one ``EventEntry``
per event of the relay's agents (``MAXLEN ~``), and only then writes the last ``seq`` to
``relay-events.cursor`` in the relay's data dir (written whole, fsynced). A broker outage holds
the events back and they go, in order, once it answers; a crash between the XADD and the cursor
sends a few again, which the captain stores once (by the event's key). Event times go out in the
broker's clock (this machine's offset from Redis ``TIME``, measured once per batch).
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from quarterdeck.core.activity.journal import ingest_spool
from quarterdeck.core.relay.captains import Captains
from quarterdeck.core.relay.event_entry import EventEntry
from quarterdeck.core.relay.protocol import STREAM_MAXLEN, Keys
from quarterdeck.core.roster.remote import broker_now
from quarterdeck.core.store.schema import open_migrated

if TYPE_CHECKING:
    from quarterdeck.core.broker_client import BrokerClient

CURSOR_FILE = "relay-events.cursor"
BATCH = 200
POLL = 0.5  # seconds between looks at the table when nothing is waiting

_ROWS = ("SELECT seq, key, agent_id, source, kind, name, at, waits_for, detail, text, session FROM agent_events "
         "WHERE seq > ? ORDER BY seq LIMIT ?")


class Health(Protocol):
    def ok(self) -> None: ...


def read_cursor(data_dir: Path) -> int:
    """The ``seq`` of the last event published (0: none yet)."""
    try:
        return int((data_dir / CURSOR_FILE).read_text(encoding="ascii").strip() or 0)
    except FileNotFoundError:
        return 0
    except ValueError:
        return 0  # damaged: publishing again is harmless (the captain stores each event once)


def write_cursor(data_dir: Path, seq: int) -> None:
    """Replace the cursor file whole (a crash leaves the old one or the new one), fsynced."""
    path = data_dir / CURSOR_FILE
    temp = path.with_name(f"{CURSOR_FILE}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, f"{seq}\n".encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, path)


class EventPublisher:
    """See the module docstring; ``health.ok()`` after each batch the broker took."""

    def __init__(self, relay: str, db: Path, client: BrokerClient, keys: Keys, agents: Collection[str],
                 health: Health) -> None:
        self.relay = relay
        self.db = db
        self.client = client
        self.captains = Captains(client, keys)
        self.agents = frozenset(agents)
        self.health = health
        self.cursor = read_cursor(db.parent)
        self.published = 0
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = open_migrated(self.db)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def publish(self) -> int:
        """Publish what waits, up to one batch; the number of rows passed (published or not ours)."""
        conn = self._connection()
        ingest_spool(conn, self.db.parent)
        rows = conn.execute(_ROWS, (self.cursor, BATCH)).fetchall()
        if not rows:
            return 0
        ours = [r for r in rows if r[2] in self.agents]
        now = broker_now(self.client) if ours else time.time()
        offset = now - time.time()
        entries = [EventEntry(self.relay, str(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[5]), float(r[6]) + offset,
                              *(str(v) if v is not None else "" for v in tuple(r)[7:]))
                   for r in ours]
        if entries:
            streams = self.captains.streams(now)
            pipe = self.client.pipeline(transaction=False)
            for entry in entries:
                fields = entry.to_fields()
                for stream in streams:
                    pipe.xadd(stream, fields, maxlen=STREAM_MAXLEN, approximate=True)  # type: ignore[arg-type]
            pipe.execute()
            self.health.ok()
        last = int(rows[-1][0])
        write_cursor(self.db.parent, last)
        self.cursor = last
        self.published += len(entries)
        return len(rows)

    def loop_until(self, stop: threading.Event, done: Callable[[], None]) -> Callable[[], None]:
        """The thread's body: publish until ``stop``; ``done`` after each pass that worked."""
        def run() -> None:
            try:
                while not stop.is_set():
                    passed = self.publish()
                    done()
                    if passed < BATCH:
                        stop.wait(POLL)
            finally:
                self.close()
        return run
