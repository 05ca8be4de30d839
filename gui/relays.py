"""The relays on other machines, read again every 2 s off the UI thread (issue 14).

With a broker configured the session merges every relay's agents with this machine's roster
(``quarterdeck.core.session``). Relays announce themselves every 2 s, so a panel left open reads
them again as often: ``session.refresh_relays()`` (one HGETALL, or the relays as last seen when
the broker is unreachable) runs on a thread of its own, never on the UI thread and never behind
the outbox's jobs (a broker that does not answer holds a read for up to 3 s). When it is done the
context's ``sig_fleet_changed`` tells the roster, the composer and the health line. A read still
under way when the next is due is not doubled. The relays' agents' activity events are read into
this machine's outbox meanwhile (``quarterdeck.core.activity.remote``), for the Activity column.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Slot

from quarterdeck.gui.jobs import Jobs

if TYPE_CHECKING:
    from quarterdeck.gui.context import AppContext

log = logging.getLogger(__name__)
REFRESH_MS = 2000


class RelayWatch(QObject):
    """Reads the relays every ``interval_ms`` while started; ``reads`` counts the finished reads."""

    def __init__(self, ctx: AppContext, *, interval_ms: int = REFRESH_MS) -> None:
        super().__init__(ctx)
        self._ctx = ctx
        self._jobs: Jobs | None = None
        self._busy = False
        self._failed_before = False
        self.reads = 0
        self._stop_events: Callable[[], None] = lambda: None
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.refresh)

    @property
    def under_way(self) -> bool:
        """A read is under way (the one ``start`` begins, or a refresh)."""
        return self._busy

    @property
    def active(self) -> bool:
        return self._ctx.session.broker is not None

    def start(self) -> None:
        if self.active and self._jobs is None:
            self._jobs = Jobs(self, name="quarterdeck-relays")
            self._timer.start()
            self._stop_events = self._read_events()
            self.refresh()  # the panel's session starts from the relays as last seen: read them now

    def _read_events(self) -> Callable[[], None]:
        """The relays' agents' activity events (their hooks, their watched panes) into this outbox, on
        a thread (quarterdeck.core.activity.remote), so the roster's Activity column shows them too."""
        broker = self._ctx.session.broker
        if broker is None:
            return lambda: None
        from quarterdeck.core.activity.remote import start_event_reader

        return start_event_reader(broker, self._ctx.session.store.path)

    @Slot()
    def refresh(self) -> bool:
        """Read the relays now unless a read is under way; True when one was started."""
        if self._jobs is None or self._busy:
            return False
        self._busy = True
        session = self._ctx.session
        self._jobs.run(session.refresh_relays, self._on_read, self._on_failed, owner=self)
        return True

    def _on_read(self, _nothing: object) -> None:
        self._busy = False
        self._failed_before = False
        self.reads += 1
        self._ctx.sig_fleet_changed.emit()

    def _on_failed(self, error: BaseException) -> None:
        self._busy = False
        if not self._failed_before:  # said once, not every 2 s
            log.warning("the relays could not be read: %s", error)
            self._ctx.sig_status.emit(f"Relays not read: {str(error).splitlines()[0] if str(error) else error!r}")
        self._failed_before = True

    def stop(self) -> None:
        self._timer.stop()
        self._stop_events()
        self._stop_events = lambda: None
        if self._jobs is not None:
            self._jobs.shutdown()
            self._jobs = None
