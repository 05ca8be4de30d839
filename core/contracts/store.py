"""Contracts in SQLite: create, assign, claim, complete, cancel, re-point, and per-agent status.

Every change is one ``BEGIN IMMEDIATE`` transaction that reads the contract, checks the move
against :data:`quarterdeck.core.contracts.model.ALLOWED_FROM` and writes it. The write lock is taken before
the read, so when two agents (threads or processes) claim the same open contract at once, the
second one reads it already claimed and gets a :class:`ClaimConflict` naming the winner: a
contract is never claimed twice.

A ``ContractStore`` opens nothing until first used, so the panel can make one on the UI thread
and do every read and write from its background runner. Threads share one store (each gets its
own connection, as with the outbox's ``Store``); every process opens its own.
"""
from __future__ import annotations

import builtins
import dataclasses
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from quarterdeck.core.contracts.model import (
    ACTIVE,
    ALLOWED_FROM,
    AgentStatus,
    Board,
    ClaimConflict,
    Contract,
    ContractError,
    ContractState,
    InvalidTransition,
    UnknownContract,
    check_agent,
    check_description,
    check_points,
    check_title,
)
from quarterdeck.core.contracts.schema import ensure_schema
from quarterdeck.core.contracts.secrets import scrub
from quarterdeck.core.store.db import ThreadConnections, immediate, inserted_id
from quarterdeck.core.store.rows import db_time, from_db_time, now_db

_COLUMNS = ("id, title, description, points, state, assignee, note, created_at, updated_at, claimed_at, "
            "finished_at, sent_at, sent_message_id")
Change = Callable[[Contract], dict[str, Any]]


def contract_from_row(row: sqlite3.Row) -> Contract:
    return Contract(
        id=int(row["id"]), title=row["title"], description=row["description"], points=int(row["points"]),
        state=ContractState(row["state"]), assignee=row["assignee"], note=row["note"],
        created_at=db_time(row["created_at"]), updated_at=db_time(row["updated_at"]),
        claimed_at=from_db_time(row["claimed_at"]), finished_at=from_db_time(row["finished_at"]),
        sent_at=from_db_time(row["sent_at"]), sent_message_id=row["sent_message_id"])


