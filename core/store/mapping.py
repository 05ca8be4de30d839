"""SQL column lists and the conversions from ``sqlite3.Row`` to the frozen row types. The history's row
types (``quarterdeck.core.store.history_rows``) are loaded by the functions that build them: the
outbox's sending path builds none of them and need not load their classes."""
from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

from quarterdeck.core.store.rows import DeliveryRow, DeliveryTask, State, db_time, from_db_time

if TYPE_CHECKING:
    from quarterdeck.core.store.history_rows import AttemptRow, HistoryRow, StoredMessage

DELIVERY_COLUMNS = (
    "d.id, d.message_id, d.agent_id, d.transport, d.priority, d.state, d.reason, d.attempts, "
    "d.created_at, d.updated_at, d.started_at, d.finished_at, d.latency_ms, d.final_text_hash, "
    "d.retry_of, d.verdict, d.evidence, d.machine"
)
MESSAGE_COLUMNS = (
    "m.id, m.sender, m.sender_kind, m.type, m.priority, m.tags, m.recipients, m.content, "
    "m.redacted, m.created_at"
)
TASK_SELECT = (
    "SELECT d.id AS delivery_id, d.message_id, d.agent_id, d.transport, d.priority, d.retry_of, "
    "m.sender, m.sender_kind, m.type, m.tags, m.recipients, m.content, m.redacted, "
    "m.created_at AS message_created_at "
    "FROM deliveries d JOIN messages m ON m.id = d.message_id"
)
HISTORY_COLUMNS = (
    "d.id AS delivery_id, d.message_id, d.agent_id, d.transport, d.state, d.reason, d.attempts, "
    "d.priority, m.sender, m.sender_kind, m.type, m.content, m.redacted, d.created_at, "
    "d.updated_at, d.finished_at, d.latency_ms, d.verdict, d.evidence, d.machine"
)


def _strings(text: str) -> tuple[str, ...]:
    return tuple(str(item) for item in json.loads(text))


def delivery_from_row(row: sqlite3.Row) -> DeliveryRow:
    return DeliveryRow(
        id=row["id"],
        message_id=row["message_id"],
        agent_id=row["agent_id"],
        transport=row["transport"],
        priority=row["priority"],
        state=State(row["state"]),
        reason=row["reason"],
        attempts=row["attempts"],
        created_at=db_time(row["created_at"]),
        updated_at=db_time(row["updated_at"]),
        started_at=from_db_time(row["started_at"]),
        finished_at=from_db_time(row["finished_at"]),
        latency_ms=row["latency_ms"],
        final_text_hash=row["final_text_hash"],
        retry_of=row["retry_of"],
        verdict=row["verdict"],
        evidence=row["evidence"],
        machine=row["machine"],
    )


def task_from_row(row: sqlite3.Row) -> DeliveryTask:
    return DeliveryTask(
        delivery_id=row["delivery_id"],
        message_id=row["message_id"],
        agent_id=row["agent_id"],
        transport=row["transport"],
        priority=row["priority"],
        sender=row["sender"],
        sender_kind=row["sender_kind"],
        type=row["type"],
        tags=_strings(row["tags"]),
        recipients=_strings(row["recipients"]),
        content=row["content"],
        redacted=bool(row["redacted"]),
        message_created_at=db_time(row["message_created_at"]),
        retry_of=row["retry_of"],
    )


def message_from_row(row: sqlite3.Row) -> StoredMessage:
    from quarterdeck.core.store.history_rows import StoredMessage

    return StoredMessage(
        id=row["id"],
        sender=row["sender"],
        sender_kind=row["sender_kind"],
        type=row["type"],
        priority=row["priority"],
        tags=_strings(row["tags"]),
        recipients=_strings(row["recipients"]),
        content=row["content"],
        redacted=bool(row["redacted"]),
        created_at=db_time(row["created_at"]),
    )


def attempt_from_row(row: sqlite3.Row) -> AttemptRow:
    from quarterdeck.core.store.history_rows import AttemptRow

    return AttemptRow(
        delivery_id=row["delivery_id"],
        n=row["n"],
        started_at=db_time(row["started_at"]),
        finished_at=db_time(row["finished_at"]),
        ok=bool(row["ok"]),
        error=row["error"],
    )


def history_from_row(row: sqlite3.Row) -> HistoryRow:
    from quarterdeck.core.store.history_rows import HistoryRow

    return HistoryRow(
        delivery_id=row["delivery_id"],
        message_id=row["message_id"],
        agent_id=row["agent_id"],
        transport=row["transport"],
        state=State(row["state"]),
        reason=row["reason"],
        attempts=row["attempts"],
        priority=row["priority"],
        sender=row["sender"],
        sender_kind=row["sender_kind"],
        type=row["type"],
        content=row["content"],
        redacted=bool(row["redacted"]),
        created_at=db_time(row["created_at"]),
        updated_at=db_time(row["updated_at"]),
        finished_at=from_db_time(row["finished_at"]),
        latency_ms=row["latency_ms"],
        verdict=row["verdict"],
        evidence=row["evidence"],
        machine=row["machine"],
    )
