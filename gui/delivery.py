"""The dispatcher in a QThread, and its events as Qt signals.

``DeliveryService`` hosts the core ``DeliveryWorker`` loop in a QThread (the worker object has
no parent and is moved to the thread; it is deleted when the thread finishes). The dispatcher's
listeners run on that thread; they only emit signals, which Qt queues to the GUI thread, so the
roster, composer and charts see every delivery step and breaker transition as it happens.

Stop all never touches the database on the UI thread: ``Dispatcher.halt`` interrupts every wait
at once, and a background job records the stop in the outbox, which cancels the queue and halts
every other Quarterdeck process on it. A stop-all recorded by another process halts this one the
same way (the dispatcher's watch tells it on its own thread; the signals carry it to the window),
and Resume lifts it here as after a local Stop all. Re-queue cancelled (``requeue_stopped``) puts
the deliveries the last stop cancelled, never typed, back in the queue, off the UI thread; they go
out when delivery resumes. Closing the window ends the loop
gracefully (the delivery in flight finishes, queued ones stay queued for the next start); if the
in-flight one is still waiting out a backoff after ``grace_ms`` it is interrupted and marked.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, Signal, Slot

from quarterdeck.core.service import DeliveryWorker
from quarterdeck.core.store.requeue import Requeued, requeue_stopped, stopped_pending
from quarterdeck.gui.tracing import adopt_tracer

if TYPE_CHECKING:  # annotations only
    from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
    from quarterdeck.core.session import Session
    from quarterdeck.gui.jobs import Jobs

log = logging.getLogger(__name__)


class _Loop(QObject):
    """Runs ``DeliveryWorker.serve`` on the delivery thread."""

    sig_loop_ended = Signal()
    sig_serving = Signal()  # the worker is alive: its health is UP from now on

    def __init__(self, worker: DeliveryWorker) -> None:
        super().__init__()  # no parent: moved to the delivery thread
        self._worker = worker

    @Slot()
    def serve(self) -> None:  # pragma: no cover (runs before the thread is traced)
        adopt_tracer()
        self._serve()

    def _serve(self) -> None:
        try:
            self._worker.serve(self.sig_serving.emit)
        finally:
            self.sig_loop_ended.emit()
            QThread.currentThread().quit()


class DeliveryService(QObject):
    """Owns the delivery thread and the monitor's sampler; see the module docstring."""

    sig_delivery_event = Signal(object)  # quarterdeck.core.dispatch.dispatcher.DeliveryEvent
    sig_breaker_event = Signal(object)  # quarterdeck.core.resilience.BreakerEvent
    sig_halted = Signal()  # stop all, here or in another process: nothing more is typed
    sig_stopped = Signal(int)  # stop all finished: how many queued deliveries were cancelled
    sig_resumed = Signal()
    sig_serving = Signal()  # the delivery loop has started on its thread
    sig_requeued = Signal(object)  # quarterdeck.core.store.requeue.Requeued: Re-queue cancelled is done
    sig_stopped_pending = Signal(int)  # how many of the last stop's cancelled deliveries can be re-queued
    sig_failed = Signal(str)  # a one-line error of a delivery control (what, where, what to do)
    sig_stop_unrecorded = Signal(str)  # stop all halted this process only: why it could not be recorded

    def __init__(self, session: Session, jobs: Jobs, parent: QObject | None = None, *,
                 idle_wait: float = 0.25) -> None:
        super().__init__(parent)
        self.session = session
        self.dispatcher = session.dispatcher
        self._jobs = jobs
        self.stops = 0  # Stop all pressed here or heard from elsewhere: a send lifts none made after it began
        self.lifted_here_only = False  # a send lifted the stop in this process: elsewhere it stands
        self.worker = DeliveryWorker(self.dispatcher, idle_wait=idle_wait)
        self.dispatcher.add_listener(self.sig_delivery_event.emit)
        self.dispatcher.add_stop_listener(self._stopped_elsewhere)
        self.dispatcher.add_resume_listener(self._resumed_elsewhere)
        self.dispatcher.breakers.add_listener(self.sig_breaker_event.emit)
        self._thread = QThread()
        self._thread.setObjectName("quarterdeck-delivery")
        self._loop = _Loop(self.worker)
        self._loop.moveToThread(self._thread)
        self._thread.started.connect(self._loop.serve)
        self._loop.sig_serving.connect(self.sig_serving)
        self._thread.finished.connect(self._loop.deleteLater)
        self._sampler_stop = threading.Event()
        self._sampler = threading.Thread(target=session.monitor.run_sampler, args=(self._sampler_stop,),
                                         name="quarterdeck-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._sampler.start()

    @property
    def running(self) -> bool:
        return self._thread.isRunning()

    @property
    def halted(self) -> bool:
        return self.dispatcher.stopped

    def notify(self) -> None:
        """New deliveries were queued: look at the outbox now."""
        self.worker.notify()

    def stop_all(self) -> None:
        """The captain's emergency stop: interrupt now, then cancel the queue in the background."""
        self.stops, self.lifted_here_only = self.stops + 1, False
        self.dispatcher.halt()
        self.sig_halted.emit()
        self._jobs.run(self.dispatcher.stop_everywhere, self.sig_stopped.emit, self._stop_failed)

    def _stop_failed(self, error: BaseException) -> None:
        log.warning("stop all halted this process only: it could not be recorded: %s", error)
        self.sig_stop_unrecorded.emit(" ".join(str(error).split()) or type(error).__name__)

    def count_stopped_pending(self) -> None:
        """Ask the outbox (off the UI thread) how many deliveries Re-queue cancelled would queue."""
        self._jobs.run(lambda: stopped_pending(self.session.store.connection()), self.sig_stopped_pending.emit,
                       self._failed("count the cancelled deliveries"))

    def requeue_stopped(self) -> None:
        """Queue again what the last Stop all cancelled (never typed); off the UI thread. While
        stopped they wait for Resume; otherwise they go out at once."""
        def done(result: Requeued) -> None:
            self.worker.notify()
            self.sig_requeued.emit(result)
            self.sig_stopped_pending.emit(0)

        self._jobs.run(lambda: requeue_stopped(self.session.store.connection()), done,
                       self._failed("re-queue the cancelled deliveries"))

    def _failed(self, what: str) -> Callable[[BaseException], None]:
        def report(error: BaseException) -> None:
            log.warning("could not %s: %s", what, error)
            self.sig_failed.emit(f"Could not {what}: {error} (the outbox file; try again, or see the log)")
        return report

    def _stopped_elsewhere(self, cancelled: int) -> None:
        """Another process's stop-all halted the dispatcher (called off the UI thread)."""
        self.stops += 1
        self.sig_halted.emit()
        self.sig_stopped.emit(cancelled)

    @property
    def lifts(self) -> tuple[int, int]:
        """What a send reads as it begins, for :meth:`lift_for_send`: the stops and the GUI pauses so far."""
        return self.stops, self.dispatcher.pauses

    def lift_for_send(self, stops: int, pauses: int) -> None:
        """A send queued: deliver again in this process (not the relays nor other processes: Resume
        does that, and stays offered), unless a Stop all came since the send began (``stops`` was
        ``self.stops`` then). A GUI pause that came since (``pauses``: the dispatcher's count then)
        stays: the send's own delivery met a person at the mouse, and Resume (or Skip) is theirs."""
        if self.stops != stops:
            return
        if self.dispatcher.stopped:
            self.lifted_here_only = True
        self.resume(pauses=pauses)

    def resume(self, *, everywhere: bool = False, pauses: int | None = None, afar: bool = False) -> None:
        """Deliver again after Stop all or a GUI pause (a person had taken the mouse). A send does
        this for its own process (``pauses``: a GUI pause that came since it began stays); the
        Resume command (``everywhere``) also records a resume-all, which lifts the stop in every
        process it halted (also after a send lifted it here) and, with ``afar`` (GUI delivery paused
        on a relay), reaches the relays."""
        stopped = self.dispatcher.stopped
        elsewhere = everywhere and (stopped or self.lifted_here_only or afar)
        if everywhere:
            self.lifted_here_only = False
        if stopped or self.dispatcher.gui_paused or elsewhere:
            self.dispatcher.resume(pauses=pauses)
            self.worker.notify()
            if not self.dispatcher.gui_paused:  # a pause that stays keeps its banner: Resume is offered
                self.sig_resumed.emit()
        if elsewhere:
            self._jobs.run(self.dispatcher.resume_everywhere)

    def force(self, paused: DeliveryEvent) -> None:
        """Send the delivery a draft paused on anyway (the agent's input is cleared first)."""
        self.dispatcher.force(paused)
        self.worker.notify()
        self.sig_resumed.emit()

    def skip(self, paused: DeliveryEvent) -> None:
        """Cancel the delivery GUI delivery paused on (a draft in its agent's input, say) and go on
        with the rest; off the UI thread."""
        reason = "skipped by the captain while GUI delivery was paused"

        def done(_event: DeliveryEvent) -> None:
            self.worker.notify()
            self.sig_resumed.emit()

        self._jobs.run(lambda: self.dispatcher.skip(paused, reason), done)

    def _resumed_elsewhere(self) -> None:
        """Another process's resume-all lifted the stop (called off the UI thread)."""
        self.lifted_here_only = False
        self.worker.notify()
        self.sig_resumed.emit()

    def shutdown(self, grace_ms: int = 3000) -> bool:
        """End the loop (see the module docstring). True when the thread has ended."""
        self.worker.request_stop()
        ended = True
        if self._thread.isRunning():
            ended = self._thread.wait(grace_ms)
            if not ended:
                log.warning("a delivery is still in flight at shutdown: interrupting it")
                self.dispatcher.stopping.final()  # a resume-all heard now must not undo this
                self.dispatcher.halt()
                ended = self._thread.wait(10_000)
        self._sampler_stop.set()
        if self._sampler.is_alive():
            self._sampler.join(2.0)
        return bool(ended)
