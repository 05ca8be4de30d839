"""Running the watchers on a schedule and recording what they see.

One process per data folder watches (the panel, or ``quarterdeck agents watch`` when no panel
runs): :class:`WatchLock` is an exclusive ``flock`` on ``watch.lock`` in the data folder, so two
processes never sample the same panes twice and never record the same change twice. Everyone
else reads the recorded events.

:class:`WatchService` asks each watcher for the agents whose seen state changed (the watchers only
report changes) and records those events the way a hook does (``record``: the table, or the spool
file when the database is busy). A watcher that fails is logged once per kind of failure and
skipped for that tick; the others go on.

Each tick it also looks at the prompts the agents' hooks reported in the last
:data:`CONFIRM_WITHIN_S` and upgrades the deliveries they confirm
(:func:`quarterdeck.core.activity.confirm.confirm_deliveries`, which is idempotent; a prompt that
arrived before its delivery finished is matched on a later tick). Once an hour it prunes old
events (:func:`quarterdeck.core.activity.journal.prune`).
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from quarterdeck.core.activity.events import ActivityEvent
from quarterdeck.core.activity.record import DB_FILE_NAME, record
from quarterdeck.core.paths import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE

try:
    import fcntl
except ImportError:  # Windows: one watcher per folder is then the user's business
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

LOCK_NAME = "watch.lock"
INTERVAL_S = 1.0
PRUNE_EVERY_S = 3600.0
CONFIRM_WITHIN_S = 180.0  # a prompt is matched against deliveries for this long after it was reported

_PROMPTS = "FROM agent_events WHERE kind = 'prompt_submitted' AND at >= ? ORDER BY at, seq"


class Watcher(Protocol):
    def sample(self, now: float) -> list[ActivityEvent]: ...


class WatchLock:
    """The right to watch for one data folder, held until :meth:`release` or the process ends."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    def claim(self) -> bool:
        """Take the lock if free; True when this process now watches."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                return False
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return True

    def holder(self) -> int | None:
        """The pid written by the process that watches, when one does and said so."""
        try:
            text = self.path.read_text().strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


@dataclass
class WatchService:
    """Samples every watcher each ``interval`` seconds and records the changes in ``data_dir``."""

    data_dir: Path
    watchers: Sequence[Watcher]
    interval: float = INTERVAL_S
    on_events: Callable[[list[ActivityEvent]], None] | None = None
    on_confirmed: Callable[[list[int]], None] | None = None  # delivery ids the agents' hooks confirmed
    _failed: set[str] = field(default_factory=set)
    _pruned_at: float = 0.0

    def tick(self, now: float | None = None) -> list[ActivityEvent]:
        """One round: sample, record, report. Returns the events recorded."""
        moment = time.time() if now is None else now
        events: list[ActivityEvent] = []
        for watcher in self.watchers:
            try:
                events.extend(watcher.sample(moment))
            except Exception as exc:  # one broken watcher must not stop the others
                what = f"{type(watcher).__name__}: {type(exc).__name__}"
                if what not in self._failed:
                    self._failed.add(what)
                    log.warning("watching failed (%s): %s", what, exc)
        for event in events:
            try:
                record(self.data_dir, event)
            except OSError as exc:
                log.warning("a seen event for %s could not be recorded: %s", event.agent_id, exc)
        if events and self.on_events is not None:
            self.on_events(events)
        self._upkeep(moment)
        return events

    def _upkeep(self, now: float) -> None:
        """Confirm deliveries from the prompts just reported; prune once an hour."""
        from quarterdeck.core.activity.confirm import confirm_deliveries
        from quarterdeck.core.activity.journal import FIELDS, event_of, prune
        from quarterdeck.core.store.db import connect

        db = self.data_dir / DB_FILE_NAME
        if not db.is_file():
            return
        try:
            conn = connect(db)
            try:
                prompts = [event_of(r) for r in conn.execute(f"SELECT {FIELDS} {_PROMPTS}", (now - CONFIRM_WITHIN_S,))]
                confirmed = confirm_deliveries(conn, prompts, now) if prompts else []
                gone = 0
                if now - self._pruned_at >= PRUNE_EVERY_S:
                    self._pruned_at = now
                    gone = prune(conn, now)
            finally:
                conn.close()
        except (sqlite3.Error, OSError) as exc:
            log.info("agent events not looked after this tick: %s", exc)
            return
        if confirmed:
            log.info("confirmed by the agent: delivery %s", ", ".join(map(str, confirmed)))
            if self.on_confirmed is not None:
                self.on_confirmed(confirmed)
        if gone:
            log.info("pruned %d old agent event(s)", gone)

    def run(self, stop: threading.Event) -> None:
        """Tick until ``stop`` is set, keeping to the interval (a slow tick shortens the wait);
        then close the watchers that hold a connection (on this thread, which used it)."""
        try:
            while not stop.is_set():
                started = time.monotonic()
                self.tick()
                stop.wait(max(0.0, self.interval - (time.monotonic() - started)))
        finally:
            self.close()

    def close(self) -> None:
        for watcher in self.watchers:
            close = getattr(watcher, "close", None)
            if callable(close):
                try:
                    close()
                except Exception as exc:  # closing a dead connection must not mask the stop
                    log.debug("closing %s: %s", type(watcher).__name__, exc)
