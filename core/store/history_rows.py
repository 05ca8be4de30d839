"""The history's row types: a delivery as the history lists it, a stored message, its attempts, and a
message with its deliveries (what ``quarterdeck history``, the History panel and ``message_detail`` read).

Apart from :mod:`quarterdeck.core.store.rows` (which still names them, loading this module when first
asked for one) so that a module that builds none of them, as sending does not, need not load them: each
frozen dataclass costs its class creation at import.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from quarterdeck.core.store.verdicts import Verdicted

if TYPE_CHECKING:  # rows names this module's types: importing it here would be a loop
    from quarterdeck.core.store.rows import DeliveryRow, State

__all__ = ["AttemptRow", "DeliveryDetail", "HistoryRow", "MessageDetail", "StoredMessage"]


@dataclass(frozen=True)
class AttemptRow:
    """One try at a delivery: when it started and finished, whether it worked, and the error if not."""

    delivery_id: int
    n: int
    started_at: datetime
    finished_at: datetime
    ok: bool
    error: str | None


@dataclass(frozen=True)
class StoredMessage:
    """A message as the outbox keeps it (``content`` redacted when ``redacted`` is true)."""

    id: str
    sender: str
    sender_kind: str
    type: str
    priority: str
    tags: tuple[str, ...]
    recipients: tuple[str, ...]
    content: str
    redacted: bool
    created_at: datetime


@dataclass(frozen=True)
class HistoryRow(Verdicted):
    """One line of the history view: a delivery joined with its message."""

    delivery_id: int
    message_id: str
    agent_id: str
    transport: str
    state: State
    reason: str | None
    attempts: int
    priority: str
    sender: str
    sender_kind: str
    type: str
    content: str
    redacted: bool
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    latency_ms: float | None
    verdict: str | None = None
    evidence: str | None = None
    machine: str | None = None  # the relay that typed it (issue 14); None: this machine


@dataclass(frozen=True)
class DeliveryDetail:
    """A delivery with its attempts."""

    delivery: DeliveryRow
    attempts: tuple[AttemptRow, ...]


@dataclass(frozen=True)
class MessageDetail:
    """A message with each of its deliveries."""

    message: StoredMessage
    deliveries: tuple[DeliveryDetail, ...]
