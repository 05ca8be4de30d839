"""History filters turned into SQL whose plan stays fast at a million deliveries.

Agent, state and time filters each have an index on ``deliveries``. Text is the hard part: the
cheapest plan depends on how many messages match, which the planner cannot know. So the
full-text index is probed first, fetching at most ``FEW_MATCHES + 1`` rowids:

* few matches: start from those messages and reach their deliveries through
  ``deliveries_message``, then sort the small result;
* many matches: walk deliveries in index order (newest first, already filtered by agent, state
  or time) and test each message against the materialized match set, stopping at the page end.

Join order is pinned with ``CROSS JOIN`` and, where it matters, ``INDEXED BY``: a plan the
planner may pick on its own here (matches outer, agent index inner) is quadratic.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from quarterdeck.core.store.rows import State, to_db_time
from quarterdeck.core.store.textquery import text_filter

FEW_MATCHES = 5000

_MATCHED = "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?"
_FROM_DELIVERIES = "deliveries d CROSS JOIN messages m ON m.id = d.message_id"
_FROM_MESSAGES = "messages m CROSS JOIN deliveries d INDEXED BY deliveries_message ON d.message_id = m.id"


@dataclass(frozen=True)
class Filters:
    agent: str | None = None
    state: str | None = None
    text: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class Plan:
    """``FROM``/``WHERE`` text and parameters, or ``nothing`` when no row can match."""

    source: str
    clauses: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    nothing: bool = False
    joins_messages: bool = True

    @property
    def where(self) -> str:
        return (" WHERE " + " AND ".join(self.clauses)) if self.clauses else ""


def _delivery_clauses(filters: Filters) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if filters.agent is not None:
        clauses.append("d.agent_id = ?")
        params.append(filters.agent)
    if filters.state is not None:
        clauses.append("d.state = ?")
        params.append(State(filters.state).value)
    if filters.since is not None:
        clauses.append("d.created_at >= ?")
        params.append(to_db_time(filters.since))
    if filters.until is not None:
        clauses.append("d.created_at < ?")
        params.append(to_db_time(filters.until))
    return clauses, params


def plan(conn: sqlite3.Connection, filters: Filters, *, counting: bool = False) -> Plan:
    clauses, params = _delivery_clauses(filters)
    wanted = text_filter(filters.text)
    if wanted.empty:
        if counting:
            return Plan("deliveries d", clauses, params, joins_messages=False)
        return Plan(_FROM_DELIVERIES, clauses, params)
    likes = ["m.content LIKE ? ESCAPE '\\'"] * len(wanted.likes)
    if wanted.match is None:
        source = _FROM_MESSAGES if counting and not clauses else _FROM_DELIVERIES
        return Plan(source, clauses + likes, params + list(wanted.likes))
    rowids = [row[0] for row in conn.execute(f"{_MATCHED} LIMIT ?", (wanted.match, FEW_MATCHES + 1))]
    if not rowids:
        return Plan(_FROM_DELIVERIES, nothing=True)
    if len(rowids) <= FEW_MATCHES:
        return Plan(
            _FROM_MESSAGES,
            ["m.seq IN (SELECT value FROM json_each(?))", *clauses, *likes],
            [json.dumps(rowids), *params, *wanted.likes],
        )
    source = _FROM_MESSAGES if counting and not clauses else _FROM_DELIVERIES
    membership = "m.seq IN" if source == _FROM_MESSAGES else "+m.seq IN"
    return Plan(
        source,
        [f"{membership} ({_MATCHED})", *clauses, *likes],
        [wanted.match, *params, *wanted.likes],
    )
