"""Each agent's latest events, kept up to date by reading only the rows added since the last look.

The feed looks every 200 ms. Rather than read every agent's latest events each time
(:func:`quarterdeck.core.activity.journal.latest_events`, tens of milliseconds with a connection
of its own), ``EventTail`` reads them once and afterwards only the rows whose ``seq`` is above
the last one seen (by the primary key). A
spool file left by a busy hook is taken in first (``journal.ingest_spool``); a table whose newest
``seq`` went backwards (rebuilt) is read afresh. :meth:`EventTail.events` gives the same events
in the same order per agent as ``load_events``, so the activities are journal's
(``tracks.reduce``). Qt-free; one thread uses a tail at a time (the panel's background runner).
"""
from __future__ import annotations

import bisect
import sqlite3
from pathlib import Path

from quarterdeck.core.activity.events import ActivityEvent
from quarterdeck.core.activity.journal import FIELDS, LATEST, PER_AGENT, event_of, ingest_spool
from quarterdeck.core.activity.record import SPOOL_NAME

_NEWER = f"SELECT {FIELDS} FROM agent_events WHERE seq > ? ORDER BY seq"

Keyed = tuple[float, int, ActivityEvent]  # (at, seq, event): the journal's order


def _event(row: sqlite3.Row | tuple) -> Keyed:
    event = event_of(row)
    return event.at, int(row[0]), event


class EventTail:
    """See the module docstring; ``update(conn)`` reads what is new, ``events()`` gives them."""

    def __init__(self, data_dir: Path, per_agent: int = PER_AGENT) -> None:
        self.data_dir, self.per_agent = data_dir, per_agent
        self.seq: int | None = None  # the newest seq read; None: nothing read yet
        self.by_agent: dict[str, list[Keyed]] = {}
        self.reads = 0  # whole reads (the first look, or after a rebuild), for tests

    def update(self, conn: sqlite3.Connection) -> bool:
        """Take in the spool and the rows added since the last look; True when anything came."""
        spooled = (self.data_dir / SPOOL_NAME).exists() and ingest_spool(conn, self.data_dir) > 0
        newest = conn.execute("SELECT max(seq) FROM agent_events").fetchone()[0] or 0
        if self.seq is None or newest < self.seq:
            self._read_all(conn)
            return True
        if newest == self.seq:
            return spooled
        for keyed in map(_event, conn.execute(_NEWER, (self.seq,)).fetchall()):
            rows = self.by_agent.setdefault(keyed[2].agent_id, [])
            bisect.insort(rows, keyed, key=lambda k: (k[0], k[1]))
            del rows[:-self.per_agent]
            self.seq = max(self.seq, keyed[1])
        return True

    def _read_all(self, conn: sqlite3.Connection) -> None:
        """Each agent's latest events and the newest seq, from one snapshot of the table."""
        self.reads += 1
        conn.execute("BEGIN")
        try:
            newest = conn.execute("SELECT max(seq) FROM agent_events").fetchone()[0]
            agents = [r[0] for r in conn.execute("SELECT DISTINCT agent_id FROM agent_events").fetchall()]
            self.by_agent = {agent: sorted(map(_event, conn.execute(LATEST, (agent, self.per_agent)).fetchall()),
                                           key=lambda k: (k[0], k[1]))
                             for agent in agents}
        finally:
            conn.execute("COMMIT")
        self.seq = newest or 0

    def events(self) -> list[ActivityEvent]:
        """Every agent's latest events, each agent's oldest first (as ``journal.load_events``)."""
        return [keyed[2] for rows in self.by_agent.values() for keyed in rows]
