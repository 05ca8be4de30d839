"""The kinds of step a schema migration takes (:mod:`quarterdeck.core.store.schema`), and how each runs:
a statement, a widened CHECK list (:class:`Widen`), an object only the history needs (:class:`HistoryOnly`).
"""
from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from quarterdeck.core.store.rows import StoreError


@dataclass(frozen=True)
class Widen:
    """Replace ``old`` by ``new`` in ``table``'s CREATE statement, where ``new`` only admits more
    (a value added to a CHECK's IN list). Every stored row stays valid, so the file's pages are
    untouched: SQLite's documented in-place schema edit (``writable_schema``, then a schema
    version bump so every open connection re-reads it) does it without copying a table that may
    hold millions of rows and is referenced by foreign keys."""

    table: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryOnly:
    """``sql`` creates ``name``, an object only the history's queries use (its time-ordered listings, its
    text search): a delivery queue's file leaves it out (see :mod:`quarterdeck.core.store.schema`), a full open adds it
    when missing, then runs ``fill`` (once per distinct text) to index the rows already there."""

    name: str
    sql: str
    fill: str = ""


Step = str | Widen | HistoryOnly


def add_history(conn: sqlite3.Connection, migrations: Sequence[Sequence[Step]]) -> None:
    """Create the :class:`HistoryOnly` objects the file lacks (a queue's file), then fill them."""
    have = {str(row[0]) for row in conn.execute("SELECT name FROM sqlite_schema")}
    missing = [step for version in migrations for step in version
               if isinstance(step, HistoryOnly) and step.name not in have]
    for step in missing:
        execute(conn, step)
    for fill in dict.fromkeys(step.fill for step in missing if step.fill):
        conn.execute(fill)


def _widen(conn: sqlite3.Connection, step: Widen) -> None:
    found = conn.execute("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?", (step.table,)).fetchone()
    if found is None or str(found[0]).count(step.old) != 1:
        raise StoreError(f"the history database's table {step.table} is not as this Quarterdeck expects; "
                         "run 'quarterdeck doctor' or use another --data-dir")
    version = int(conn.execute("PRAGMA schema_version").fetchone()[0])
    conn.execute("PRAGMA writable_schema = ON")
    try:
        conn.execute("UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = ?",
                     (str(found[0]).replace(step.old, step.new), step.table))
        conn.execute(f"PRAGMA schema_version = {version + 1:d}")
    finally:
        conn.execute("PRAGMA writable_schema = OFF")


def execute(conn: sqlite3.Connection, statement: Step) -> None:
    """Run one step; SQLite without FTS5's trigram tokenizer is said in one line."""
    if isinstance(statement, Widen):
        _widen(conn, statement)
        return
    try:
        conn.execute(statement.sql if isinstance(statement, HistoryOnly) else statement)
    except sqlite3.OperationalError as exc:
        if "fts5" in str(exc) or "tokenizer" in str(exc):
            raise StoreError(
                f"this Python's SQLite {sqlite3.sqlite_version} lacks FTS5 with the trigram "
                f"tokenizer (SQLite 3.34 or later): {exc}"
            ) from exc
        raise
