"""Relayed deliveries in the captain's outbox (issue 14): claimed in batches, settled by receipts.

The captain's forwarder (``quarterdeck.core.captain``) hands deliveries to relays over the broker
without waiting for each one, so the outbox is worked in batches, one write transaction each:

- :func:`claim` takes up to ``limit`` queued deliveries of the relays' agents (urgent first, then
  oldest: the order the ordinary claim keeps, so each agent's messages go out in order), marks them
  ``sending`` AND started (the entry is written to the broker right after: a crash from here on
  may have left it in the relay's stream, so recovery makes it ``uncertain``, never queues it
  again) and records the relay as the delivery's ``machine``.
- :func:`release` hands back claimed deliveries nothing of which reached the broker.
- :func:`note_waiting` gives queued deliveries the reason they wait (the broker unreachable), once.
- :func:`note_relay_held` gives deliveries a relay took the reason it holds them (and takes it back).
- :func:`settle` records outcomes: a relay's receipts, a relay that did not report in time. Only a
  delivery still ``sending`` changes, or one ``uncertain`` because nobody knew, which the relay's
  later word (delivered, failed, cancelled) replaces; one delivered, failed or cancelled stays.
- :func:`settle_and_claim`: both in one transaction (the forwarder's round with receipts to record).
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from quarterdeck.core.store import queueing
from quarterdeck.core.store.db import immediate
from quarterdeck.core.store.mapping import TASK_SELECT, task_from_row
from quarterdeck.core.store.rows import DeliveryTask, now_db

if TYPE_CHECKING:
    from quarterdeck.core.store.outbox import Store

__all__ = ["Applied", "Forwarded", "Matched", "Outcome", "any_queued", "claim", "clear_waiting", "note_relay_held",
           "note_waiting", "release", "settle", "settle_and_claim"]

FINAL = frozenset({"delivered", "failed", "uncertain", "cancelled"})
UPGRADES = frozenset({"delivered", "failed", "cancelled"})  # what may replace an 'uncertain' guess


@dataclass(frozen=True)
class Forwarded:
    """A claimed delivery and the relay its agent is on."""

    task: DeliveryTask
    relay: str


@dataclass(frozen=True)
class Outcome:
    """How delivery ``delivery`` to ``agent`` on relay ``relay`` ended (or is still ending)."""

    delivery: int
    agent: str
    relay: str
    state: str  # delivered | failed | uncertain | cancelled (or a step on the way: sending, queued)
    reason: str | None = None
    verdict: str | None = None
    evidence: str | None = None
    attempts: int = 0


@dataclass(frozen=True)
class Applied:
    """An outcome now recorded: ``was`` the row's state before, ``latency`` seconds since it was claimed."""

    outcome: Outcome
    message_id: str
    was: str
    latency: float | None


def _ids(ids: Iterable[object]) -> str:
    return json.dumps(list(ids))


def claim(store: Store, relays: Mapping[str, str], *, own_only: bool, limit: int) -> list[Forwarded]:
    """Claim up to ``limit`` queued deliveries to the agents in ``relays`` (agent id -> relay name). It
    takes the write lock: ask :func:`any_queued` (a read) first while there may be nothing to do."""
    if not relays or limit <= 0:
        return []
    with immediate(store.connection()) as conn:
        return _claim(conn, store, relays, own_only, limit)


def _claim(conn: sqlite3.Connection, store: Store, relays: Mapping[str, str], own_only: bool,
           limit: int) -> list[Forwarded]:
    token = store._lease.token
    scope, params = queueing._scope(conn, store.path, token, own_only)
    tasks = conn.execute(  # read and claimed under one write lock: these rows stay queued until the UPDATE
        f"{TASK_SELECT} WHERE d.id IN (SELECT id FROM deliveries WHERE state = 'queued' AND agent_id IN "
        f"(SELECT value FROM json_each(?)) {scope} ORDER BY prio, id LIMIT ?) ORDER BY d.prio, d.id",
        [_ids(sorted(relays)), *params, limit]).fetchall()
    if not tasks:
        return []
    now = now_db()
    claimed = [Forwarded(task_from_row(task), relays[task["agent_id"]]) for task in tasks]
    conn.executemany(  # one statement for the whole batch
        "UPDATE deliveries SET state = 'sending', claimed_by = ?, started_at = ?, updated_at = ?, machine = ?, "
        "reason = NULL WHERE id = ? AND state = 'queued'",
        [(token, now, now, item.relay, item.task.delivery_id) for item in claimed])
    return claimed


