"""Work the UI thread must not do (SQLite, files, subprocesses) runs here, one job at a time.

``Jobs`` owns one QThread with a worker object; ``run(fn, on_done, on_error, owner)`` queues
``fn`` to that thread and calls back on the GUI thread with its result or exception. Jobs run in
the order they were asked for, so "queue this message, then refresh the history" needs no extra
sequencing. A callback whose ``owner`` widget was deleted meanwhile is dropped.

A storage fault (full disk, damaged or locked database, read-only or missing folder) is turned
into a :class:`quarterdeck.core.store.faults.StorageFault` before any callback sees it, so a panel's own
error text is the one clear line, and ``sig_fault`` carries that line for the window's banner.
The runner keeps running: the next job is tried as usual.
"""
from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject, QThread, Signal, Slot

from quarterdeck.core.store.faults import translate
from quarterdeck.gui.tracing import adopt_tracer

log = logging.getLogger(__name__)

Callback = Callable[[Any], None]  # a pending job's callbacks, whatever its result type
ErrorCallback = Callable[[BaseException], None]
T = TypeVar("T")


class _Thread(QThread):
    """The runner's thread, its event loop inside one Python call. Qt calls a queued slot on a thread
    Python did not start with a thread state made for that call and dropped after it, and with it the
    thread's ``threading.local`` data: the store opened and closed a SQLite connection for every job
    (200 jobs: 200 connections; an idle panel's activity polls kept this thread at ~5 % of a core).
    Run from here, every job shares one thread state, and one connection."""

    def run(self) -> None:  # pragma: no cover (the runner's thread is not traced)
        self.exec()


class _JobWorker(QObject):
    sig_finished = Signal(int, object, object)  # job id, result, exception

    @Slot(int, object)
    def run_job(self, job_id: int, fn: Callable[[], object]) -> None:  # pragma: no cover (untraced)
        adopt_tracer()
        self._run(job_id, fn)

    def _run(self, job_id: int, fn: Callable[[], object]) -> None:
        try:
            result = fn()
        except Exception as exc:  # reported to the caller, never lost
            self.sig_finished.emit(job_id, None, exc)
        else:
            self.sig_finished.emit(job_id, result, None)

    @Slot()
    def finish(self) -> None:
        """Queued after every job asked for so far: the thread ends once they have all run."""
        QThread.currentThread().quit()


class Jobs(QObject):
    """A serial background runner for the panel's blocking calls (see the module docstring)."""

    sig_job_failed = Signal(str)  # a job without its own error handler raised
    sig_fault = Signal(str)  # a job met a storage fault: the one line that says what, where, what to do
    sig_requested = Signal(int, object)
    sig_finish_requested = Signal()

    def __init__(self, parent: QObject | None = None, *, name: str = "quarterdeck-io") -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[Callback | None, Callback | None, QObject | None]] = {}
        self._thread = _Thread()
        self._thread.setObjectName(name)
        self._worker = _JobWorker()  # no parent: it moves to the thread
        self._worker.moveToThread(self._thread)
        self.sig_requested.connect(self._worker.run_job)
        self.sig_finish_requested.connect(self._worker.finish)
        self._worker.sig_finished.connect(self._on_worker_finished)
        self._thread.finished.connect(self._worker.deleteLater)
        self._thread.start()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def run(self, fn: Callable[[], T], on_done: Callable[[T], None] | None = None,
            on_error: ErrorCallback | None = None, *, owner: QObject | None = None) -> int:
        """Queue ``fn``; its result goes to ``on_done``, an exception to ``on_error``."""
        if not self._thread.isRunning():
            raise RuntimeError("the background runner has been shut down")
        job_id = next(self._ids)
        self._pending[job_id] = (on_done, on_error, owner)
        self.sig_requested.emit(job_id, fn)
        return job_id

    @Slot(int, object, object)
    def _on_worker_finished(self, job_id: int, result: object, error: BaseException | None) -> None:
        on_done, on_error, owner = self._pending.pop(job_id, (None, None, None))
        if owner is not None and not shiboken6.isValid(owner):
            return
        if error is None:
            if on_done is not None:
                on_done(result)
            return
        fault = translate(error, file_errors=False)
        if fault is not None:
            log.error("storage fault: %s", fault, exc_info=error)
            self.sig_fault.emit(str(fault))
            error = fault
            if on_error is None:
                return
        if on_error is not None:
            on_error(error)
            return
        log.error("background job failed: %s", error, exc_info=error)
        self.sig_job_failed.emit(f"{type(error).__name__}: {error}")

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Run every job already asked for (a queued message is never dropped), then end the
        thread. Their callbacks are not called. True if the thread ended within the timeout."""
        if self._thread.isRunning():
            self.sig_finish_requested.emit()
        ended = self._thread.wait(timeout_ms)
        self._pending.clear()
        return bool(ended)
