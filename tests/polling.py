"""Waiting in tests for something another process or thread makes true."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], what: str = "condition", *, timeout: float = 10.0,
               every: float = 0.01) -> T:
    """Poll ``predicate`` every ``every`` seconds until it returns something true, and return that;
    fail the test, naming ``what``, after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {what}"
        time.sleep(every)
    return value
