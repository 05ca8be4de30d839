"""What the Dead letters panel asks of the store, as plain functions its background jobs run.

Nothing here touches Qt and everything here blocks (SQLite, imports), so the panel only ever
calls it through ``ctx.jobs``. The store is opened on first need and, like ``quarterdeck
deadletter list``, never created just to be looked at: no file means no dead letters.

Replays need the user's handlers, so the processor is loaded from ``MODULE:ATTR`` with the CLI's
own loader. A module that is already imported is reloaded first: the recovery path is "fix the
handler, replay again", and a long-running panel would otherwise keep replaying the old code.
"""
from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from quarterdeck.core.integration.deadletter import DeadLetter, DeadLetterStore
from quarterdeck.core.integration.defaults import default_dead_letter_path
from quarterdeck.core.integration.processors import ProcessorSpecError, load_event_processor
from quarterdeck.core.integration.tracking import describe_error

if TYPE_CHECKING:  # annotations only
    from quarterdeck.core.integration.events import CoordinationEventProcessor

SPEC_HINT = "give the processor as MODULE:ATTR, e.g. myapp.events:processor"


class ProcessorError(Exception):
    """The processor named could not be loaded; the message says why in the captain's words."""


def check_spec(spec: str) -> str | None:
    """What is wrong with the form of ``spec`` (cheap, no import), or None."""
    module_name, sep, attr = spec.strip().partition(":")
    if not spec.strip():
        return f"No processor: {SPEC_HINT}."
    if not sep or not module_name or not attr:
        return f"Processor {spec.strip()!r} is not MODULE:ATTR: {SPEC_HINT}."
    return None


def load(spec: str) -> CoordinationEventProcessor:
    """The ``CoordinationEventProcessor`` that ``spec`` names, its module freshly (re)loaded."""
    spec = spec.strip()
    problem = check_spec(spec)
    if problem is not None:
        raise ProcessorError(problem)
    module_name = spec.partition(":")[0]
    try:
        loaded = sys.modules.get(module_name)
        if loaded is not None:
            importlib.reload(loaded)
        return load_event_processor(spec)
    except ProcessorSpecError as exc:
        raise ProcessorError(f"Processor {exc}") from exc
    except Exception as exc:  # the user's module failed while importing: show, never crash
        raise ProcessorError(f"Processor {spec!r} cannot be loaded: {describe_error(exc)}") from exc


@dataclass
class ReplayReport:
    """What one replay request did: ids handled, ids that failed again (with the new error)."""

    replayed: list[int] = field(default_factory=list)
    failed: list[tuple[int, str, str]] = field(default_factory=list)  # id, event type, error
    gone: list[int] = field(default_factory=list)  # removed meanwhile (another replay, a purge)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        if not (self.replayed or self.failed or self.gone):
            return "Nothing to replay."
        parts = [f"{len(self.replayed)} replayed"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed again")
        if self.gone:
            parts.append(f"{len(self.gone)} already gone")
        text = ", ".join(parts) + "."
        if self.failed:
            entry_id, event_type, error = self.failed[0]
            text += f" #{entry_id} {event_type}: {error}"
            if len(self.failed) > 1:
                text += f" (and {len(self.failed) - 1} more; see the table)"
        return text


class DeadLetterAccess:
    """The panel's handle on one dead-letter file; use it from one background thread only."""

    def __init__(self, path: Path | str | None = None) -> None:
        self._path = Path(path) if path is not None else None
        self._store: DeadLetterStore | None = None

    @property
    def path(self) -> Path:
        if self._path is None:
            self._path = default_dead_letter_path()
        return self._path

    def _open(self) -> DeadLetterStore | None:
        if self._store is None and self.path.is_file():
            self._store = DeadLetterStore(self.path)
        return self._store

    def entries(self) -> list[DeadLetter]:
        store = self._open()
        return [] if store is None else store.list()

    def replay(self, spec: str, ids: list[int] | None = None) -> ReplayReport:
        """Replay ``ids`` (None: every entry, oldest first) with the processor ``spec`` names."""
        processor = load(spec)
        report = ReplayReport()
        store = self._open()
        if store is None:
            report.gone.extend(ids or [])
            return report
        for entry_id in store.ids() if ids is None else ids:
            try:
                result = processor.replay(entry_id, store=store)
            except KeyError:
                report.gone.append(entry_id)
                continue
            if result.ok:
                report.replayed.append(entry_id)
            else:
                entry = store.get(entry_id)
                error = entry.error if entry is not None else describe_error(result.error)
                report.failed.append((entry_id, result.event_type, error))
        return report

    def purge(self) -> int:
        store = self._open()
        return 0 if store is None else store.purge()

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
