"""A fault said once when it begins and once when it ends, not once per retry.

A thread that retries every second while the outbox is locked, full or read-only would otherwise
log the same line sixty times a minute. ``Episode.failed`` logs its line only when no episode is
on; ``Episode.ok`` ends one with how long it lasted. The standard ``logging`` module filters by
level and logger, not by repetition, hence this small class.
"""
from __future__ import annotations

import logging
import time

__all__ = ["Episode"]


class Episode:
    """One line when a fault begins, one (``resumed`` and how long) when the work goes on again."""

    def __init__(self, log: logging.Logger, resumed: str) -> None:
        self.log = log
        self.resumed = resumed
        self.since: float | None = None  # time.monotonic() when the episode began

    def failed(self, line: str, *args: object) -> bool:
        """Log ``line % args`` if this begins an episode; whether it did."""
        if self.since is not None:
            return False
        self.since = time.monotonic()
        self.log.warning(line, *args)
        return True

    def ok(self) -> None:
        """The work went through: an episode on ends, said in one line."""
        if self.since is not None:
            self.log.warning("%s after %.1f s", self.resumed, time.monotonic() - self.since)
            self.since = None
