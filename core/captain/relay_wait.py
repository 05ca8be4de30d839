"""Deliveries in flight to a relay that stopped answering, and what they say meanwhile.

When the forwarder finds a relay gone (its heartbeat older than ``STALE_S`` in the broker's clock),
each delivery it holds, and each written to it while it stays gone, carries the reason ("waiting for
relay box-1 to come back (last seen 40 s ago): not sent again, and not timed out meanwhile"): stored
on its row, so the panel's read-back of the outbox shows it too, and told once as ``waiting``. They
stay in its stream; when the relay is back it takes them, and the reason leaves the rows still
``sending`` (told ``sending`` again).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
from quarterdeck.core.roster.remote import broker_now, read_relays, seen_text
from quarterdeck.core.store import forwarding

if TYPE_CHECKING:
    from quarterdeck.core.broker_client import BrokerClient
    from quarterdeck.core.captain.sent import InFlight, Liveness, Sent
    from quarterdeck.core.dispatch.dispatcher import Dispatcher

__all__ = ["RelayWatch", "back", "held"]

PREFIX = "waiting for relay "


def held(dispatcher: Dispatcher, relay: str, age: float, flights: Iterable[InFlight]) -> None:
    """``flights`` to ``relay``, last seen ``age`` seconds ago, wait for it."""
    flights = list(flights)
    if not flights:
        return
    why = f"{PREFIX}{relay} to come back ({seen_text(age)}): not sent again, and not timed out meanwhile"
    noted = forwarding.note_held(dispatcher.store, (f.delivery for f in flights), why)
    for flight in flights:
        if flight.delivery in noted:  # one that ended meanwhile says how it ended
            dispatcher.tell(DeliveryEvent(flight.delivery, flight.message_id, flight.agent, "waiting", detail=why))


def back(dispatcher: Dispatcher, relay: str, flights: Iterable[InFlight]) -> None:
    """``relay`` answers again: what it holds is on its way (the reason gone from the rows)."""
    forwarding.clear_waiting(dispatcher.store, f"{PREFIX}{relay} ", state="sending")
    for flight in flights:
        dispatcher.tell(DeliveryEvent(flight.delivery, flight.message_id, flight.agent, "sending"))


class RelayWatch:
    """The relays' heartbeats as the forwarder reads them (``read``, about once a second while it has
    work): ``liveness`` follows them, and the deliveries of a relay found gone, or back, are told so."""

    def __init__(self, dispatcher: Dispatcher, liveness: Liveness, sent: Sent) -> None:
        self.dispatcher = dispatcher
        self.liveness = liveness
        self.sent = sent
        self.ages: dict[str, float] = {}  # relay -> seconds since it was last seen, at the last reading

    def read(self, client: BrokerClient) -> None:
        """Read the announcements (a broker fault propagates; a malformed announcement is skipped)."""
        seen = {relay.name: relay.seen_at for relay in read_relays(client)}
        wall = broker_now(client)  # the clock relays stamp seen_at with
        before, self.ages = self.liveness.gone_now(), {relay: wall - at for relay, at in seen.items()}
        for relay in self.liveness.observe(seen, wall=wall):  # it stopped answering: what it holds waits
            held(self.dispatcher, relay, self.ages.get(relay, 0.0), self.sent.of_relay(relay))
        for relay in before - self.liveness.gone_now():
            back(self.dispatcher, relay, self.sent.of_relay(relay))

    def written(self, deliveries: set[int]) -> None:
        """``deliveries`` were just written to their relays' streams: those of a relay gone wait for it."""
        for relay in self.liveness.gone_now():
            held(self.dispatcher, relay, self.ages.get(relay, 0.0),
                 [flight for flight in self.sent.of_relay(relay) if flight.delivery in deliveries])
