"""A private connection to the X server, driven by one thread of its own.

python-xlib connections are not safe to share between threads, and a selection owner must answer
requests at any moment, so ``XThread`` keeps the connection on one daemon thread: it handles
every event with ``handler`` (one failing event is logged, not fatal), runs work other threads
hand it with ``call`` (every X call happens on this thread; events already received are handled
first, so a job never acts on a stale picture), and runs one timer at most. ``closed`` turns
true when ``close`` is called or the server goes away; ``on_end`` runs then.
"""
from __future__ import annotations

import logging
import os
import select
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from quarterdeck.core.desktop.clipboard.snapshot import ClipboardError

log = logging.getLogger(__name__)

__all__ = ["XThread"]

T = TypeVar("T")


class _Job(Generic[T]):
    def __init__(self, fn: Callable[[], T]) -> None:
        self.fn = fn
        self.result: tuple[T] | Exception | None = None  # (its value,) or its error, once run
        self.abandoned = False  # the caller stopped waiting: do not run it any more


class XThread:
    """See the module docstring."""

    def __init__(self, handler: Callable[[Any], None], *, display_name: str | None = None,
                 name: str = "x11", on_end: Callable[[], None] | None = None) -> None:
        from Xlib import display as xdisplay

        with warnings.catch_warnings():  # python-xlib leaves its Xauthority file unclosed
            warnings.simplefilter("ignore", ResourceWarning)
            self.display = xdisplay.Display(display_name)
        self.display.set_error_handler(lambda err, req: log.debug("X error ignored: %s", err))
        self._handler = handler
        self._on_end = on_end
        self._cond = threading.Condition()
        self._jobs: list[_Job[Any]] = []
        self._timer: tuple[float, Callable[[], object]] | None = None
        self._wake_r, self._wake_w = os.pipe()
        self.closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def call(self, fn: Callable[[], T], timeout: float = 5.0) -> T:
        """Run ``fn`` on the X thread and return its result (or raise its error)."""
        if threading.current_thread() is self._thread:
            return fn()
        job = _Job(fn)
        with self._cond:
            if self.closed:
                raise ClipboardError("the connection to the X server for the clipboard is closed")
            self._jobs.append(job)
            os.write(self._wake_w, b"x")  # under the lock: the thread closes the pipe under it too
            if not self._cond.wait_for(lambda: job.result is not None or self.closed, timeout):
                job.abandoned = True
                raise ClipboardError(f"the clipboard thread did not answer within {timeout:g} s")
        result = job.result
        if result is None:
            raise ClipboardError("the connection to the X server for the clipboard closed")
        if isinstance(result, Exception):
            raise result
        return result[0]

    def set_timer(self, delay: float | None, fn: Callable[[], object] | None = None) -> None:
        """Run ``fn`` on the X thread after ``delay`` seconds (None: no timer). X thread only."""
        self._timer = None if delay is None or fn is None else (time.monotonic() + delay, fn)

    def close(self, timeout: float = 3.0) -> None:
        with self._cond:
            if self.closed:
                return
            self.closed = True
            os.write(self._wake_w, b"x")
        self._thread.join(timeout)

    def _run(self) -> None:
        from Xlib import error

        try:
            while self._turn():
                pass
        except (error.ConnectionClosedError, OSError) as exc:
            log.warning("the X server connection for the clipboard ended: %s", exc)
        except Exception:
            log.exception("the X connection thread failed")
        finally:
            with self._cond:
                self.closed = True
                self._cond.notify_all()
                os.close(self._wake_r)
                os.close(self._wake_w)
            if self._on_end is not None:
                self._on_end()
            try:
                self.display.close()
            except Exception:  # the server is gone: closing flushes into a dead socket
                pass

    def _turn(self) -> bool:
        self._drain()
        with self._cond:
            jobs, self._jobs, closed = self._jobs, [], self.closed
        for job in jobs:
            if job.abandoned:
                continue
            try:
                job.result = (job.fn(),)
            except Exception as exc:
                job.result = exc
        if jobs:
            with self._cond:
                self._cond.notify_all()
        if closed:
            return False
        self._drain()
        timer = self._timer
        if timer is not None and time.monotonic() >= timer[0]:
            self._timer = None
            try:
                timer[1]()
            except Exception:
                log.exception("the X thread's timer failed")
            return True
        wait = None if timer is None else max(timer[0] - time.monotonic(), 0)
        ready, _, _ = select.select([self.display.fileno(), self._wake_r], [], [], wait)
        if self._wake_r in ready:
            os.read(self._wake_r, 4096)
        return True

    def _drain(self) -> None:
        """Flush, then handle every event until python-xlib's queue is empty. (A flush may read
        events into that queue and leave the socket looking idle, so select comes only after.)"""
        d = self.display
        d.flush()
        while d.pending_events():
            event = d.next_event()
            try:
                self._handler(event)
            except Exception:  # one odd event must not end the connection
                log.exception("X event %s could not be handled", event.type)
            d.flush()
