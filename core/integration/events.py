"""``CoordinationEventProcessor``: handlers per event type, each one a coordinated operation.

Every event is validated against its handler's rules (they see the payload's keys; a payload that
is not a mapping is seen as ``{"payload": value}``), handled with retries behind the handler's
breaker (operation ``event:<type>``) and measured. An event that is not handled (retries spent,
a permanent error, the breaker open, the payload invalid or no handler registered) is kept in the
dead-letter store instead of being lost, and ``replay`` hands it to the handler registered *now*,
so fixing the handler or its downstream and replaying is the recovery path. ``process`` never
raises for the handler's errors; the ``EventResult`` tells what happened.

Handlers are plain functions taking the payload. Coroutine functions are refused: events are
processed on the caller's thread, and replays come from the command line as well.

Metrics besides the operation's own: ``events_dead_lettered_total{event_type, reason}`` and
``events_replayed_total{event_type, outcome}`` (outcome ok or failed).
"""
from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quarterdeck.core.integration.deadletter import DeadLetterStore
from quarterdeck.core.integration.defaults import default_monitor
from quarterdeck.core.integration.operation import Operation, Outcome
from quarterdeck.core.integration.policy import ErrorConfig
from quarterdeck.core.integration.rules import FieldRules
from quarterdeck.core.integration.tracking import describe_error
from quarterdeck.core.monitor import Monitor
from quarterdeck.core.resilience import BreakerRegistry

__all__ = ["CoordinationEventProcessor", "EventResult", "NoHandler"]

log = logging.getLogger(__name__)

Handler = Callable[[Any], Any]


class NoHandler(LookupError):
    """No handler is registered for the event's type."""


@dataclass(frozen=True)
class EventResult:
    """``status`` is handled, replayed or dead_lettered; ``reason`` says why for the last one."""

    event_type: str
    status: str
    value: Any = None
    error: BaseException | None = None
    attempts: int = 0
    reason: str | None = None
    dead_letter_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("handled", "replayed")