class ContractStore:
    """The contracts kept in ``path`` (normally the outbox's ``quarterdeck.sqlite3``)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conns: ThreadConnections | None = None
        self._closed = False

    def _conn(self) -> sqlite3.Connection:
        with self._lock:
            if self._closed:
                raise ContractError("the contract store is closed")
            if self._conns is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conns = ThreadConnections(self.path)
                try:
                    ensure_schema(conns.get())
                except BaseException:
                    conns.close_all()
                    raise
                self._conns = conns
            conns = self._conns
        return conns.get()

    def close(self) -> None:
        """Close every thread's connection. Only once no thread is using the store: the panel
        queues this on its background runner, after the reads and writes it asked for."""
        with self._lock:
            self._closed = True
            conns, self._conns = self._conns, None
        if conns is not None:
            conns.close_all()

    def __enter__(self) -> ContractStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------------
    def get(self, contract_id: int) -> Contract:
        return self._get(self._conn(), contract_id)

    @staticmethod
    def _get(conn: sqlite3.Connection, contract_id: int) -> Contract:
        row = conn.execute(f"SELECT {_COLUMNS} FROM contracts WHERE id = ?", (contract_id,)).fetchone()
        if row is None:
            raise UnknownContract(contract_id)
        return contract_from_row(row)

    def list(self, *, agent: str | None = None, state: str | None = None) -> list[Contract]:
        """Contracts by number; ``state`` is one state or ``"active"`` (open and claimed)."""
        where, params = [], []
        if agent is not None:
            where.append("assignee = ?")
            params.append(agent)
        if state == "active":
            where.append(f"state IN ({', '.join('?' for _ in ACTIVE)})")
            params.extend(str(s) for s in ACTIVE)
        elif state is not None:
            where.append("state = ?")
            params.append(str(ContractState(state)))
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self._conn().execute(f"SELECT {_COLUMNS} FROM contracts{clause} ORDER BY id", params)
        return [contract_from_row(row) for row in rows]

    def status(self) -> builtins.list[AgentStatus]:
        """Per agent: open, claimed and done contracts and their points (cancelled ones do not count).

        Agents in name order; the open contracts nobody is assigned come last, as ``agent=None``.
        """
        rows = self._conn().execute(
            "SELECT assignee, state, count(*) AS n, coalesce(sum(points), 0) AS points FROM contracts "
            "WHERE state != 'cancelled' GROUP BY assignee, state")
        found: dict[str | None, dict[str, int]] = {}
        for row in rows:
            counts = found.setdefault(row["assignee"], {"open": 0, "claimed": 0, "done": 0,
                                                        "points_done": 0, "points_pending": 0})
            counts[row["state"]] = int(row["n"])
            counts["points_done" if row["state"] == "done" else "points_pending"] += int(row["points"])
        order = sorted((a for a in found if a is not None), key=str.lower) + ([None] if None in found else [])
        return [AgentStatus(agent, **found[agent]) for agent in order]

    def board(self, *, agent: str | None = None, state: str | None = None) -> Board:
        """:meth:`list` and :meth:`status` read in one transaction, so they agree with each other."""
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            return Board(self.list(agent=agent, state=state), self.status())
        finally:
            conn.execute("COMMIT")

    # -- changing --------------------------------------------------------------------------------
    def create(self, title: str, *, description: str = "", points: int = 1,
               assignee: str | None = None) -> Contract:
        """A new open contract; credentials in the title or description are stored redacted (see
        :mod:`quarterdeck.core.contracts.secrets`) and named in the returned contract's ``redacted``."""
        title, masked_title = scrub("title", check_title(title))
        description, masked_description = scrub("description", check_description(description))
        points = check_points(points)
        assignee = None if assignee is None else check_agent(assignee)
        now = now_db()
        conn = self._conn()
        with immediate(conn):
            cursor = conn.execute(
                "INSERT INTO contracts (title, description, points, state, assignee, created_at, updated_at) "
                "VALUES (?, ?, ?, 'open', ?, ?, ?)", (title, description, points, assignee, now, now))
            created = self._get(conn, inserted_id(cursor))
        return dataclasses.replace(created, redacted=masked_title + masked_description)

    def assign(self, contract_id: int, agent: str | None) -> Contract:
        """Mean an open contract for ``agent`` (None: for whoever claims it first)."""
        agent = None if agent is None else check_agent(agent)
        return self._change(contract_id, "assign", lambda c: {"assignee": agent})

    def claim(self, contract_id: int, agent: str) -> Contract:
        """``agent`` takes the contract; raises :class:`ClaimConflict` if someone else has it."""
        agent = check_agent(agent)

        def take(contract: Contract) -> dict[str, Any]:
            if contract.assignee is not None and contract.assignee != agent:
                raise ClaimConflict(contract, "claim", (
                    f"contract #{contract.id} is assigned to {contract.assignee}: only {contract.assignee} "
                    f"can claim it, not {agent} (the captain can reassign it)"))
            return {"state": "claimed", "assignee": agent, "claimed_at": now_db()}

        def refuse(contract: Contract) -> InvalidTransition | None:
            if contract.state != ContractState.CLAIMED:
                return None
            who = f"{contract.assignee} (you)" if contract.assignee == agent else str(contract.assignee)
            return ClaimConflict(contract, "claim", f"contract #{contract.id} is already claimed by {who}")

        return self._change(contract_id, "claim", take, refuse)

    def complete(self, contract_id: int, note: str = "") -> Contract:
        note, masked = scrub("note", note.strip())

        def refuse(contract: Contract) -> InvalidTransition | None:
            if contract.state != ContractState.OPEN:
                return None
            return InvalidTransition(contract, "complete", (
                f"contract #{contract.id} is open: an agent claims it before it is completed "
                f"(quarterdeck contracts claim {contract.id} AGENT)"))

        done = self._change(contract_id, "complete",
                            lambda c: {"state": "done", "note": note, "finished_at": now_db()}, refuse)
        return dataclasses.replace(done, redacted=masked)

    def cancel(self, contract_id: int, note: str = "") -> Contract:
        note, masked = scrub("note", note.strip())
        cancelled = self._change(contract_id, "cancel",
                                 lambda c: {"state": "cancelled", "note": note or c.note, "finished_at": now_db()})
        return dataclasses.replace(cancelled, redacted=masked)

    def set_points(self, contract_id: int, points: int) -> Contract:
        points = check_points(points)
        return self._change(contract_id, "points", lambda c: {"points": points})

    def check_sendable(self, contract_id: int) -> Contract:
        """The contract if it can be sent to its assignee now, else a ContractError saying why not."""
        contract = self.get(contract_id)
        sendable(contract)
        return contract

    def mark_sent(self, contract_id: int, message_id: str) -> Contract:
        """Remember that ``message_id`` carried the contract to its assignee (shown as "sent at")."""
        return self._change(contract_id, "send", lambda c: {"sent_at": now_db(), "sent_message_id": message_id})

    def _change(self, contract_id: int, action: str, change: Change,
                refuse: Callable[[Contract], InvalidTransition | None] | None = None) -> Contract:
        conn = self._conn()
        with immediate(conn):
            current = self._get(conn, contract_id)
            if current.state not in ALLOWED_FROM[action]:
                raise (refuse(current) if refuse is not None else None) or InvalidTransition(current, action)
            values = {**change(current), "updated_at": now_db()}
            assignments = ", ".join(f"{column} = ?" for column in values)
            conn.execute(f"UPDATE contracts SET {assignments} WHERE id = ?", (*values.values(), contract_id))
            return self._get(conn, contract_id)


def sendable(contract: Contract) -> None:
    """Raise a ContractError unless the contract is active and has an agent to go to."""
    if not contract.active:
        raise InvalidTransition(contract, "send", f"contract #{contract.id} is {contract.state}: there is "
                                "nothing to send (only an open or claimed contract is sent)")
    if contract.assignee is None:
        raise ContractError(f"contract #{contract.id} is not assigned to anyone: assign it to an agent "
                            "before sending it")
