"""Durable outbox and history in ``<data dir>/quarterdeck.sqlite3`` (SQLite, WAL).

Open one :class:`Store` per process; threads share it (each gets its own connection). Call
:meth:`Store.recover` at start-up and whenever a delivery looks stuck in ``sending``.

The names below are loaded from their modules when first used (module ``__getattr__``), so importing
one of them (``quarterdeck send`` needs the outbox, not the history's search) loads only its module.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_ROWS = ("AttemptRow", "DeliveryDetail", "DeliveryRow", "DeliveryTask", "HistoryRow", "InvalidTransition",
         "MessageDetail", "State", "StopMark", "StoredMessage", "StoreError", "UnknownDelivery", "UnknownMessage")
_WHERE = {"DB_FILE_NAME": "db", "default_db_path": "db", "count": "history", "message_detail": "history",
          "search": "history", "Store": "outbox", "SCHEMA_VERSION": "schema", **dict.fromkeys(_ROWS, "rows")}

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


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # found at once from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
