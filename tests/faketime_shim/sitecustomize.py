"""Loaded (``PYTHONPATH``) only by a process the tests run under ``faketime`` with
``FAKETIME_DONT_FAKE_MONOTONIC=1`` (its wall clock off, its monotonic clock true).

libfaketime 0.9.10 gets ``clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)`` wrong when it does not
fake the monotonic clock (EINVAL), and CPython's ``time.sleep`` uses exactly that; with the
monotonic clock faked instead, every timed wait on a lock or an event waits the offset more. So
the wall clock is faked, the monotonic one is not, and ``time.sleep`` waits on an event (a timed
condition wait, which libfaketime handles): the same wait, through a call it gets right.
"""
from __future__ import annotations

import threading
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    threading.Event().wait(seconds)


time.sleep = _sleep
