"""The panel watches the agents' tmux panes and windows, unless another process already does.

:class:`PanelWatching` claims the data folder's watch lock
(:class:`~quarterdeck.core.activity.watch.service.WatchLock`); with it, it runs the
:class:`~quarterdeck.core.activity.watch.service.WatchService` on a thread of its own (the
watchers block on tmux and X11, never on the UI thread) and rebuilds the watchers when the roster
changes. Without it (``quarterdeck serve`` or ``agents watch`` holds it) the panel reads what that
process records, and says so once in the status bar. What the service records reaches the panels
through the activity feed, like a hook's event.
"""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot

from quarterdeck.core.activity.watch.fleet import watchers_for
from quarterdeck.core.activity.watch.service import WatchLock, WatchService

if TYPE_CHECKING:
    from quarterdeck.core.roster.roster import Roster
    from quarterdeck.gui.context import AppContext

log = logging.getLogger(__name__)


class PanelWatching(QObject):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.ctx = ctx
        self.data_dir = ctx.store.path.parent
        self.lock = WatchLock(self.data_dir)
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None
        self.watching = False

    def start(self) -> None:
        if not self.lock.claim():
            holder = self.lock.holder()
            self.ctx.sig_status.emit(f"Another Quarterdeck (process {holder or '?'}) watches the agents' panes "
                                     "and windows; the panel shows what it records")
            return
        self.watching = True
        self._run(self.ctx.roster)
        self.ctx.sig_roster_changed.connect(self._on_ctx_roster_changed)

    def _run(self, roster: Roster) -> None:
        self._halt(wait=False)  # the old thread ends after its tick; the UI thread does not wait for it
        # even with nothing to watch the service confirms deliveries from the hooks' prompts
        stop = threading.Event()
        ctx = self.ctx
        service = WatchService(self.data_dir, watchers_for(roster), on_confirmed=ctx.confirmed_elsewhere)
        thread = threading.Thread(target=service.run, args=(stop,), name="quarterdeck-watch", daemon=True)
        self._stop, self._thread = stop, thread
        thread.start()

    def _halt(self, wait: bool = True) -> None:
        if self._stop is not None and self._thread is not None:
            self._stop.set()
            if not wait:
                self._stop = self._thread = None
                return
            self._thread.join(5)
            if self._thread.is_alive():
                log.warning("the watch thread did not stop within 5 s")
        self._stop = self._thread = None

    @Slot(object)
    def _on_ctx_roster_changed(self, roster: Roster) -> None:
        self._run(roster)

    def shutdown(self) -> None:
        self._halt()
        if self.watching:
            self.lock.release()
            self.watching = False