def any_queued(store: Store, agents: Iterable[str]) -> bool:
    """Whether a delivery to one of ``agents`` is queued (one short read)."""
    return store.connection().execute(
        "SELECT 1 FROM deliveries WHERE state = 'queued' AND agent_id IN (SELECT value FROM json_each(?)) LIMIT 1",
        (_ids(sorted(agents)),)).fetchone() is not None


def release(store: Store, delivery_ids: Sequence[int], reason: str) -> list[int]:
    """``sending`` -> ``queued`` again, kept for this process, with ``reason``: nothing of them went out."""
    conn = store.connection()
    now = now_db()
    with immediate(conn):
        return [int(row[0]) for row in conn.execute(
            "UPDATE deliveries SET state = 'queued', claimed_by = ?, started_at = NULL, machine = NULL, reason = ?, "
            "updated_at = ? WHERE id IN (SELECT value FROM json_each(?)) AND state = 'sending' RETURNING id",
            (store._lease.token, reason, now, _ids(delivery_ids))).fetchall()]


def note_waiting(store: Store, agents: Iterable[str], reason: str) -> list[tuple[int, str, str]]:
    """Queued deliveries to ``agents`` wait for ``reason``: record it on those that do not say so yet;
    returns them as (delivery id, message id, agent id)."""
    conn = store.connection()
    with immediate(conn):
        rows = conn.execute(
            "UPDATE deliveries SET reason = ?, updated_at = ? WHERE state = 'queued' AND agent_id IN "
            "(SELECT value FROM json_each(?)) AND reason IS NOT ? RETURNING id, message_id, agent_id",
            (reason, now_db(), _ids(sorted(set(agents))), reason)).fetchall()
    return sorted((int(r[0]), str(r[1]), str(r[2])) for r in rows)


def clear_waiting(store: Store, prefix: str, state: str = "queued") -> list[tuple[int, str, str]]:
    """The wait is over: deliveries in ``state`` whose reason begins with ``prefix`` lose it; returns
    (id, message id, agent) of each."""
    conn = store.connection()
    with immediate(conn):
        return [(int(r[0]), str(r[1]), str(r[2])) for r in conn.execute(
            "UPDATE deliveries SET reason = NULL WHERE state = ? AND substr(reason, 1, ?) = ? "
            "RETURNING id, message_id, agent_id", (state, len(prefix), prefix))]


def note_held(store: Store, delivery_ids: Iterable[int], reason: str) -> set[int]:
    """Deliveries sent to a relay that stopped answering wait for it: ``reason`` on those still
    ``sending``; returns their ids."""
    conn = store.connection()
    with immediate(conn):
        return {int(row[0]) for row in conn.execute(
            "UPDATE deliveries SET reason = ?, updated_at = ? WHERE state = 'sending' AND id IN "
            "(SELECT value FROM json_each(?)) RETURNING id", (reason, now_db(), _ids(sorted(delivery_ids))))}


def note_relay_held(store: Store, notes: Mapping[tuple[int, str, str], str | None]
                    ) -> list[tuple[tuple[int, str, str], str | None, str]]:
    """A relay holds deliveries it took (a reason: GUI delivery paused there) or goes on with them
    (``None``: only a reason of that relay's, ``relay NAME: ...``, is taken back): each (delivery,
    agent, relay) of ``notes`` that is this outbox's and still ``sending`` gets its reason, or loses it.
    Returns (that key, the reason, the message id) of each row changed. Taking reasons back first reads
    whether a row has one (most have none: no write)."""
    conn = store.connection()
    going_on = [key for key, reason in notes.items() if reason is None]
    if going_on and len(going_on) == len(notes) and not conn.execute(
            "SELECT 1 FROM deliveries WHERE id IN (SELECT value FROM json_each(?)) AND substr(reason, 1, 6) = "
            "'relay ' AND state = 'sending' LIMIT 1", (_ids(sorted({key[0] for key in going_on})),)).fetchone():
        return []
    changed = []
    with immediate(conn):
        for key, reason in notes.items():
            prefix = f"relay {key[2]}: "
            row = conn.execute(
                "UPDATE deliveries SET reason = ?, updated_at = ? WHERE id = ? AND agent_id = ? AND machine = ? "
                "AND state = 'sending' AND reason IS NOT ? AND (? IS NOT NULL OR substr(reason, 1, ?) = ?) "
                "RETURNING message_id", (reason, now_db(), *key, reason, reason, len(prefix), prefix)).fetchone()
            if row is not None:
                changed.append((key, reason, str(row[0])))
    return changed


Matched = set[tuple[int, str, str]]  # (delivery, agent, relay) of outcomes that are this outbox's


