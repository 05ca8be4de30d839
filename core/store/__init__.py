"""Durable outbox and history in ``<data dir>/quarterdeck.sqlite3`` (SQLite, WAL).

Open one :class:`Store` per process; threads share it (each gets its own connection). Call
:meth:`Store.recover` at start-up and whenever a delivery looks stuck in ``sending``.
"""
from quarterdeck.core.store.db import DB_FILE_NAME, default_db_path
from quarterdeck.core.store.history import count, message_detail, search
from quarterdeck.core.store.outbox import Store
from quarterdeck.core.store.rows import (
    AttemptRow,
    DeliveryDetail,
    DeliveryRow,
    DeliveryTask,
    HistoryRow,
    InvalidTransition,
    MessageDetail,
    State,
    StopMark,
    StoredMessage,
    StoreError,
    UnknownDelivery,
    UnknownMessage,
)
from quarterdeck.core.store.schema import SCHEMA_VERSION

__all__ = [
    "DB_FILE_NAME",
    "SCHEMA_VERSION",
    "AttemptRow",
    "DeliveryDetail",
    "DeliveryRow",
    "DeliveryTask",
    "HistoryRow",
    "InvalidTransition",
    "MessageDetail",
    "State",
    "StopMark",
    "Store",
    "StoreError",
    "StoredMessage",
    "UnknownDelivery",
    "UnknownMessage",
    "count",
    "default_db_path",
    "message_detail",
    "search",
]
