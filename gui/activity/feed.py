"""The panel's live view of what each agent is doing, from the events its hooks and watchers record.

``ActivityFeed`` looks at the data folder's ``agent_events`` every ``POLL_MS`` on the context's
background runner (the UI thread never waits for SQLite): one cheap ``SELECT max(seq)``, whether
the hook left a spool file, and the new rows when there are any (:class:`EventTail`, which keeps
each agent's latest events as :func:`quarterdeck.core.activity.journal.load_events` would read
them, without its whole-table query every time). When something changed, when the roster did,
and every ``REFRESH_MS`` anyway (states age: a working agent silent for long turns stalled, and
since-when counts up), it recomputes every roster agent's activity as
:func:`quarterdeck.core.activity.journal.activities` does (``tracks.reduce`` over those events at
now) and emits ``sig_activities`` with the dict (agent id ->
:class:`~quarterdeck.core.activity.state.Activity`) and the time it is for. A hook event thus
reaches the panels within ``POLL_MS`` and the milliseconds a look takes; sooner in practice: a
write to the database's WAL file (a ``QFileSystemWatcher``, inotify on Linux) asks for a look
``SOON_MS`` later, and a change met while a look runs gets another look right after it.

One feed per context: :func:`feed_for` makes it on first use (parented to the context) and the
roster and the Attention panel share it. It stops when the context's runner has shut down.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal, Slot

from quarterdeck.core.activity.state import Activity
from quarterdeck.gui.activity.tail import EventTail

if TYPE_CHECKING:
    from quarterdeck.core.store import Store
    from quarterdeck.gui.context import AppContext
    from quarterdeck.gui.jobs import Jobs

log = logging.getLogger(__name__)

POLL_MS = 200
REFRESH_MS = 1000
SOON_MS = 15  # after a write to the WAL file: writes in a burst make one look
BACKOFF_MS = 5000  # after a failed look (a damaged or locked database): look this seldom until one works
NAME = "activity-feed"


class ActivityFeed(QObject):
    """See the module docstring. ``ids()`` names the agents (the roster's, in order)."""

    sig_activities = Signal(object, float)  # dict[str, Activity], the time (epoch seconds) it is for
    sig_problem = Signal(str)  # a look failed (once per different failure); the feed keeps looking, slower

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
        self.tail = EventTail(self.data_dir)  # used on the runner's thread only
        self._asked_ids: tuple[str, ...] | None = None
        self._computed_at = 0.0
        self._busy = False
        self._problem = ""
        self.looks = 0  # for tests and the bench: looks taken so far
        self._timer = QTimer(self)
        self.poll_ms = poll_ms
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self.poll)
        self._again = False  # something was written while a look ran: look again after it
        self._wal = store.path.with_name(store.path.name + "-wal")
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(SOON_MS)
        self._soon.timeout.connect(self.poll)
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._on_watcher_file_changed)

    # -- lifetime --------------------------------------------------------------------------------
    def start(self) -> None:
        if not self._timer.isActive():
            self._timer.start()
            self.poll()

    def stop(self) -> None:
        self._timer.stop()
        self._soon.stop()
        if self._watcher.files():
            self._watcher.removePaths(self._watcher.files())

    def refresh(self) -> None:
        """Recompute at the next look, changed or not (the roster changed)."""
        self._computed_at = 0.0
        self.poll()

    # -- looking ---------------------------------------------------------------------------------
    @Slot()
    def poll(self) -> None:
        if self._busy and self._jobs.pending:  # (busy with nothing pending: the runner dropped it)
            self._again = True
            return
        if not self._watcher.files() and self._timer.isActive() and self._wal.exists():
            self._watcher.addPath(str(self._wal))  # (a stat on this thread; the database is not opened)
        ids = tuple(self._ids())
        due = ids != self._asked_ids or time.monotonic() - self._computed_at >= self.refresh_s
        tail, store, clock = self.tail, self._store, self._clock

        def look() -> tuple[dict[str, Activity], float] | None:
            if not _look(tail, store) and not due:
                return None
            from quarterdeck.core.activity.tracks import reduce

            now = clock()
            return reduce(tail.events(), ids, now=now), now

        self._busy = True
        try:
            self._jobs.run(look, lambda result: self._looked(ids, result), self._failed, owner=self)
        except RuntimeError:  # the runner has shut down: the window is closing
            self._busy = False
            self.stop()

    def _looked(self, ids: tuple[str, ...], computed: tuple[dict[str, Activity], float] | None) -> None:
        self._busy = False
        self.looks += 1
        self._problem = ""
        if self._timer.interval() != self.poll_ms:
            self._timer.setInterval(self.poll_ms)
        if self._again and self._timer.isActive():
            self._again = False
            self._soon.start()
        if computed is None:
            return
        self._asked_ids, self._computed_at = ids, time.monotonic()
        self.latest, self.latest_at = computed
        self.sig_activities.emit(*computed)

    @Slot(str)
    def _on_watcher_file_changed(self, _path: str) -> None:
        if self._timer.isActive():
            self._soon.start()

    def _failed(self, error: BaseException) -> None:
        self._busy = False
        self._timer.setInterval(max(self.poll_ms, BACKOFF_MS))  # a fault is reported once per look
        text = f"Agent activity cannot be read: {error}"
        if text != self._problem:
            self._problem = text
            log.warning("%s", text)
            self.sig_problem.emit(text)


def _look(tail: EventTail, store: Store) -> bool:
    """Bring ``tail`` up to date (on the runner's thread); whether anything new came."""
    return tail.update(store.connection())


def feed_for(ctx: AppContext) -> ActivityFeed:
    """The context's one feed, made and started on first use."""
    feed = ctx.findChild(ActivityFeed, NAME)
    if feed is None:
        shown = {"ids": ctx.shown.roster.ids()}  # every machine's agents (their events: quarterdeck.gui.relays)
        made = feed = ActivityFeed(ctx.store, ctx.jobs, lambda: shown["ids"], ctx)

        def follow() -> None:  # this machine's roster saved, or the relays read again (every 2 s)
            if (ids := ctx.shown.roster.ids()) != shown["ids"]:
                shown["ids"] = ids
                made.refresh()

        ctx.sig_fleet_changed.connect(follow)
        feed.start()
    return feed
