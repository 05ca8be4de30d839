"""The relay's own small file (``relay.sqlite`` in its data dir): which local deliveries came from the
captain, and the receipts not yet published.

``relayed_deliveries`` maps a captain's delivery (the captain's outbox id and its delivery id there)
to the relay's local delivery of that message to that agent. A row is written before the local
enqueue (``local_delivery`` still empty), so the delivery's first event finds it by message id and
agent; ``final`` is set once the receipt of its final state is recorded. The captain's delivery is
what makes an entry a repeat: the same one again is not typed again, while a new id for a message
already delivered (the captain sent it again) is a new delivery, and two captains (two outboxes on
one broker) number their deliveries each on its own without meeting here. ``unpublished`` holds
receipts in order until the broker takes them, so an outage (or a crash) loses none: they go when it
returns.
Thread-safe: one connection behind a lock (every call is short). A ledger written before captains
were told apart is moved over on open: its rows belong to the captain ``""``.

Durability: WAL with ``synchronous=NORMAL``: a killed relay loses nothing; a power cut of its
machine may lose the last moments' rows. Then a delivery queued locally has no captain delivery:
it is typed once and no receipt tells of it, so the captain turns it ``uncertain`` after
``relay_wait`` (never resent); an entry written again finds it as the local delivery no captain
delivery owns and types nothing twice. (An fsync here would be a second one per read of entries.)
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from quarterdeck.core.relay.protocol import Receipt
from quarterdeck.core.store.faults import from_sqlite

FILE_NAME = "relay.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS relayed_deliveries (
    captain TEXT NOT NULL DEFAULT '',
    captain_delivery INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    agent TEXT NOT NULL,
    local_delivery INTEGER UNIQUE,
    final INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (captain, captain_delivery)
);
CREATE INDEX IF NOT EXISTS relayed_by_message ON relayed_deliveries (message_id, agent);
CREATE INDEX IF NOT EXISTS relayed_open ON relayed_deliveries (final) WHERE final = 0;
CREATE TABLE IF NOT EXISTS unpublished (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    fields TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Relayed:
    captain_delivery: int
    message_id: str
    agent: str
    local_delivery: int | None
    captain: str = ""  # the captain's outbox id ("": one that gave none)

    @property
    def key(self) -> Key:
        return (self.captain, self.captain_delivery)


Key = tuple[str, int]  # a captain's delivery: (its outbox id, its delivery id there)
_COLUMNS = "captain_delivery, message_id, agent, local_delivery, captain"
_R_COLUMNS = "r.captain_delivery, r.message_id, r.agent, r.local_delivery, r.captain"
_FIELDS_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode  # json.dumps, built once
# the parts of one [captain, captain_delivery, message_id, agent] in a JSON list read with json_each
_CAPTAIN, _ID = "json_extract(value, '$[0]')", "json_extract(value, '$[1]')"
_MESSAGE, _AGENT = "json_extract(value, '$[2]')", "json_extract(value, '$[3]')"
# the rows of the [captain, captain_delivery, ...] in a JSON list (a join: a row-value IN would search by
# captain alone, every row of a captain for each one)
_GIVEN = (f"json_each(?) AS j JOIN relayed_deliveries AS r ON r.captain = {_CAPTAIN} "
          f"AND r.captain_delivery = {_ID}")
_V1_COLUMNS = "captain_delivery, message_id, agent, local_delivery, final"


def _relayed(row: tuple[object, ...]) -> Relayed:
    local = row[3]
    return Relayed(int(str(row[0])), str(row[1]), str(row[2]), None if local is None else int(str(local)),
                   str(row[4]))


def _key(receipt: Receipt) -> Key:
    return (receipt.captain, receipt.delivery)


def _captains_apart(conn: sqlite3.Connection) -> None:
    """Move a ledger written before captains were told apart (keyed by the delivery id alone) over."""
    def older() -> bool:
        columns = {str(row[1]) for row in conn.execute("PRAGMA table_info(relayed_deliveries)")}
        return bool(columns) and "captain" not in columns

    if not older():
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not older():  # another process on this ledger moved it meanwhile
            conn.execute("ROLLBACK")
            return
        conn.execute("DROP INDEX IF EXISTS relayed_by_message")
        conn.execute("DROP INDEX IF EXISTS relayed_open")
        conn.execute("ALTER TABLE relayed_deliveries RENAME TO relayed_v1")
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(f"INSERT INTO relayed_deliveries ({_V1_COLUMNS}) SELECT {_V1_COLUMNS} FROM relayed_v1")
        conn.execute("DROP TABLE relayed_v1")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class Ledger:
    """See the module docstring."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / FILE_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            _captains_apart(self._conn)
            self._conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:  # damaged, locked, read-only: said of this file (``quarterdeck doctor``)
            self._conn.close()
            raise (from_sqlite(exc, self.path) or exc) from exc

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def record(self, captain_delivery: int, message_id: str, agent: str, captain: str = "") -> Relayed:
        """Remember the captain's delivery (again is a no-op); returns its row as it stands.

        A delivery the ledger knows for another message whose business is done (its final receipt
        recorded) is a new delivery that happens to reuse the id (a captain whose outbox was started
        afresh under the same id): the old row gives way to it. One still in flight keeps its row."""
        return self.record_many([(captain, captain_delivery, message_id, agent)])[0]

    def record_many(self, deliveries: list[tuple[str, int, str, str]]) -> list[Relayed]:
        """``record`` for each ``(captain, captain_delivery, message_id, agent)``, in order, in one transaction."""
        with self._lock, self._transaction():
            if len({d[:2] for d in deliveries}) < len(deliveries):  # a delivery twice in one read: in order
                return [self._record(*delivery) for delivery in deliveries]
            given = json.dumps(deliveries)  # [[captain, captain_delivery, message_id, agent], ...]: three statements
            self._conn.execute(f"DELETE FROM relayed_deliveries WHERE rowid IN (SELECT r.rowid FROM {_GIVEN} "
                               f"WHERE r.final = 1 AND r.message_id != {_MESSAGE})", (given,))
            self._conn.execute("INSERT OR IGNORE INTO relayed_deliveries (captain, captain_delivery, message_id, "
                               f"agent) SELECT {_CAPTAIN}, {_ID}, {_MESSAGE}, {_AGENT} FROM json_each(?) ORDER BY key",
                               (given,))
            rows = self._conn.execute(f"SELECT {_R_COLUMNS} FROM {_GIVEN}", (given,)).fetchall()
        found = {(row.captain, row.captain_delivery): row for row in map(_relayed, rows)}
        return [found[(delivery[0], delivery[1])] for delivery in deliveries]

    def _record(self, captain: str, captain_delivery: int, message_id: str, agent: str) -> Relayed:
        self._conn.execute("DELETE FROM relayed_deliveries WHERE captain = ? AND captain_delivery = ? AND "
                           "message_id != ? AND final = 1", (captain, captain_delivery, message_id))
        self._conn.execute("INSERT OR IGNORE INTO relayed_deliveries (captain, captain_delivery, message_id, agent) "
                           "VALUES (?, ?, ?, ?)", (captain, captain_delivery, message_id, agent))
        row = self._conn.execute(f"SELECT {_COLUMNS} FROM relayed_deliveries WHERE captain = ? AND "
                                 "captain_delivery = ?", (captain, captain_delivery)).fetchone()
        return _relayed(row)

    def set_local(self, captain_delivery: int, local_delivery: int, captain: str = "") -> None:
        self.set_locals([((captain, captain_delivery), local_delivery)])

    def set_locals(self, pairs: list[tuple[Key, int]]) -> None:
        """Map each ``((captain, captain_delivery), local_delivery)``, in one transaction."""
        with self._lock, self._transaction():
            self._conn.executemany("UPDATE relayed_deliveries SET local_delivery = ? WHERE captain = ? AND "
                                   "captain_delivery = ?", [(local, key[0], key[1]) for key, local in pairs])

    def mapped_locals(self, message_id: str, agent: str) -> set[int]:
        """The local deliveries of ``message_id`` to ``agent`` that some captain delivery owns."""
        with self._lock:
            rows = self._conn.execute("SELECT local_delivery FROM relayed_deliveries WHERE message_id = ? AND "
                                      "agent = ? AND local_delivery IS NOT NULL", (message_id, agent)).fetchall()
        return {int(row[0]) for row in rows}

    def mapped_locals_of(self, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], set[int]]:
        """``mapped_locals`` of each (message id, agent), in one read."""
        messages = sorted({message for message, _ in pairs})
        with self._lock:
            rows = self._conn.execute("SELECT message_id, agent, local_delivery FROM relayed_deliveries WHERE "
                                      "message_id IN (SELECT value FROM json_each(?)) AND local_delivery IS NOT NULL",
                                      (json.dumps(messages),)).fetchall()
        found: dict[tuple[str, str], set[int]] = {}
        for message, agent, local in rows:
            if (message, agent) in pairs:
                found.setdefault((message, agent), set()).add(int(local))
        return found

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction on the ledger's connection (the caller holds the lock)."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def for_event(self, local_delivery: int, message_id: str, agent: str) -> Relayed | None:
        """The captain's delivery a local delivery's event belongs to: the one mapped to it, else the
        one of that message and agent being queued right now (its local id not written yet)."""
        return self.for_events([(local_delivery, message_id, agent)])[0]

    def for_events(self, events: list[tuple[int, str, str]]) -> list[Relayed | None]:
        """``for_event`` of each ``(local_delivery, message_id, agent)``, in order: one read for those mapped."""
        with self._lock:
            rows = self._conn.execute(f"SELECT {_COLUMNS} FROM relayed_deliveries WHERE local_delivery IN "
                                      "(SELECT value FROM json_each(?))",
                                      (json.dumps(sorted({e[0] for e in events})),)).fetchall()
            mapped = {int(row[3]): _relayed(row) for row in rows}
            found: list[Relayed | None] = []
            for local, message_id, agent in events:
                relayed = mapped.get(local)
                if relayed is None:
                    row = self._conn.execute(f"SELECT {_COLUMNS} FROM relayed_deliveries WHERE message_id = ? AND "
                                             "agent = ? AND local_delivery IS NULL", (message_id, agent)).fetchone()
                    relayed = None if row is None else _relayed(row)
                found.append(relayed)
        return found

    def open_deliveries(self) -> list[Relayed]:
        """Relayed deliveries queued locally whose final receipt is not recorded yet."""
        with self._lock:
            rows = self._conn.execute(f"SELECT {_COLUMNS} FROM relayed_deliveries WHERE final = 0 "
                                      "AND local_delivery IS NOT NULL").fetchall()
        return [_relayed(row) for row in rows]

    def add_receipt(self, receipt: Receipt, *, final: bool, again: bool = False) -> bool:
        """Queue ``receipt`` for publishing; ``final`` closes the delivery. False (nothing queued)
        when its final receipt was recorded already, unless ``again`` (it is told once more)."""
        with self._lock, self._transaction():
            return self._add(receipt, final, again)

    def add_receipts(self, receipts: list[tuple[Receipt, bool]]) -> int:
        """``add_receipt`` of each ``(receipt, final)``, in order, in one transaction; returns how many
        were queued."""
        if not receipts:
            return 0
        with self._lock, self._transaction():
            if len({_key(receipt) for receipt, _ in receipts}) < len(receipts):  # one after another, in order
                return sum(self._add(receipt, final, False) for receipt, final in receipts)
            closed = {(str(row[0]), int(row[1])) for row in self._conn.execute(
                f"SELECT r.captain, r.captain_delivery FROM {_GIVEN} WHERE r.final = 1",
                (json.dumps([_key(receipt) for receipt, _ in receipts]),))}
            queued = [(receipt, final) for receipt, final in receipts if _key(receipt) not in closed]
            self._conn.executemany("INSERT INTO unpublished (fields) VALUES (?)",
                                   [(_FIELDS_JSON(receipt.to_fields()),) for receipt, _ in queued])
            self._conn.executemany("UPDATE relayed_deliveries SET final = 1 WHERE captain = ? AND captain_delivery = ?",
                                   [_key(receipt) for receipt, final in queued if final])
            return len(queued)

    def _add(self, receipt: Receipt, final: bool, again: bool) -> bool:
        fields = _FIELDS_JSON(receipt.to_fields())
        if again:
            self._conn.execute("INSERT INTO unpublished (fields) VALUES (?)", (fields,))
        elif self._conn.execute("INSERT INTO unpublished (fields) SELECT ? WHERE NOT EXISTS (SELECT 1 FROM "
                                "relayed_deliveries WHERE captain = ? AND captain_delivery = ? AND final = 1)",
                                (fields, *_key(receipt))).rowcount != 1:
            return False
        if final:
            self._conn.execute("UPDATE relayed_deliveries SET final = 1 WHERE captain = ? AND captain_delivery = ?",
                               _key(receipt))
        return True

    def unpublished(self, limit: int = 200) -> list[tuple[int, dict[str, str]]]:
        """The oldest receipts not yet published, as ``(seq, fields)``."""
        with self._lock:
            rows = self._conn.execute("SELECT seq, fields FROM unpublished ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [(int(seq), dict(json.loads(fields))) for seq, fields in rows]

    def published(self, up_to: int) -> None:
        """The receipts up to ``up_to`` (a seq) went out, in order."""
        with self._lock:
            self._conn.execute("DELETE FROM unpublished WHERE seq <= ?", (up_to,))

    def unpublished_count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM unpublished").fetchone()[0])
