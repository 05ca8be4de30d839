"""What this captain process has handed to relays and not heard the end of, and how long each relay
has been there to answer.

``relay_wait`` counts only time the broker answered and the relay was seen alive: a delivery to a
relay that is down (or behind a broker that is) waits for it rather than turning ``uncertain``
while nobody could have reported. A relay is alive while its announcement's ``seen_at`` keeps
changing (it heartbeats every 2 s), judged by this machine's clock (:class:`Liveness`). A change is
dated by its stamp's age in the broker's clock (the relay stamps ``seen_at`` with Redis ``TIME`` and
the age is measured against it), but never before the previous reading: a relay that died while this
process was not looking is known gone at the first look, and one whose stamps are off (an ACL that
denies ``TIME``: each side's own clock) is neither taken for dead nor for alive because of it. Each relay has an
alive-time clock; a delivery remembers its relay's clock when it went out, and when its agent's
queue there last moved (:meth:`Sent.progress`), and has waited ``clock - max(both)`` seconds.
Thread-safe: the forwarder adds and expires, the receipt reader removes.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping
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

    def __init__(self, stale: float = 5.0, gone_after: float = 10.0) -> None:
        self.stale = stale  # no change of seen_at for this long (2.5 heartbeats): the clock stops
        self.gone_after = gone_after  # and for this long: the relay is gone (as the roster says)
        self._seen: dict[str, float] = {}  # relay -> the seen_at last read
        self._changed: dict[str, float] = {}  # relay -> time.monotonic() when it last changed
        self._clock: dict[str, float] = {}
        self._ticked: float | None = None
        self._gone: set[str] = set()
        self._read_at: float | None = None  # time.monotonic() of the last reading
        self._lock = threading.Lock()

    def observe(self, seen: Mapping[str, float], now: float | None = None, wall: float | None = None) -> list[str]:
        """The relays' ``seen_at`` as just read from the broker, with the broker's time then (``wall``);
        returns the relays gone since the last reading (no change for ``gone_after`` seconds)."""
        now = time.monotonic() if now is None else now
        wall = time.time() if wall is None else wall
        with self._lock:
            since, self._read_at = (now - self._read_at if self._read_at is not None else None), now
            for relay, at in seen.items():
                age = min(max(0.0, wall - at), self.gone_after + 1.0)  # by its stamp
                if relay not in self._changed:
                    self._changed[relay] = now - age
                elif self._seen.get(relay) != at:  # changed since the previous reading, not before it
                    self._changed[relay] = now - min(age, since if since is not None else age)
                self._seen[relay] = at
            gone = {r for r, changed in self._changed.items() if now - changed > self.gone_after}
            told, self._gone = gone - self._gone, gone
        return sorted(told)

    def gone_now(self) -> frozenset[str]:
        """The relays gone at the last reading."""
        with self._lock:
            return frozenset(self._gone)

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


Queue = tuple[str, str]  # (relay, agent): the relay delivers to each of its agents in order


class Sent:
    """The deliveries in flight, per relay and agent in the order they went out.

    A delivery turns ``uncertain`` only when, for ``wait`` seconds of its relay's alive time since it
    went out, neither its own receipt came nor any receipt of its agent's deliveries there
    (:meth:`progress`): a relay working through a long queue for an agent (thousands sent at once,
    a slow window agent) is not taken for one that lost it; nor while its relay said it holds them
    for a person there (:meth:`hold`)."""

    def __init__(self, liveness: Liveness) -> None:
        self.liveness = liveness
        self._queues: dict[Queue, OrderedDict[int, InFlight]] = {}
        self._queue_of: dict[int, Queue] = {}
        self._progress: dict[Queue, float] = {}  # the relay's alive-time clock at the agent's last receipt
        self._held: dict[str, frozenset[str]] = {}  # relay -> the agents it holds for a person there
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._queue_of)

    def add(self, items: Iterable[tuple[int, str, str, str]], now: float | None = None) -> None:
        """(delivery, message id, agent, relay) each, written to the broker just now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            for delivery, message_id, agent, relay in items:
                self.discard_locked(delivery)
                flight = InFlight(delivery, message_id, agent, relay, now, self.liveness.clock(relay))
                self._queues.setdefault((relay, agent), OrderedDict())[delivery] = flight
                self._queue_of[delivery] = (relay, agent)

    def progress(self, relay: str, agent: str) -> None:
        """A receipt of one of ``agent``'s deliveries on ``relay`` came: its queue there moves."""
        with self._lock:
            if (relay, agent) in self._queues:
                self._progress[(relay, agent)] = self.liveness.clock(relay)

    def hold(self, relay: str, agents: Collection[str]) -> None:
        """``relay`` holds what it has for ``agents`` for a person at its machine (GUI delivery paused
        there: a draft in an agent's input, a hand at the mouse; its screen agents), or for none. Nothing
        held turns ``uncertain`` meanwhile (a person may take minutes); let go, each of those queues waits
        afresh."""
        with self._lock:
            was = self._held.pop(relay, frozenset())
            if agents:
                self._held[relay] = frozenset(agents)
            let_go = was - self._held.get(relay, frozenset())
            if let_go:
                clock = self.liveness.clock(relay)
                for queue in self._queues:
                    if queue[0] == relay and queue[1] in let_go:
                        self._progress[queue] = clock

    def pop(self, delivery: int) -> InFlight | None:
        with self._lock:
            return self.discard_locked(delivery)

    def pop_many(self, deliveries: Iterable[int]) -> None:
        """:meth:`pop` each of ``deliveries`` (one turn of the lock)."""
        with self._lock:
            for delivery in deliveries:
                self.discard_locked(delivery)

    def get(self, delivery: int) -> InFlight | None:
        with self._lock:
            queue = self._queue_of.get(delivery)
            return None if queue is None else self._queues[queue].get(delivery)

    def discard_locked(self, delivery: int) -> InFlight | None:
        queue = self._queue_of.pop(delivery, None)
        if queue is None:
            return None
        flights = self._queues[queue]
        flight = flights.pop(delivery, None)
        if not flights:
            del self._queues[queue]
            self._progress.pop(queue, None)
        return flight

    def expired(self, wait: float) -> list[InFlight]:
        """Remove and return those whose relay had ``wait`` seconds of alive time to answer, in vain."""
        out: list[InFlight] = []
        with self._lock:
            for queue, flights in list(self._queues.items()):
                if queue[1] in self._held.get(queue[0], ()):
                    continue
                clock = self.liveness.clock(queue[0])
                moved = self._progress.get(queue, 0.0)
                while flights:
                    first = next(iter(flights.values()))
                    if clock - max(first.mark, moved) < wait:
                        break  # the rest went out later, with a later mark
                    out.append(first)
                    self.discard_locked(first.delivery)
        return out

    def of_relay(self, relay: str) -> list[InFlight]:
        with self._lock:
            return [f for (r, _), flights in self._queues.items() if r == relay for f in flights.values()]

    def older_than(self, age: float, now: float | None = None) -> list[InFlight]:
        """Those written more than ``age`` seconds ago (still here)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return [f for flights in self._queues.values() for f in flights.values() if now - f.sent > age]
