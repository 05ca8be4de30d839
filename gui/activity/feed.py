"""The panel's live view of what each agent is doing, from the events its hooks and watchers record.

``ActivityFeed`` looks at the data folder's ``agent_events`` every ``POLL_MS`` (one cheap ``SELECT
max(seq)``, and whether the hook left a spool file) on the context's background runner; the UI
thread never waits for SQLite. When something changed, when the roster did, and every
``REFRESH_MS`` anyway (states age: a working agent silent for long turns stalled, and since-when
counts up), it recomputes every roster agent's activity with
:func:`quarterdeck.core.activity.journal.activities` and emits ``sig_activities`` with the dict
(agent id -> :class:`~quarterdeck.core.activity.state.Activity`) and the time it is for. A hook
event thus reaches the panels within ``POLL_MS`` and the few milliseconds a look takes.

One feed per context: :func:`feed_for` makes it on first use (parented to the context) and the
roster and the Attention panel share it. It stops when the context's runner has shut down.
"""
from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from quarterdeck.core.activity.record import SPOOL_NAME
from quarterdeck.core.activity.state import Activity

if TYPE_CHECKING:
    from quarterdeck.core.store import Store
    from quarterdeck.gui.context import AppContext
    from quarterdeck.gui.jobs import Jobs

log = logging.getLogger(__name__)

POLL_MS = 200
REFRESH_MS = 1000
NAME = "activity-feed"
Look = tuple[int | None, bool]  # (newest seq, a spool file waits)


class ActivityFeed(QObject):
    """See the module docstring. ``ids()`` names the agents (the roster's, in order)."""

    sig_activities = Signal(object, float)  # dict[str, Activity], the time (epoch seconds) it is for
    sig_problem = Signal(str)  # a look failed (once per different failure); the feed keeps looking

    def __init__(self, store: Store, jobs: Jobs, ids: Callable[[], list[str]], parent: QObject | None = None, *,
                 poll_ms: int = POLL_MS, refresh_ms: int = REFRESH_MS,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(parent)
        self.setObjectName(NAME)
        self._store, self._jobs, self._ids, self._clock = store, jobs, ids, clock
        self.data_dir: Path = store.path.parent
        self.refresh_s = refresh_ms / 1000
        self.latest: dict[str, Activity] = {}
        self.latest_at: float | None = None
        self._seen: Look | None = None
        self._asked_ids: tuple[str, ...] | None = None
        self._computed_at = 0.0
        self._busy = False
        self._problem = ""
        self.looks = 0  # for tests and the bench: looks taken so far
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self.poll)

    # -- lifetime --------------------------------------------------------------------------------
    def start(self) -> None:
        if not self._timer.isActive():
            self._timer.start()
            self.poll()

    def stop(self) -> None:
        self._timer.stop()

    def refresh(self) -> None:
        """Recompute at the next look, changed or not (the roster changed)."""
        self._computed_at = 0.0
        self.poll()

    # -- looking ---------------------------------------------------------------------------------
    @Slot()
    def poll(self) -> None:
        if self._busy and self._jobs.pending:  # (busy with nothing pending: the runner dropped it)
            return
        ids = tuple(self._ids())
        due = ids != self._asked_ids or time.monotonic() - self._computed_at >= self.refresh_s
        seen, data_dir, store, clock = self._seen, self.data_dir, self._store, self._clock

        def look() -> tuple[Look, tuple[dict[str, Activity], float] | None]:
            now_seen = _look(store, data_dir)
            if not due and now_seen == seen:
                return now_seen, None
            from quarterdeck.core.activity.journal import activities

            now = clock()
            return now_seen, (activities(data_dir, list(ids), now=now), now)

        self._busy = True
        try:
            self._jobs.run(look, lambda result: self._looked(ids, result), self._failed, owner=self)
        except RuntimeError:  # the runner has shut down: the window is closing
            self._busy = False
            self.stop()

    def _looked(self, ids: tuple[str, ...], result: tuple[Look, tuple[dict[str, Activity], float] | None]) -> None:
        self._busy = False
        self.looks += 1
        seen, computed = result
        if computed is None:
            return
        # a look that spooled events takes them in: look again next time, the file is gone
        self._seen = seen if not seen[1] else None
        self._asked_ids, self._computed_at = ids, time.monotonic()
        self._problem = ""
        self.latest, self.latest_at = computed
        self.sig_activities.emit(*computed)

    def _failed(self, error: BaseException) -> None:
        self._busy = False
        text = f"Agent activity cannot be read: {error}"
        if text != self._problem:
            self._problem = text
            log.warning("%s", text)
            self.sig_problem.emit(text)


def _look(store: Store, data_dir: Path) -> Look:
    """The newest event's number and whether a spool file waits (run on the runner's thread)."""
    try:
        row = store.connection().execute("SELECT max(seq) FROM agent_events").fetchone()
    except sqlite3.OperationalError:  # an older table (no agent_events yet): nothing to show
        row = None
    return (row[0] if row is not None else None), (data_dir / SPOOL_NAME).exists()


def feed_for(ctx: AppContext) -> ActivityFeed:
    """The context's one feed, made and started on first use."""
    feed = ctx.findChild(ActivityFeed, NAME)
    if feed is None:
        feed = ActivityFeed(ctx.store, ctx.jobs, lambda: ctx.roster.ids(), ctx)
        ctx.sig_roster_changed.connect(lambda _roster: feed.refresh())
        feed.start()
    return feed
