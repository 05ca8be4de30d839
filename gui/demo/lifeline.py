"""How the demo swarm process ends: on SIGTERM or SIGINT, and when the process that started it dies.

Python runs a signal handler only between bytecodes, and Qt's event loop is C++: a SIGTERM would
wait for the next Python slot. ``signal.set_wakeup_fd`` makes the signal also write a byte to a
socket that a ``QSocketNotifier`` watches, so Python code runs at once and the handler quits the
loop. The parent is polled (``os.getppid()`` changes when it dies and the process is re-parented):
a swarm whose panel crashed would otherwise stay on screen for ever.
"""
from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Callable

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Slot

__all__ = ["SIGNALS", "Lifeline"]

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Lifeline(QObject):
    """Calls ``quit`` on SIGTERM/SIGINT (woken through a socket) or once the parent process is gone."""

    def __init__(self, parent_pid: int, quit: Callable[[], object], parent: QObject | None = None, *,
                 interval_ms: int = 500) -> None:
        super().__init__(parent)
        self._quit = quit
        self._parent_pid = parent_pid
        self._reader, self._writer = socket.socketpair()
        for end in (self._reader, self._writer):
            end.setblocking(False)
        self._old_wakeup = signal.set_wakeup_fd(self._writer.fileno())
        self._old_handlers = {number: signal.signal(number, self._on_signal) for number in SIGNALS}
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_notifier_activated)
        self._watch = QTimer(self)
        self._watch.setInterval(interval_ms)
        self._watch.timeout.connect(self._on_watch_timeout)
        self._watch.start()

    def _on_signal(self, number: int, _frame: object) -> None:
        print(f"demo swarm: {signal.Signals(number).name}, quitting", file=sys.stderr, flush=True)
        self._quit()

    @Slot()
    def _on_notifier_activated(self) -> None:
        try:  # the Python handler has run by now; just empty the wake-up socket
            while self._reader.recv(64):
                pass
        except BlockingIOError:
            pass

    @Slot()
    def _on_watch_timeout(self) -> None:
        if os.getppid() != self._parent_pid:
            print("demo swarm: parent process gone, quitting", file=sys.stderr, flush=True)
            self._watch.stop()
            self._quit()

    def close(self) -> None:
        """Put back the signal handling found at the start."""
        self._watch.stop()
        self._notifier.setEnabled(False)
        signal.set_wakeup_fd(self._old_wakeup)
        for number, handler in self._old_handlers.items():
            signal.signal(number, handler)
        self._reader.close()
        self._writer.close()
