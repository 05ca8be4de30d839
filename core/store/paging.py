"""Keyset paging over the history, for a view that scrolls through a million deliveries.

:func:`quarterdeck.core.store.history.search` pages by ``OFFSET``, whose cost grows with depth: SQLite walks
and throws away every row before the page (measured over 1,000,000 deliveries: 2.6 ms at the
top, about 200 ms at row 500,000, 380-700 ms at row 900,000). Here a page continues *after* the
last row shown, by its ``(created_at, id)`` key, so the same time-ordered indexes seek straight
to it: about 1.5 ms per 250 rows at any depth.

A view keeps every line it has loaded, so lines are compact (about 500 bytes each): a tuple of
the columns a table shows, with the first :data:`EXCERPT` characters of the content instead of
all of it (the full text is one :func:`quarterdeck.core.store.history.message_detail` away).

:func:`newer` and :func:`lines_by_id` keep a loaded view current without reloading it;
:func:`placements` says where fresh lines go in what is loaded.
"""
from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from sys import intern
from typing import Any, NamedTuple

from quarterdeck.core.store.outbox import Store
from quarterdeck.core.store.query import Filters, plan
from quarterdeck.core.store.rows import outcome

PAGE = 250
EXCERPT = 200

_DELIVERIES_FIRST = "deliveries d"

SPANS = ("all", "hour", "today", "week")
"""Time ranges a history view offers: everything, the last hour, since local midnight, 7 days."""


class Key(NamedTuple):
    """Where a line sits in newest-first order: the stored creation time, then the id."""

    created: float
    delivery_id: int


class Line(NamedTuple):
    """One delivery as a history table shows it (see the module docstring)."""

    delivery_id: int
    message_id: str
    agent_id: str
    state: str
    reason: str | None
    attempts: int
    priority: str
    type: str
    sender: str
    excerpt: str
    """The content's first :data:`EXCERPT` characters on one line (whitespace runs become one space)."""
    truncated: bool
    redacted: bool
    created: float
    """UTC epoch seconds, exactly as stored (the paging key depends on it being unrounded)."""
    latency_ms: float | None
    verdict: str | None = None
    machine: str | None = None
    """The relay that typed it (issue 14); None: this machine."""

    @property
    def outcome(self) -> str:
        """``submitted`` / ``unverified`` for a delivered line, the failure's verdict, else the state."""
        return outcome(self.state, self.verdict)

    @property
    def key(self) -> Key:
        return Key(self.created, self.delivery_id)


def _columns(excerpt: int) -> str:
    n = int(excerpt)
    return (
        "d.id, d.message_id, d.agent_id, d.state, d.reason, d.attempts, d.priority, m.type, m.sender, "
        f"substr(m.content, 1, {n}), length(substr(m.content, 1, {n + 1})) > {n}, m.redacted, "
        "d.created_at, d.latency_ms, d.verdict, d.machine"
    )


def _lines(rows: Iterable[tuple[Any, ...]]) -> list[Line]:
    """Rows in :class:`Line` order to lines. Runs on a background thread while the UI thread
    paints, and both need the GIL, so it stays lean; the few distinct agent, state, priority,
    type and sender strings are interned, which makes a loaded line about a third smaller."""
    return [
        Line(r[0], r[1], intern(r[2]), intern(r[3]), r[4], r[5], intern(r[6]), intern(r[7]), intern(r[8]),
             " ".join(r[9].split()), bool(r[10]), bool(r[11]), r[12], r[13], r[14] and intern(r[14]),
             r[15] and intern(r[15]))
        for r in rows
    ]


def _select(store: Store, filters: Filters, extra: list[str], extra_params: list[object],
            limit: int, excerpt: int, *, ascending: bool = False, by_id: bool = False) -> list[Line]:
    conn = store.connection()
    found = plan(conn, filters, limit=limit, extra=extra, extra_params=extra_params,
                 seek=not (ascending or by_id))
    if found.nothing:
        return []
    source = found.source
    if by_id and source.startswith(_DELIVERIES_FIRST):
        # Reach the few deliveries by rowid: left alone the planner walks the agent or state index.
        source = source.replace(_DELIVERIES_FIRST, f"{_DELIVERIES_FIRST} NOT INDEXED", 1)
    order = "ASC" if ascending else "DESC"
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: no sqlite3.Row per line
    rows = cursor.execute(
        f"SELECT {_columns(excerpt)} FROM {source}{found.where} "
        f"ORDER BY d.created_at {order}, d.id {order} LIMIT ?",
        (*found.params, limit),
    )
    return _lines(rows)


