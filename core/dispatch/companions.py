"""Workers that deliver beside the dispatcher, for agents it skips (the captain's relay forwarder).

A companion works while its dispatcher does: ``working(True)`` when a delivery loop begins
(``Dispatcher.run``, a ``DeliveryWorker``, anything inside ``dispatcher.watching()``) and
``working(False)`` when it ends (counted by the companion: loops may nest); ``notify()`` when
something was queued. So a process that only reads (``quarterdeck agents list``) never claims a
delivery, and one that delivers hands every kind of agent its deliveries.

``unreachable`` names the agents a companion cannot reach now and why (a relay's agents while that
relay is not seen: "relay M2 last seen 40 s ago"), for health to say so (``monitor.reach``).
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

__all__ = ["Companion", "Companions"]

log = logging.getLogger(__name__)


class Companion(Protocol):
    def working(self, on: bool) -> None: ...

    def notify(self) -> None: ...


class Companions:
    def __init__(self) -> None:
        self._all: list[Companion] = []
        self.unreachable: dict[str, str] = {}  # agent id -> why a companion cannot reach it now

    def add(self, companion: Companion) -> None:
        self._all.append(companion)

    def notify(self) -> None:
        for companion in list(self._all):
            companion.notify()

    @contextmanager
    def working(self) -> Iterator[None]:
        """Around a delivery loop: every companion works meanwhile."""
        started: list[Companion] = []
        try:
            for companion in list(self._all):
                companion.working(True)
                started.append(companion)
            yield
        finally:
            for companion in started:
                try:
                    companion.working(False)
                except Exception:
                    log.exception("%r could not stop working", companion)
