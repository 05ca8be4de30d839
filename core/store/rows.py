"""What the store hands back: delivery states, frozen row types, errors and the time format.

The history's row types (``HistoryRow``, ``StoredMessage``, ``AttemptRow``, ``DeliveryDetail``,
``MessageDetail``) are in :mod:`quarterdeck.core.store.history_rows`, loaded when first named from here;
what a state and verdict say to people (``outcome``, ``Verdicted``) in :mod:`quarterdeck.core.store.verdicts`.

Times are stored as UTC epoch seconds (REAL): compact in the table and its time indexes, sorted
by value, exact to the microsecond on the way back (``datetime.fromtimestamp`` round-trips), and
readable in the ``sqlite3`` shell with ``datetime(created_at, 'unixepoch')``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from quarterdeck.core.models import MessageType, PartyKind, Priority
from quarterdeck.core.store.verdicts import CONFIRMED_LABEL as CONFIRMED_LABEL
from quarterdeck.core.store.verdicts import FAILURE_LABELS as FAILURE_LABELS
from quarterdeck.core.store.verdicts import Verdicted as Verdicted
from quarterdeck.core.store.verdicts import outcome as outcome

if TYPE_CHECKING:
    from quarterdeck.core.store.history_rows import AttemptRow as AttemptRow
    from quarterdeck.core.store.history_rows import DeliveryDetail as DeliveryDetail
    from quarterdeck.core.store.history_rows import HistoryRow as HistoryRow
    from quarterdeck.core.store.history_rows import MessageDetail as MessageDetail
    from quarterdeck.core.store.history_rows import StoredMessage as StoredMessage

# the history's row types live in history_rows (a send builds none of them); still named from here
_HISTORY_ROWS = frozenset({"AttemptRow", "DeliveryDetail", "HistoryRow", "MessageDetail", "StoredMessage"})


class State(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNCERTAIN = "uncertain"
    WAITING = "waiting"  # held until its agent is idle (``when_idle``), then queued
    EXPIRED = "expired"  # a waiting delivery whose agent was not idle before ``expires_at``


TERMINAL = frozenset({State.DELIVERED, State.FAILED, State.CANCELLED, State.UNCERTAIN, State.EXPIRED})
RETRYABLE = frozenset({State.FAILED, State.UNCERTAIN})


class StoreError(Exception):
    """Base class of everything the store raises on purpose."""


class UnknownDelivery(StoreError, LookupError):
    """No delivery has that id."""


class UnknownMessage(StoreError, LookupError):
    """No message has that id."""


class InvalidTransition(StoreError):
    """The delivery is not in a state the requested change may start from."""

    def __init__(self, delivery_id: int, current: str, wanted: str) -> None:
        super().__init__(f"delivery {delivery_id} is {current}; it cannot become {wanted}")
        self.delivery_id = delivery_id
        self.current = current
        self.wanted = wanted


def to_db_time(moment: datetime) -> float:
    """Epoch seconds. A naive datetime is taken as local time, as ``datetime.timestamp`` does."""
    return moment.timestamp()


def db_time(value: float) -> datetime:
    """A NOT NULL time column as an aware UTC datetime."""
    return datetime.fromtimestamp(value, UTC)


def from_db_time(value: float | None) -> datetime | None:
    """A nullable time column: None stays None."""
    if value is None:
        return None
    return db_time(value)


def now_db() -> float:
    return to_db_time(datetime.now(UTC))


@dataclass(frozen=True)
class StopMark:
    """The latest stop-all recorded in the file: ``generation`` counts them (0 before the first),
    ``cancelled`` is how many queued deliveries it cancelled, ``at`` when it was requested;
    ``resumed`` counts the resume-alls; the last one came after stop-all number ``resumed_after``,
    at ``resumed_at``."""

    generation: int
    cancelled: int = 0
    at: datetime | None = None
    resumed: int = 0
    resumed_after: int = 0
    resumed_at: datetime | None = None

    @property
    def resumed_since_stop(self) -> bool:
        """True when the last resume-all came after the last stop-all (by generation, not clock)."""
        return self.resumed > 0 and self.resumed_after >= self.generation


@dataclass(frozen=True)
class DeliveryRow(Verdicted):
    """One delivery of one message to one agent, as recorded."""

    id: int
    message_id: str
    agent_id: str
    transport: str
    priority: str
    state: State
    reason: str | None
    attempts: int
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    latency_ms: float | None
    final_text_hash: str | None
    retry_of: int | None
    verdict: str | None = None
    evidence: str | None = None
    machine: str | None = None  # the relay that typed it (issue 14); None: this machine


@dataclass(frozen=True)
class DeliveryTask:
    """A claimed delivery (now ``sending``) with everything needed to put it in front of the agent.

    ``content`` is the stored text; when ``redacted`` is true that is the redacted form.
    """

    delivery_id: int
    message_id: str
    agent_id: str
    transport: str
    priority: Priority
    sender: str
    sender_kind: PartyKind
    type: MessageType
    tags: tuple[str, ...]
    recipients: tuple[str, ...]
    content: str
    redacted: bool
    message_created_at: datetime
    retry_of: int | None


def __getattr__(name: str) -> Any:
    """The history's row types, from :mod:`quarterdeck.core.store.history_rows` when first asked for."""
    if name in _HISTORY_ROWS:
        from quarterdeck.core.store import history_rows

        return getattr(history_rows, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