def page(store: Store, filters: Filters = Filters(), *, after: Key | None = None,
         limit: int = PAGE, excerpt: int = EXCERPT) -> list[Line]:
    """Up to ``limit`` lines matching ``filters``, newest first, starting below ``after``."""
    if limit < 0:
        raise ValueError("limit must not be negative")
    if after is None:
        return _select(store, filters, [], [], limit, excerpt)
    # The first clause is a plain range the time indexes serve; the second settles equal times.
    return _select(store, filters, ["d.created_at <= ?", "(d.created_at < ? OR d.id < ?)"],
                   [after.created, after.created, after.delivery_id], limit, excerpt)


def newer(store: Store, filters: Filters = Filters(), *, than: Key | None,
          limit: int = PAGE, excerpt: int = EXCERPT) -> list[Line]:
    """Up to ``limit`` lines above ``than`` (all of the top when None), newest first.

    The lines *closest* to ``than`` are the ones kept when there are more than ``limit``, so
    a caller that asks for ``limit + 1`` learns whether the gap can be closed in one go.
    """
    if than is None:
        return page(store, filters, limit=limit, excerpt=excerpt)
    lines = _select(store, filters, ["d.created_at >= ?", "(d.created_at > ? OR d.id > ?)"],
                    [than.created, than.created, than.delivery_id], limit, excerpt, ascending=True)
    return lines[::-1]


def lines_by_id(store: Store, delivery_ids: Iterable[int], filters: Filters = Filters(), *,
                excerpt: int = EXCERPT) -> list[Line]:
    """The current lines of those deliveries that still match ``filters``, newest first.

    An id missing from the answer is unknown or no longer matches (say, a ``queued`` filter and a
    delivery that has since been sent).
    """
    ids = sorted({int(i) for i in delivery_ids})
    if not ids:
        return []
    return _select(store, filters, ["d.id IN (SELECT value FROM json_each(?))"], [json.dumps(ids)],
                   len(ids), excerpt, by_id=True)


def placements(loaded: Sequence[Line], fresh: Iterable[Line], *, complete: bool
               ) -> list[tuple[int, list[Line]]]:
    """Where to insert ``fresh`` lines into ``loaded`` (newest first) to keep it sorted.

    Returns ``(row, lines)`` blocks, bottom block first, so inserting them in that order leaves
    every later ``row`` valid. Lines already loaded are skipped, and so are lines below the last
    loaded one unless ``complete`` (everything below was loaded): paging brings those later.
    Costs O(k log n) for k fresh lines, so it suits a view holding a million.
    """
    blocks: dict[int, list[Line]] = {}
    last = loaded[-1].key if loaded else None
    for line in sorted({line.delivery_id: line for line in fresh}.values(), key=_newest_first):
        if not complete and last is not None and line.key < last:
            continue
        row = bisect.bisect_left(loaded, _newest_first(line), key=_newest_first)
        if row < len(loaded) and loaded[row].delivery_id == line.delivery_id:
            continue  # already loaded (a line's key never changes)
        blocks.setdefault(row, []).append(line)
    return sorted(blocks.items(), reverse=True)


def row_of(loaded: Sequence[Line], line: Line) -> int | None:
    """The row of ``line``'s delivery in ``loaded`` (newest first), or None if it is not there."""
    row = bisect.bisect_left(loaded, _newest_first(line), key=_newest_first)
    if row < len(loaded) and loaded[row].delivery_id == line.delivery_id:
        return row
    return None


def _newest_first(line: Line) -> tuple[float, int]:
    return (-line.created, -line.delivery_id)


def since_for(span: str, now: datetime) -> datetime | None:
    """The start of a :data:`SPANS` range ending at ``now`` (aware, local); None for ``all``."""
    if span not in SPANS:
        raise ValueError(f"unknown time range {span!r}; expected one of {', '.join(SPANS)}")
    if span == "hour":
        return now - timedelta(hours=1)
    if span == "today":
        return now.replace(hour=0, minute=0, second=0, microsecond=0)
    if span == "week":
        return now - timedelta(days=7)
    return None
