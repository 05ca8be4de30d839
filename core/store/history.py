"""Reading the history: filtered, paged lists of deliveries, counts, and one message in full.

Rows come newest first (by delivery creation time, then id). Filters combine with AND; ``since``
is inclusive and ``until`` exclusive; ``text`` follows :mod:`quarterdeck.core.store.textquery`. How each
combination stays index-driven is in :mod:`quarterdeck.core.store.query`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from quarterdeck.core.store.mapping import (
    DELIVERY_COLUMNS,
    HISTORY_COLUMNS,
    MESSAGE_COLUMNS,
    attempt_from_row,
    delivery_from_row,
    history_from_row,
    message_from_row,
)
from quarterdeck.core.store.outbox import Store
from quarterdeck.core.store.query import Filters, plan
from quarterdeck.core.store.rows import DeliveryDetail, HistoryRow, MessageDetail, UnknownMessage
from quarterdeck.core.store.textquery import text_filter


def search(
    store: Store,
    *,
    agent: str | None = None,
    state: str | None = None,
    text: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[HistoryRow]:
    """One page of deliveries matching every given filter, newest first."""
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must not be negative")
    conn = store.connection()
    found = plan(conn, Filters(agent, state, text, since, until), limit=limit + offset)
    if found.nothing:
        return []
    rows = conn.execute(
        f"SELECT {HISTORY_COLUMNS} FROM {found.source}{found.where} "
        "ORDER BY d.created_at DESC, d.id DESC LIMIT ? OFFSET ?",
        (*found.params, limit, offset),
    ).fetchall()
    return [history_from_row(row) for row in rows]


def count(
    store: Store,
    *,
    agent: str | None = None,
    state: str | None = None,
    text: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    at_most: int | None = None,
) -> int:
    """How many deliveries :func:`search` would page through with the same filters.

    With ``at_most``, counting stops past it: the answer is ``at_most + 1`` when more match, for
    a view to show "1,000+". A common word matches hundreds of thousands of deliveries, and
    counting them all reads every match (300,000 of 1,000,000 deliveries: about 150 ms); the
    newest 1,000 of them are counted in under 10 ms, by the walk that lists a page.
    """
    if at_most is not None and at_most < 0:
        raise ValueError("at_most must not be negative")
    conn = store.connection()
    filters = Filters(agent, state, text, since, until)
    if at_most is None or text_filter(text).match is None:
        # Without words for the full-text index, stopping early saves little: an index counts
        # deliveries at once, and short terms are tested on every message whichever way.
        found = plan(conn, filters, counting=True)
        if found.nothing:
            return 0
        total = int(conn.execute(f"SELECT count(*) FROM {found.source}{found.where}", found.params).fetchone()[0])
        return total if at_most is None else min(total, at_most + 1)
    found = plan(conn, filters, limit=at_most + 1)
    if found.nothing:
        return 0
    # A walk in time order stops early; the few-matches plan needs no order to be counted.
    order = " ORDER BY d.created_at DESC, d.id DESC" if found.source.startswith("deliveries") else ""
    row = conn.execute(f"SELECT count(*) FROM (SELECT 1 FROM {found.source}{found.where}{order} LIMIT ?)",
                       (*found.params, at_most + 1)).fetchone()
    return int(row[0])


def message_detail(store: Store, message_id: str) -> MessageDetail:
    """The message, each of its deliveries (retries included) and each delivery's attempts."""
    conn = store.connection()
    conn.execute("BEGIN")
    try:
        message = conn.execute(f"SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.id = ?", (message_id,)).fetchone()
        if message is None:
            raise UnknownMessage(f"no message with id {message_id!r}")
        deliveries = conn.execute(
            f"SELECT {DELIVERY_COLUMNS} FROM deliveries d WHERE d.message_id = ? ORDER BY d.id", (message_id,)
        ).fetchall()
        attempts = conn.execute(
            "SELECT a.delivery_id, a.n, a.started_at, a.finished_at, a.ok, a.error FROM attempts a "
            "JOIN deliveries d ON d.id = a.delivery_id WHERE d.message_id = ? ORDER BY a.delivery_id, a.n",
            (message_id,),
        ).fetchall()
    finally:
        conn.execute("COMMIT")
    by_delivery: dict[int, list[Any]] = {}
    for row in attempts:
        by_delivery.setdefault(row["delivery_id"], []).append(attempt_from_row(row))
    return MessageDetail(
        message=message_from_row(message),
        deliveries=tuple(
            DeliveryDetail(delivery=delivery_from_row(row), attempts=tuple(by_delivery.get(row["id"], ())))
            for row in deliveries
        ),
    )
