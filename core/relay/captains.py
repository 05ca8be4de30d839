"""Which captains a relay's activity events go to: each captain seen reading them within a week.

Every captain (an outbox, named by its id: ``quarterdeck.core.store.control.outbox_id``) sees all of
the relays' agents' activity, so a relay cannot hand each event to one reader as it does receipts.
A captain says it is there by writing its id and the broker's time into ``qd:captains``
(:func:`say_here`, as it reads its events, at most every ``SAY_EVERY_S``). A relay reads that hash
at most every ``READ_EVERY_S`` (:class:`Captains`) and writes each event to ``qd:events:<captain>``
of every captain seen within ``KEEP_S``: one that comes back within a week finds what it missed,
and each deletes what it stored from its own stream only; one not seen for longer is struck from
the hash. While no captain is known (a relay started before any captain ran) events go to
``qd:events``, where the first captain to read them takes them.
"""
from __future__ import annotations

import logging
import math
import re
import time
from typing import TYPE_CHECKING, Any

from redis import exceptions as rx

from quarterdeck.core.relay.protocol import KEYS, NAME_PATTERN, Keys

if TYPE_CHECKING:
    from quarterdeck.core.broker_client import BrokerClient

log = logging.getLogger(__name__)

KEEP_S = 7 * 86400.0
READ_EVERY_S = 2.0
SAY_EVERY_S = 5.0


def say_here(client: BrokerClient, captain: str, now: float, keys: Keys = KEYS) -> None:
    """Record that ``captain`` reads its events (``now``: the broker's clock)."""
    client.hset(keys.captains, captain, repr(float(now)))


def seen(raw: dict[Any, Any]) -> dict[str, float]:
    """``qd:captains`` as read (bytes or str): captain -> when last seen; malformed fields are skipped."""
    found = {}
    for key, value in raw.items():
        name = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
        try:
            at = float(value)
        except (TypeError, ValueError):
            continue
        if re.fullmatch(NAME_PATTERN, name) and math.isfinite(at):
            found[name] = at
    return found


class Captains:
    """The event streams a relay writes to (see the module docstring)."""

    def __init__(self, client: BrokerClient, keys: Keys = KEYS) -> None:
        self.client = client
        self.keys = keys
        self._streams = [keys.events]
        self._read_at = -math.inf
        self._refused = False  # said that the broker refused to strike old captains

    def streams(self, now: float) -> list[str]:
        """The streams of the captains seen within ``KEEP_S`` of ``now`` (the broker's clock), or
        ``qd:events`` while there is none; the hash is read again at most every ``READ_EVERY_S``. A
        broker failure propagates (the events wait and go with the next batch)."""
        if time.monotonic() - self._read_at >= READ_EVERY_S:
            raw: Any = self.client.hgetall(self.keys.captains)
            known = seen(raw)
            recent = sorted(c for c, at in known.items() if now - at <= KEEP_S)
            self._streams = [self.keys.events_of(c) for c in recent] or [self.keys.events]
            self._read_at = time.monotonic()
            if gone := [c for c in known if c not in recent]:
                self._strike(gone)
        return self._streams

    def _strike(self, gone: list[str]) -> None:
        """Strike captains not seen for a week from the hash, as well as this relay may: an ACL without
        HDEL leaves them there (read and passed over each time; said once). One that says it is here
        again between the read and the strike says so again within ``SAY_EVERY_S``."""
        try:
            self.client.hdel(self.keys.captains, *gone)
        except rx.ResponseError as exc:
            if not self._refused:
                self._refused = True
                log.info("captains not seen for a week stay in %s (%s): give the relay's ACL user +hdel",
                         self.keys.captains, " ".join(str(exc).split())[:120])
