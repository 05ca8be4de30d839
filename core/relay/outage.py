"""A relay's view of the broker being unreachable: one log line when it stops answering and one when
it answers again, whichever of the relay's threads notices."""
from __future__ import annotations

import logging
import threading
import time

from quarterdeck.core.relay.link import describe

log = logging.getLogger("quarterdeck.relay")


class Outage:
    """One log line when the broker becomes unreachable and one when it answers again, whichever
    thread notices; ``down`` is True meanwhile."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._since: float | None = None
        self._lock = threading.Lock()
        self.outages = 0

    @property
    def down(self) -> bool:
        return self._since is not None

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            if self._since is not None:
                return
            self._since = time.monotonic()
            self.outages += 1
        log.warning("relay: %s; delivering what this relay holds, retrying until it answers", describe(exc, self.url))

    def assume_down(self) -> None:
        """The broker did not answer at start (the caller said so): the next answer ends this outage."""
        with self._lock:
            if self._since is None:
                self._since = time.monotonic()
                self.outages += 1

    def ok(self) -> None:
        with self._lock:
            since, self._since = self._since, None
        if since is not None:
            log.warning("relay: broker answers again after %.1f s", time.monotonic() - since)
