"""The broker as the captain's forwarder last found it, and what waits for it meanwhile.

``why`` is None while the broker answers; otherwise the reason deliveries to relays wait, fixed
for the whole outage ("waiting for broker redis://127.0.0.1:6390: Error 111 connecting to
127.0.0.1:6390. Connection refused."), so each queued delivery is given it, and told of it, once
per outage, not once per attempt. One log line when an outage begins and one when it ends. While
it lasts the broker is asked (PING) at most every ``retry`` seconds; when it answers, the reason
leaves the deliveries still queued and they go.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

import redis

from quarterdeck.core.store import forwarding
from quarterdeck.core.transports.broker import BrokerDown, BrokerLink

if TYPE_CHECKING:
    from quarterdeck.core.store.outbox import Store

__all__ = ["Outage"]

log = logging.getLogger(__name__)

REPEAT_QUIET_S = 60.0


class Outage:
    def __init__(self, link: BrokerLink, store: Store, *, retry: float = 0.5) -> None:
        self.link = link
        self.store = store
        self.retry = retry
        self.why: str | None = None
        self.prefix = f"waiting for broker {link.where}: "
        self._last_try = 0.0
        self._said: str | None = None  # the last outage said, and when
        self._said_at = 0.0
        self._quiet = False

    @property
    def reason(self) -> str:
        return self.why or ""

    def answers(self) -> bool:
        """May the broker be used now? A connection to it is open (checked without a command), or,
        during an outage, it answered a PING (asked at most every ``retry`` seconds)."""
        now = time.monotonic()
        if self.why is not None and now - self._last_try < self.retry:
            return False
        self._last_try = now
        try:
            if self.why is None:
                self.link.ready()
            else:
                self.link.client.ping()
        except (*BrokerDown, redis.RedisError) as exc:  # unreachable, or refusing (full, an ACL)
            self.failed(exc)
            return False
        self.ok()
        return True

    def ok(self) -> None:
        """The broker answers (it took a command just now)."""
        if self.why is not None:
            self.why = None
            cleared = forwarding.clear_waiting(self.store, self.prefix)
            (log.debug if self._quiet else log.warning)(
                "broker %s answers again: relayed deliveries go on (%d were waiting)", self.link.where,
                len(cleared))

    def failed(self, exc: BaseException, also: str = "") -> None:
        """The broker could not take a command: an outage begins (said once), or goes on. The same
        reason again within a minute (a broker that answers PING but refuses the writes) is not said
        again."""
        now = time.monotonic()
        self._last_try = now
        if self.why is None:
            self.why = self.prefix + self.link.reason(exc)
            self._quiet = self.why == self._said and now - self._said_at < REPEAT_QUIET_S
            if not self._quiet:
                self._said, self._said_at = self.why, now
                log.warning("%s%s", self.why, f"; {also}" if also else "")

    def waiting(self, agents: Iterable[str]) -> list[tuple[int, str, str]]:
        """Give the queued deliveries to ``agents`` this outage's reason; returns those that just got it."""
        agents = list(agents)
        if self.why is None or not agents:
            return []
        return forwarding.note_waiting(self.store, agents, self.why)
