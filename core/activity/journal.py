"""Reading the recorded hook events, after taking in what the hook had to spool.

:func:`ingest_spool` moves ``agent-events.spool.jsonl`` into ``agent_events``: it renames the file
first (new events go to a fresh one), takes the writers' lock on it, inserts every line in one
transaction and deletes it. A renamed file left by a crash is taken in on the next call; keys make
that harmless. A line that is not an event is logged and dropped.

:func:`load_events` is what the commands read: the latest events of every agent, oldest first
(by the time the tool gave, then by arrival). When the database file does not exist yet, the
spool alone is read, and left in place.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from quarterdeck.core.activity.events import ActivityEvent
from quarterdeck.core.activity.record import DB_FILE_NAME, INSERT, SPOOL_NAME, new_key, row
from quarterdeck.core.activity.state import Activity
from quarterdeck.core.activity.tracks import reduce
from quarterdeck.core.store.db import immediate
from quarterdeck.core.store.schema import open_migrated

try:
    import fcntl
except ImportError:  # Windows (see quarterdeck.core.activity.record)
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

PER_AGENT = 50  # events read per agent: far more than the state ever looks back
KEEP_DAYS = 14.0  # events older than this are pruned, but for each agent's latest PER_AGENT
_INGESTING = ".ingesting"

FIELDS = "seq, agent_id, source, kind, name, at, waits_for, detail, text, session"  # the order event_of reads
_AGENTS = "SELECT DISTINCT agent_id FROM agent_events"
# one agent's latest events, newest first, straight off the (agent_id, at) index
LATEST = f"SELECT {FIELDS} FROM agent_events WHERE agent_id = ? ORDER BY at DESC, seq DESC LIMIT ?"

_SINCE = f"""
    SELECT {FIELDS} FROM (
        SELECT *, row_number() OVER (PARTITION BY agent_id ORDER BY at DESC, seq DESC) AS newest
        FROM agent_events WHERE at < ?)
    WHERE newest <= ?
    UNION ALL
    SELECT {FIELDS} FROM agent_events WHERE at >= ?
    ORDER BY at, seq
"""

_PRUNE = """
    DELETE FROM agent_events WHERE seq IN (
        SELECT seq FROM (
            SELECT seq, at, row_number() OVER (PARTITION BY agent_id ORDER BY at DESC, seq DESC) AS newest
            FROM agent_events)
        WHERE at < ? AND newest > ?)
"""


def _lines(path: Path) -> Iterator[tuple[str | None, ActivityEvent]]:
    """The (key, event) of each good line of a spool file; bad lines are logged and skipped."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                data = json.loads(raw)
                if not isinstance(data, dict):
                    raise ValueError("not a JSON object")
                key = data.pop("key", None)
                yield key if isinstance(key, str) and key else None, ActivityEvent.from_mapping(data)
            except (ValueError, UnicodeDecodeError) as exc:
                log.warning("%s line %d is not an activity event, dropped: %s", path, number, exc)


def _claim(data_dir: Path) -> list[Path]:
    """The spool files to take in: leftovers of an interrupted ingest, then the live spool renamed."""
    found = sorted(data_dir.glob(f"{SPOOL_NAME}.*{_INGESTING}"))
    live = data_dir / SPOOL_NAME
    if live.is_file():
        claimed = data_dir / f"{SPOOL_NAME}.{time.time_ns()}.{os.getpid()}{_INGESTING}"
        try:
            os.replace(live, claimed)
            found.append(claimed)
        except FileNotFoundError:  # another reader took it first
            pass
    return found


def ingest_spool(conn: sqlite3.Connection, data_dir: Path) -> int:
    """Move the spooled events into ``conn``'s ``agent_events``; the number of lines taken in."""
    count = 0
    for path in _claim(data_dir):
        with path.open("rb") as lock:
            if fcntl is not None:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # a writer that opened it before the rename is done
            rows = [row(event, key or new_key()) for key, event in _lines(path)]
            with immediate(conn):
                conn.executemany(INSERT, rows)
            path.unlink()
        count += len(rows)
    if count:
        log.info("took %d spooled agent event(s) into %s", count, data_dir / DB_FILE_NAME)
    return count


def load_events(data_dir: Path, per_agent: int = PER_AGENT) -> list[ActivityEvent]:
    """The latest ``per_agent`` events of every agent, oldest first (see the module docstring)."""
    db = data_dir / DB_FILE_NAME
    if not db.is_file():
        spooled = [event for path in sorted(data_dir.glob(f"{SPOOL_NAME}*")) for _, event in _lines(path)]
        return sorted(spooled, key=lambda e: e.at)
    conn = open_migrated(db)
    try:
        ingest_spool(conn, data_dir)
        return latest_events(conn, per_agent=per_agent)
    finally:
        conn.close()


def event_of(row: Sequence[Any]) -> ActivityEvent:
    """An event from a row read with :data:`FIELDS` (a ``sqlite3.Row`` or a plain tuple)."""
    _seq, agent_id, source, kind, name, at, waits_for, detail, text, session = tuple(row)
    return ActivityEvent(agent_id=agent_id, source=source, kind=kind, name=name, at=at, waits_for=waits_for,
                         detail=detail, text=text, session=session)


def latest_events(conn: sqlite3.Connection, agent_ids: Iterable[str] | None = None,
                  per_agent: int = PER_AGENT) -> list[ActivityEvent]:
    """The latest ``per_agent`` events of each of ``agent_ids`` (None: every agent that has any),
    oldest first, read one agent at a time off the ``(agent_id, at)`` index."""
    agents = [r[0] for r in conn.execute(_AGENTS)] if agent_ids is None else list(dict.fromkeys(agent_ids))
    rows = [tuple(r) for agent in agents for r in conn.execute(LATEST, (agent, per_agent))]
    rows.sort(key=lambda r: (r[5], r[0]))  # (at, seq)
    return [event_of(r) for r in rows]


def load_since(data_dir: Path, since: float, per_agent: int = PER_AGENT) -> list[ActivityEvent]:
    """Every event from ``since`` on, after each agent's latest ``per_agent`` before it (the state
    in force at ``since``), oldest first: what a time-in-state window replays."""
    db = data_dir / DB_FILE_NAME
    if not db.is_file():
        return load_events(data_dir, per_agent)
    conn = open_migrated(db)
    try:
        ingest_spool(conn, data_dir)
        rows = conn.execute(_SINCE, (since, per_agent, since)).fetchall()
    finally:
        conn.close()
    return [event_of(r) for r in rows]


def prune(conn: sqlite3.Connection, now: float, keep_days: float = KEEP_DAYS, per_agent: int = PER_AGENT) -> int:
    """Delete events older than ``keep_days``, keeping each agent's latest ``per_agent`` whatever
    their age (its state still rests on them); the number deleted."""
    with immediate(conn):
        cursor = conn.execute(_PRUNE, (now - keep_days * 86400, per_agent))
    return cursor.rowcount


def activities(data_dir: Path, agent_ids: list[str] | tuple[str, ...] = (), now: float | None = None
               ) -> dict[str, Activity]:
    """Each agent's activity from the recorded events at ``now`` (default: the clock; working with
    nothing heard for long is stalled); every id in ``agent_ids`` included."""
    return reduce(load_events(data_dir), agent_ids, now=time.time() if now is None else now)
