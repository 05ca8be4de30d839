"""History filters turned into SQL whose plan stays fast at a million deliveries.

Agent, state and time filters each have an index on ``deliveries``. Text is the hard part: the
cheapest plan depends on how many messages match and where they sit in time, which the planner
cannot know. So the full-text index is asked first for its newest matches (``ORDER BY rowid
DESC``: ``messages.seq``, the FTS rowid, grows as messages are stored), at most
:data:`PROBE` of them, which it finds without looking at older ones:

* all matches fit (and are at most :data:`FEW_MATCHES`): start from those messages, reach their
  deliveries through ``deliveries_message``, then sort the small result;
* many matches: walk deliveries in index order (newest first, already filtered by agent, state
  or time) and test each message, stopping at the page end. The test is decided by the range of
  ``seq`` the message falls in (:func:`_membership`): inside the window of matches fetched so
  far it is a lookup in that set; outside it, the full-text index is asked for the matches of
  that range only, once, when the walk first gets there (ranges below the window double in
  width, so a walk that runs past it reads about as much as it needs). A first page of a common
  word never leaves the window, so nothing else is read. A delivery whose message is older than
  its neighbours (a resend, a second agent added later, a clock that went back) costs the range
  it falls in: at worst every older match, which is what every text query read before.
  Which deliveries are listed never depends on the window: every range is exact.
* many matches but sparse where the walk starts (it would pass more than :data:`WALK`
  deliveries): up to :data:`FEW_MATCHES` matches are fetched, and if that is all of them the
  first plan is used after all.

Where the walk starts is learned from the deliveries themselves (:func:`_start_seq`: the newest
message among the first deliveries the filters select), so a page deep in the history, an
agent that went quiet months ago or an ``until`` in the past gets a window where it reads.

Join order is pinned with ``CROSS JOIN`` and, where it matters, ``INDEXED BY``: a plan the
planner may pick on its own here (matches outer, agent index inner) is quadratic.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from quarterdeck.core.store.rows import State, to_db_time
from quarterdeck.core.store.textquery import text_filter

PROBE = 300
"""Newest matches fetched first; a first page of a common word is found among them."""
FEW_MATCHES = 5000
"""At most this many matches in all: list them from the messages' side."""
WALK = 60_000
"""A walk expected to pass more deliveries than this tries the few-matches plan first."""
GROWTH = 2
"""Below the window, each range read in one go is this many times as wide as the one above it."""
START_ROWS = 64
"""Deliveries looked at to learn where a walk starts (the newest message among them)."""

_MATCHED = "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?"
_FROM_DELIVERIES = "deliveries d CROSS JOIN messages m ON m.id = d.message_id"
_FROM_MESSAGES = "messages m CROSS JOIN deliveries d INDEXED BY deliveries_message ON d.message_id = m.id"
_KNOWN = "m.seq IN (SELECT value FROM json_each(?))"


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


@dataclass(frozen=True)
class _Window:
    """Every match with ``lo <= seq <= hi`` (newest first); ``lo`` None: every one up to ``hi``,
    ``hi`` None: no upper bound."""

    known: list[int]
    lo: int | None
    hi: int | None


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


def plan(conn: sqlite3.Connection, filters: Filters, *, counting: bool = False, limit: int = 250,
         extra: Sequence[str] = (), extra_params: Sequence[Any] = (), seek: bool = True) -> Plan:
    """How to list (or, ``counting``, count all) the deliveries matching ``filters`` and the
    ``extra`` conditions on ``d``; ``limit``: how many the list will take (it sizes the walk).
    ``seek``: the list is newest first, so where a walk starts can be learned from the first
    deliveries the filters select (not for lists oldest first or by id)."""
    clauses, params = _delivery_clauses(filters)
    clauses += extra
    params += extra_params
    wanted = text_filter(filters.text)
    if wanted.empty:
        if counting:
            return Plan("deliveries d", clauses, params, joins_messages=False)
        return Plan(_FROM_DELIVERIES, clauses, params)
    likes = ["m.content LIKE ? ESCAPE '\\'"] * len(wanted.likes)
    if wanted.match is None:
        source = _FROM_MESSAGES if counting and not clauses else _FROM_DELIVERIES
        return Plan(source, clauses + likes, params + list(wanted.likes))
    if counting:
        return _counting(conn, wanted.match, clauses, params, likes, list(wanted.likes))
    window = max(1, PROBE)
    newest = _newest(conn, wanted.match, None, window + 1)
    if not newest:
        return Plan(_FROM_DELIVERIES, nothing=True)
    if len(newest) <= window and len(newest) <= FEW_MATCHES:
        return _few(newest, clauses, params, likes, list(wanted.likes))
    found = _Window(newest[:window], newest[window - 1] if len(newest) > window else None, None)
    if seek:
        start = _start_seq(conn, clauses, params)
        if start is None:
            return Plan(_FROM_DELIVERIES, nothing=True)  # no delivery passes the other filters
        if found.lo is not None and start < found.lo:
            below = _newest(conn, wanted.match, start, window + 1)
            found = _Window(below[:window], below[window - 1] if len(below) > window else None, start)
        if _walk_estimate(conn, found, limit) > WALK and len(newest) > window:
            everything = newest[:window] + _newest(conn, wanted.match, newest[window - 1] - 1,
                                                   FEW_MATCHES - window + 1)
            if len(everything) <= FEW_MATCHES:
                return _few(everything, clauses, params, likes, list(wanted.likes))
    test, test_params = _membership(wanted.match, found)
    return Plan(_FROM_DELIVERIES, [*clauses, test, *likes], [*params, *test_params, *wanted.likes])


