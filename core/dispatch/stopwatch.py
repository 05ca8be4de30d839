"""Stop-all and resume-all across processes: notice them in the outbox and act on them here.

Every Quarterdeck process that shares a data directory shares one outbox file. A stop-all is
recorded there (``Store.request_stop`` raises the stop generation and cancels the queue in one
transaction). A ``StopWatch`` remembers the generation its process has seen, from the moment it
is made, so stops recorded earlier never concern it; while it is entered (``with watch:``, counted,
so nested users share one thread) a thread of its own reads the generation every ``interval``
seconds and calls ``on_stop(mark)`` when it has moved. A resume-all works the same way with its
own generation and ``on_resume(mark)``; when both moved between two looks, the later one wins.
The read is cheap: ``PRAGMA data_version`` tells whether any other connection has committed since
the last look, and only then is the ``control`` row read. Nothing is written and no read
transaction is left open, so the watch never holds up other processes' writes or checkpoints.

``request`` and ``request_resume`` record a stop-all or resume-all made by this process, under the
same lock as the watch's reads, so the watch never reports this process's own back to it.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

from quarterdeck.core.store.rows import StopMark

if TYPE_CHECKING:
    from quarterdeck.core.store.outbox import Store

__all__ = ["StopWatch"]

log = logging.getLogger(__name__)

_JOIN_TIMEOUT = 20.0  # a read may wait out the store's busy timeout (10 s) before the thread sees the quit


class StopWatch:
    """Watches one store for stop-alls recorded by other processes; see the module docstring."""

    def __init__(self, store: Store, on_stop: Callable[[StopMark], None], *, interval: float = 0.05,
                 on_resume: Callable[[StopMark], None] | None = None) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.interval = interval
        self._store = store
        self._on_stop = on_stop
        self._on_resume = on_resume
        self._lock = threading.Lock()  # one read or own stop at a time: ``seen`` follows the file
        self._users_lock = threading.Lock()
        self._users = 0
        self._thread: threading.Thread | None = None
        self._quit = threading.Event()
        mark = store.stop_mark()
        self.seen, self.seen_resume = mark.generation, mark.resumed

    # -- stops -----------------------------------------------------------------------------------
    def request(self) -> StopMark:
        """Record a stop-all for every process on the store (this one's watch stays quiet about
        it); returns the new ``StopMark``."""
        with self._lock:
            mark = self._store.request_stop()
            self.seen, self.seen_resume = mark.generation, mark.resumed  # older ones are moot now
        return mark

    def request_resume(self) -> StopMark:
        """Record a resume-all for every process on the store (not heard back here)."""
        with self._lock:
            mark = self._store.request_resume()
            self.seen, self.seen_resume = mark.generation, mark.resumed  # older ones are moot now
        return mark

    def rebase(self) -> None:
        """Take what is recorded now as seen, unless the watch is running (it must not miss
        anything then): for a process about to queue work, which older stops did not concern."""
        with self._lock:
            if not self.watching:
                mark = self._store.stop_mark()
                self.seen, self.seen_resume = mark.generation, mark.resumed

    def check(self) -> bool:
        """Read the generations now and call ``on_stop`` / ``on_resume`` (on this thread) for what
        moved; True if anything did."""
        with self._lock:
            mark = self._store.stop_mark()
            stopped, resumed = mark.generation != self.seen, mark.resumed != self.seen_resume
            self.seen, self.seen_resume = mark.generation, mark.resumed
        if stopped:
            self._on_stop(mark)
        if resumed and self._on_resume is not None and (not stopped or mark.resumed_since_stop):
            self._on_resume(mark)
        return stopped or resumed

    # -- watching --------------------------------------------------------------------------------
    @property
    def watching(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> StopWatch:
        with self._users_lock:
            self._users += 1
            if self._users == 1:
                try:
                    self.check()  # a stop recorded since this watch was made, while nobody watched
                except Exception:  # the thread's first look tries again
                    log.warning("the stop-all watch cannot read the outbox", exc_info=True)
                self._quit = threading.Event()
                self._thread = threading.Thread(target=self._poll, args=(self._quit,),
                                                name="quarterdeck-stopwatch", daemon=True)
                self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        with self._users_lock:
            self._users -= 1
            if self._users > 0 or self._thread is None:
                return
            thread, self._thread = self._thread, None
            self._quit.set()
        if thread is not threading.current_thread():
            thread.join(_JOIN_TIMEOUT)
            if thread.is_alive():
                log.warning("the stop-all watch did not end within %g s", _JOIN_TIMEOUT)

    def _poll(self, quit_event: threading.Event) -> None:
        version: int | None = None
        failing = False
        while not quit_event.wait(self.interval):
            try:
                now = self._data_version()
                if now != version:
                    self.check()
                    version = now
            except Exception:  # the store closed under us, or the file is unreadable for a while
                if not failing:
                    log.warning("the stop-all watch cannot read the outbox", exc_info=True)
                failing, version = True, None
            else:
                failing = False

    def _data_version(self) -> int:
        """Changes with every commit made by another connection (any thread, any process)."""
        return int(self._store.connection().execute("PRAGMA data_version").fetchall()[0][0])