def settle(store: Store, outcomes: Sequence[Outcome]) -> tuple[list[Applied], Matched]:
    """Record ``outcomes`` (one transaction, taken only when one of them is an end). Returns those
    recorded, and the outcomes that are this outbox's (its delivery to that agent on that relay),
    whether they changed a row or not: one matching none is another outbox's (delivery ids are only
    unique per outbox)."""
    if not outcomes:
        return [], set()
    conn = store.connection()
    if not any(outcome.state in FINAL for outcome in outcomes):  # steps on the way: a read only
        return [], _matching(_rows(conn, outcomes), outcomes)[0]
    with immediate(conn) as conn:  # read under the write lock: another thread may have moved them
        rows = _rows(conn, outcomes)
        matched, changing = _matching(rows, outcomes)
        return (_record(conn, changing, rows) if changing else []), matched


def settle_and_claim(store: Store, outcomes: Sequence[Outcome], relays: Mapping[str, str], *, own_only: bool,
                     limit: int) -> tuple[list[Applied], Matched, list[Forwarded]]:
    """:func:`settle` ``outcomes`` and :func:`claim` up to ``limit``, in one write transaction (one
    commit, one turn of the write lock)."""
    with immediate(store.connection()) as conn:
        rows = _rows(conn, outcomes)  # read under the write lock: once is enough
        matched, changing = _matching(rows, outcomes)
        applied = _record(conn, changing, rows) if changing else []
        return applied, matched, _claim(conn, store, relays, own_only, limit) if relays and limit > 0 else []


def _rows(conn: sqlite3.Connection, outcomes: Sequence[Outcome]) -> dict[int, sqlite3.Row]:
    """The rows of the deliveries ``outcomes`` tell of, by id."""
    if not outcomes:
        return {}
    return {int(r["id"]): r for r in conn.execute(
        "SELECT id, state, agent_id, machine, message_id, started_at FROM deliveries WHERE id IN "
        "(SELECT value FROM json_each(?))", (_ids(sorted({o.delivery for o in outcomes})),))}


def _matching(rows: Mapping[int, sqlite3.Row], outcomes: Sequence[Outcome]) -> tuple[Matched, list[Outcome]]:
    """The outcomes that are this outbox's, and those of them that would change their row."""
    matched: Matched = set()
    changing: list[Outcome] = []
    for outcome in outcomes:
        row = rows.get(outcome.delivery)
        if row is None or row["agent_id"] != outcome.agent or row["machine"] != outcome.relay:
            continue
        matched.add((outcome.delivery, outcome.agent, outcome.relay))
        if _changes(outcome, str(row["state"])):
            changing.append(outcome)
    return matched, changing


def _record(conn: sqlite3.Connection, changing: Sequence[Outcome], rows: Mapping[int, sqlite3.Row]) -> list[Applied]:
    """Record ``changing`` in order, inside the caller's write transaction, over ``rows`` as read within
    it: one UPDATE statement for the whole batch."""
    applied: list[Applied] = []
    now = now_db()
    states = {i: (str(r["state"]), str(r["message_id"]), r["started_at"]) for i, r in rows.items()}
    moves = []
    for outcome in changing:  # in order: a second outcome of one delivery meets the state the first left
        if outcome.delivery not in states:
            continue  # gone meanwhile (the history was cleared)
        was, message_id, started = states[outcome.delivery]
        if not _changes(outcome, was):
            continue
        latency = None if started is None else max(0.0, now - float(started))
        moves.append(_move(outcome, was, now, latency))
        states[outcome.delivery] = (outcome.state, message_id, started)
        applied.append(Applied(outcome, message_id, was, latency))
    conn.executemany(  # one statement for the whole batch
        "UPDATE deliveries SET state = ?, reason = ?, verdict = ?, evidence = ?, attempts = max(attempts, ?), "
        "latency_ms = ?, updated_at = ?, finished_at = ? WHERE id = ? AND state = ?", moves)
    return applied


def _changes(outcome: Outcome, was: str) -> bool:
    """Whether ``outcome`` is recorded over a row that is ``was``: a final state over ``sending``; the
    relay's word over an ``uncertain`` guess (not over a delivered, failed or cancelled row)."""
    if outcome.state not in FINAL:
        return False  # a step on the way (the relay is sending it, or retrying): nothing to record
    return was == "sending" or (was == "uncertain" and outcome.state in UPGRADES)


def _move(outcome: Outcome, was: str, now: float, latency: float | None) -> tuple[object, ...]:
    """The parameters of the UPDATE that records ``outcome`` over a row that is ``was``."""
    delivered = outcome.state == "delivered"
    return (outcome.state, None if delivered else outcome.reason, outcome.verdict, outcome.evidence, outcome.attempts,
            latency * 1000.0 if delivered and latency is not None else None, now, now, outcome.delivery, was)