def _newest(conn: sqlite3.Connection, match: str, upto: int | None, limit: int) -> list[int]:
    """Up to ``limit`` matching seqs, newest first, none above ``upto``."""
    if limit <= 0:
        return []
    bound, bound_params = (" AND rowid <= ?", [upto]) if upto is not None else ("", [])
    rows = conn.execute(f"{_MATCHED}{bound} ORDER BY rowid DESC LIMIT ?", [match, *bound_params, limit])
    return [row[0] for row in rows]


def _few(rowids: list[int], clauses: list[str], params: list[Any], likes: list[str], like_params: list[str]
         ) -> Plan:
    return Plan(_FROM_MESSAGES, [_KNOWN, *clauses, *likes], [json.dumps(rowids), *params, *like_params])


def _start_seq(conn: sqlite3.Connection, clauses: list[str], params: list[Any]) -> int | None:
    """The newest message among the first deliveries a newest-first walk meets, or None when no
    delivery passes ``clauses``."""
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    row = conn.execute(
        f"SELECT max(seq) FROM (SELECT m.seq AS seq FROM {_FROM_DELIVERIES}{where} "
        "ORDER BY d.created_at DESC, d.id DESC LIMIT ?)", [*params, START_ROWS]).fetchone()
    return None if row[0] is None else int(row[0])


def _walk_estimate(conn: sqlite3.Connection, found: _Window, limit: int) -> float:
    """Deliveries a walk passes to list ``limit`` matching ones, if matches are as dense as in the
    window (every message matches as likely as the window's do)."""
    top = found.hi if found.hi is not None else conn.execute("SELECT max(seq) FROM messages").fetchone()[0]
    span = max(1, int(top or 0) - (found.lo if found.lo is not None else 0) + 1)
    return limit * span / max(1, len(found.known))


def _membership(match: str, found: _Window) -> tuple[str, list[Any]]:
    """A condition true when message ``m`` matches, decided by the range its seq falls in."""
    whens: list[str] = []
    params: list[Any] = []
    if found.hi is not None:
        whens.append(f"WHEN m.seq > ? THEN m.seq IN ({_MATCHED} AND rowid > ?)")
        params += [found.hi, match, found.hi]
    if found.lo is None and not whens:
        return f"+{_KNOWN}", [json.dumps(found.known)]
    if found.lo is None:
        return f"CASE {' '.join(whens)} ELSE {_KNOWN} END", [*params, json.dumps(found.known)]
    whens.append(f"WHEN m.seq >= ? THEN {_KNOWN}")
    params += [found.lo, json.dumps(found.known)]
    top = found.hi if found.hi is not None else found.known[0]
    width = max(1, top - found.lo + 1)
    upper = found.lo
    while True:
        width *= max(2, GROWTH)
        bound = upper - width
        if bound <= 1:
            break
        whens.append(f"WHEN m.seq >= ? THEN m.seq IN ({_MATCHED} AND rowid >= ? AND rowid < ?)")
        params += [bound, match, bound, upper]
        upper = bound
    return f"CASE {' '.join(whens)} ELSE m.seq IN ({_MATCHED} AND rowid < ?) END", [*params, match, upper]


def _counting(conn: sqlite3.Connection, match: str, clauses: list[str], params: list[Any], likes: list[str],
              like_params: list[str]) -> Plan:
    rowids = [row[0] for row in conn.execute(f"{_MATCHED} LIMIT ?", (match, FEW_MATCHES + 1))]
    if not rowids:
        return Plan(_FROM_DELIVERIES, nothing=True)
    if len(rowids) <= FEW_MATCHES:
        return _few(rowids, clauses, params, likes, like_params)
    source = _FROM_MESSAGES if not clauses else _FROM_DELIVERIES
    membership = "m.seq IN" if source == _FROM_MESSAGES else "+m.seq IN"
    return Plan(source, [f"{membership} ({_MATCHED})", *clauses, *likes], [match, *params, *like_params])
