"""The agents' recorded activity, read for a few agents only: what the idle gate asks every cycle.

The same answer as :func:`quarterdeck.core.activity.journal.activities` for the agents named (the
spool taken in first, each agent's latest events, reduced at ``now``), read through the store's
own connection for just those agents, which the dispatcher's thread can afford twice a second.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from quarterdeck.core.activity.journal import ingest_spool, latest_events
from quarterdeck.core.activity.state import Activity
from quarterdeck.core.activity.tracks import reduce

if TYPE_CHECKING:
    from quarterdeck.core.store.outbox import Store


def recorded_activities(store: Store, agent_ids: Sequence[str], now: float) -> Mapping[str, Activity]:
    """Each of ``agent_ids``' activity at ``now`` from the events recorded beside ``store``'s file."""
    conn = store.connection()
    ingest_spool(conn, store.path.parent)
    return reduce(latest_events(conn, agent_ids), agent_ids, now=now)