class CoordinationEventProcessor:
    """``dead_letters`` is a store, a path to one, or None for the default file (opened on first need)."""

    def __init__(self, dead_letters: DeadLetterStore | Path | str | None = None, *,
                 error_config: ErrorConfig | Mapping[str, Any] | None = None,
                 monitor: Monitor | None = None, breakers: BreakerRegistry | None = None,
                 operation_prefix: str = "event:") -> None:
        self._store: DeadLetterStore | None = None
        self._store_path: Path | str | None = None
        if isinstance(dead_letters, DeadLetterStore):
            self._store = dead_letters
        else:
            self._store_path = dead_letters
        self._owns_store = self._store is None
        self._store_lock = threading.Lock()
        self.error_config = ErrorConfig.of(error_config)
        self.monitor = monitor if monitor is not None else default_monitor()
        self.breakers = breakers
        self.operation_prefix = operation_prefix
        self._handlers: dict[str, tuple[Handler, Operation]] = {}
        self._dead_lettered = self.monitor.counter(
            "events_dead_lettered", "Events kept for a replay, by type and reason.",
            ("event_type", "reason"))
        self._replayed = self.monitor.counter(
            "events_replayed", "Dead letters replayed, by type and outcome (ok, failed).",
            ("event_type", "outcome"))

    @property
    def dead_letters(self) -> DeadLetterStore:
        with self._store_lock:
            if self._store is None:
                self._store = DeadLetterStore(self._store_path)
            return self._store

    def close(self) -> None:
        """Close the dead-letter store if this processor opened it."""
        with self._store_lock:
            if self._store is not None and self._owns_store:
                self._store.close()
                self._store = None

    # -- handlers ------------------------------------------------------------------------------

    def register(self, event_type: str, handler: Handler, *,
                 rules: FieldRules | Mapping[str, Any] | None = None,
                 error_config: ErrorConfig | Mapping[str, Any] | None = None,
                 operation_name: str | None = None) -> Operation:
        if not event_type or not isinstance(event_type, str):
            raise ValueError("an event type is a non-empty string")
        if not callable(handler):
            raise TypeError(f"the handler for {event_type!r} is not callable")
        if inspect.iscoroutinefunction(handler):
            raise TypeError(f"the handler for {event_type!r} is a coroutine function; "
                            "event handlers are plain functions")
        if event_type in self._handlers:
            raise ValueError(f"{event_type!r} has a handler already")
        operation = Operation(
            operation_name or f"{self.operation_prefix}{event_type}", rules=rules,
            error_config=error_config if error_config is not None else self.error_config,
            monitor=self.monitor, breakers=self.breakers)
        self._handlers[event_type] = (handler, operation)
        return operation

    def handler(self, event_type: str, **options: Any) -> Callable[[Handler], Handler]:
        """``register`` as a decorator; the function is returned unchanged."""
        def decorate(fn: Handler) -> Handler:
            self.register(event_type, fn, **options)
            return fn

        return decorate

    def event_types(self) -> list[str]:
        return list(self._handlers)

    # -- processing ----------------------------------------------------------------------------

    def process(self, event_type: str, payload: Any, *, event_id: str | None = None) -> EventResult:
        outcome = self._handle(event_type, payload)
        if outcome.ok:
            return EventResult(event_type, "handled", outcome.value, attempts=outcome.attempts)
        reason = outcome.kind  # failed, rejected, invalid or no_handler
        entry = self.dead_letters.add(event_type, payload, reason=reason,
                                      error=describe_error(outcome.error),
                                      attempts=outcome.attempts, event_id=event_id)
        self._dead_lettered.labels(event_type, reason).inc()
        log.warning("event %s dead-lettered as #%d (%s): %s", event_type, entry, reason,
                    describe_error(outcome.error))
        return EventResult(event_type, "dead_lettered", None, outcome.error, outcome.attempts,
                           reason, entry)

    def process_event(self, event: Mapping[str, Any]) -> EventResult:
        """``process`` for ``{"type": ..., "payload" (or "data"): ..., "id": optional}``."""
        if "type" not in event:
            raise ValueError("an event mapping needs a 'type'")
        payload = event["payload"] if "payload" in event else event.get("data")
        event_id = event.get("id")
        return self.process(str(event["type"]), payload,
                            event_id=None if event_id is None else str(event_id))

    def replay(self, entry_id: int, *, store: DeadLetterStore | None = None) -> EventResult:
        """Process a dead letter again: deleted when handled, updated when it fails again."""
        store = store if store is not None else self.dead_letters
        entry = store.get(entry_id)
        if entry is None:
            raise KeyError(f"no dead letter #{entry_id}")
        outcome = self._handle(entry.event_type, entry.payload)
        if outcome.ok:
            store.remove(entry_id)
            self._replayed.labels(entry.event_type, "ok").inc()
            return EventResult(entry.event_type, "replayed", outcome.value, attempts=outcome.attempts,
                               dead_letter_id=entry_id)
        reason = outcome.kind  # failed, rejected, invalid or no_handler
        store.failed_again(entry_id, reason=reason, error=describe_error(outcome.error),
                           attempts=outcome.attempts)
        self._replayed.labels(entry.event_type, "failed").inc()
        return EventResult(entry.event_type, "dead_lettered", None, outcome.error, outcome.attempts,
                           reason, entry_id)

    def replay_all(self, *, event_type: str | None = None,
                   store: DeadLetterStore | None = None) -> list[EventResult]:
        """Replay every dead letter (of one type), oldest first."""
        store = store if store is not None else self.dead_letters
        return [self.replay(entry_id, store=store) for entry_id in store.ids(event_type=event_type)]

    def _handle(self, event_type: str, payload: Any) -> Outcome:
        registered = self._handlers.get(event_type)
        if registered is None:
            return Outcome("no_handler", error=NoHandler(f"no handler for event type {event_type!r}"))
        handler, operation = registered
        values = payload if isinstance(payload, Mapping) else {"payload": payload}
        return operation.run(lambda: handler(payload), values)
