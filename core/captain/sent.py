"""What this captain process has handed to relays and not heard the end of, and how long each relay
has been there to answer.

``relay_wait`` counts only time the broker answered and the relay was seen alive: a delivery to a
relay that is down (or behind a broker that is) waits for it rather than turning ``uncertain``
while nobody could have reported. A relay is alive while its announcement's ``seen_at`` keeps
changing, judged by this machine's clock (:class:`Liveness`): a relay whose clock is off is
neither taken for dead nor for alive because of it. Each relay has an alive-time clock; a
delivery remembers its relay's clock when it went out and has waited ``clock - mark`` seconds.
Thread-safe: the forwarder adds and expires, the receipt reader removes.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["InFlight", "Liveness", "Sent"]


@dataclass(frozen=True)
class InFlight:
    delivery: int
    message_id: str
    agent: str
    relay: str
    sent: float  # time.monotonic() when the entry was written
    mark: float  # the relay's alive-time clock then


class Liveness:
    """Each relay's alive-time clock, from the ``seen_at`` of its announcements as read here."""

    def __init__(self, stale: float = 10.0) -> None:
        self.stale = stale
        self._seen: dict[str, float] = {}  # relay -> the seen_at last read
        self._changed: dict[str, float] = {}  # relay -> time.monotonic() when it last changed
        self._clock: dict[str, float] = {}
        self._ticked: float | None = None
        self._gone: set[str] = set()
        self._lock = threading.Lock()

    def observe(self, seen: Mapping[str, float], now: float | None = None, wall: float | None = None) -> list[str]:
        """The relays' ``seen_at`` as just read from the broker; returns the relays that were alive and
        are not any more. The first reading of a relay goes by the clocks' difference (a relay seen
        long ago is not alive); from then on only a change counts."""
        now = time.monotonic() if now is None else now
        wall = time.time() if wall is None else wall
        with self._lock:
            for relay, at in seen.items():
                if relay not in self._seen:
                    self._changed[relay] = now - min(max(0.0, wall - at), self.stale + 1.0)
                elif self._seen[relay] != at:
                    self._changed[relay] = now
                self._seen[relay] = at
            gone = [r for r, changed in self._changed.items() if self.stale < now - changed and r not in self._gone]
            self._gone = {r for r, changed in self._changed.items() if now - changed > self.stale}
        return gone

    def alive(self, relay: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            changed = self._changed.get(relay)
        return changed is not None and now - changed <= self.stale

    def tick(self, broker_up: bool, now: float | None = None) -> None:
        """Advance the clock of every relay that is alive, when the broker answers."""
        now = time.monotonic() if now is None else now
        with self._lock:
            step = 0.0 if self._ticked is None else max(0.0, now - self._ticked)
            self._ticked = now
            if not broker_up:
                return
            for relay, changed in self._changed.items():
                if now - changed <= self.stale:
                    self._clock[relay] = self._clock.get(relay, 0.0) + step

    def clock(self, relay: str) -> float:
        with self._lock:
            return self._clock.get(relay, 0.0)


class Sent:
    """The deliveries in flight, per relay in the order they went out."""

    def __init__(self, liveness: Liveness) -> None:
        self.liveness = liveness
        self._by_relay: dict[str, OrderedDict[int, InFlight]] = {}
        self._relay_of: dict[int, str] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._relay_of)

    def add(self, items: Iterable[tuple[int, str, str, str]], now: float | None = None) -> None:
        """(delivery, message id, agent, relay) each, written to the broker just now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            for delivery, message_id, agent, relay in items:
                self.discard_locked(delivery)
                flight = InFlight(delivery, message_id, agent, relay, now, self.liveness.clock(relay))
                self._by_relay.setdefault(relay, OrderedDict())[delivery] = flight
                self._relay_of[delivery] = relay

    def pop(self, delivery: int) -> InFlight | None:
        with self._lock:
            return self.discard_locked(delivery)

    def get(self, delivery: int) -> InFlight | None:
        with self._lock:
            relay = self._relay_of.get(delivery)
            return None if relay is None else self._by_relay[relay].get(delivery)

    def discard_locked(self, delivery: int) -> InFlight | None:
        relay = self._relay_of.pop(delivery, None)
        return None if relay is None else self._by_relay[relay].pop(delivery, None)

    def expired(self, wait: float) -> list[InFlight]:
        """Remove and return those whose relay has had ``wait`` seconds of alive time to answer."""
        out: list[InFlight] = []
        with self._lock:
            for relay, flights in self._by_relay.items():
                clock = self.liveness.clock(relay)
                while flights:
                    first = next(iter(flights.values()))
                    if clock - first.mark < wait:
                        break  # the rest went out later, with a later mark
                    flights.popitem(last=False)
                    self._relay_of.pop(first.delivery, None)
                    out.append(first)
        return out

    def of_relay(self, relay: str) -> list[InFlight]:
        with self._lock:
            return list(self._by_relay.get(relay, {}).values())

    def older_than(self, age: float, now: float | None = None) -> list[InFlight]:
        """Those written more than ``age`` seconds ago (still here)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return [f for flights in self._by_relay.values() for f in flights.values() if now - f.sent > age]
