"""Deliveries in flight to a relay that stopped answering, and what they say meanwhile.

When the forwarder finds a relay gone (no new heartbeat for ``gone_after`` seconds, ``Liveness``),
each delivery it holds, and each written to it while it stays gone, carries the reason ("waiting for
relay box-1 to come back (not seen since 21:48:37): not sent again, and not timed out meanwhile"):
stored on its row, so the panel's read-back of the outbox shows it too, and told as ``sending`` with
it (the delivery is in flight, in the relay's stream: neither queued here nor held "when idle"). They
stay in its stream; when the relay is back it takes them, and the reason leaves the rows still
``sending`` (told ``sending`` again). What could not be written (the outbox locked) is written at the
next reading. A relay that announces its GUI delivery paused (a person at its screen) holds what it
has without it being timed out (``Sent.hold``); when it no longer says so, the reason its receipt gave
("relay box-1: GUI delivery paused ...") leaves the rows, told ``sending``.
"""
from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from quarterdeck.core.dispatch import outcomes
from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
from quarterdeck.core.roster.remote import broker_now, read_relays
from quarterdeck.core.store import forwarding
from quarterdeck.core.store.rows import StoreError

if TYPE_CHECKING:
    from quarterdeck.core.broker_client import BrokerClient
    from quarterdeck.core.captain.sent import InFlight, Liveness, Sent
    from quarterdeck.core.dispatch.dispatcher import Dispatcher

__all__ = ["RelayWatch", "back", "held"]

PREFIX = "waiting for relay "


def why(relay: str, age: float) -> str:
    """The reason of a delivery that waits for ``relay``, last seen ``age`` seconds ago (a time, so
    it stays true however long it is shown)."""
    since = datetime.fromtimestamp(time.time() - age).strftime("%H:%M:%S")
    return f"{PREFIX}{relay} to come back (not seen since {since}): not sent again, and not timed out meanwhile"


def held(dispatcher: Dispatcher, relay: str, age: float, flights: Iterable[InFlight]) -> None:
    """``flights`` to ``relay``, last seen ``age`` seconds ago, wait for it (a store fault propagates)."""
    flights = list(flights)
    if not flights:
        return
    reason = why(relay, age)
    noted = forwarding.note_held(dispatcher.store, (f.delivery for f in flights), reason)
    for flight in flights:
        if flight.delivery in noted:  # one that ended meanwhile says how it ended
            dispatcher.tell(DeliveryEvent(flight.delivery, flight.message_id, flight.agent, "sending", detail=reason))


def back(dispatcher: Dispatcher, relay: str, prefix: str | None = None) -> None:
    """``relay`` answers again: what waited for it is on its way, the reason gone from the rows and told
    so (``prefix``: instead, the reason a relay gave for holding them, ``relay NAME: GUI delivery
    paused ...``, when it goes on)."""
    for delivery, message_id, agent in forwarding.clear_waiting(
            dispatcher.store, prefix or f"{PREFIX}{relay} ", state="sending"):
        dispatcher.tell(DeliveryEvent(delivery, message_id, agent, "sending"))


class RelayWatch:
    """The relays' heartbeats as the forwarder reads them (``read``, about once a second while it has
    work): ``liveness`` follows them, and the deliveries of a relay found gone, or back, are told so.
    ``told`` is the relays whose deliveries were told they wait: one whose rows could not be written
    is told again at the next reading."""

    def __init__(self, dispatcher: Dispatcher, liveness: Liveness, sent: Sent) -> None:
        self.dispatcher = dispatcher
        self.liveness = liveness
        self.sent = sent
        self.ages: dict[str, float] = {}  # relay -> seconds since it was last seen, at the last reading
        self.told: set[str] = set()
        self.paused: set[str] = set()  # relays whose GUI delivery is paused, as they announce it

    def read(self, client: BrokerClient) -> None:
        """Read the announcements (a broker or store fault propagates; a malformed announcement is
        skipped)."""
        announced = read_relays(client)
        seen = {relay.name: relay.seen_at for relay in announced}
        wall = broker_now(client)  # the clock relays stamp seen_at with
        self.ages = {relay: wall - at for relay, at in seen.items()}
        self.liveness.observe(seen, wall=wall)
        gone = self.liveness.gone_now()
        for relay in sorted(gone - self.told):  # it stopped answering: what it holds waits for it
            held(self.dispatcher, relay, self.ages.get(relay, 0.0), self.sent.of_relay(relay))
            self.told.add(relay)
        for relay in sorted(self.told - gone):
            back(self.dispatcher, relay)
            self.told.discard(relay)
        paused = {relay.name for relay in announced if relay.paused}
        for ann in announced:  # a person at its screen: what it holds for its screen agents is not timed out
            self.sent.hold(ann.name, [a.id for a in ann.agents if a.transport == "gui"] if ann.paused else ())
        for relay in sorted(self.paused - paused):  # resumed there (or restarted): the reason goes
            back(self.dispatcher, relay, f"relay {relay}: {outcomes.PAUSED}")
        self.paused = paused

    def written(self, deliveries: set[int]) -> None:
        """``deliveries`` were just written to their relays' streams: those of a relay gone wait for it
        (rows that cannot be written now are, with the rest of that relay's, at the next reading)."""
        for relay in self.liveness.gone_now():
            try:
                held(self.dispatcher, relay, self.ages.get(relay, 0.0),
                     [flight for flight in self.sent.of_relay(relay) if flight.delivery in deliveries])
            except (sqlite3.Error, StoreError):
                self.told.discard(relay)
