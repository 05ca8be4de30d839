"""Whether an agent is free for a "when idle" message, from the activity its hooks and watchers recorded.

The judgement behind :mod:`quarterdeck.core.dispatch.idle_gate`, which loads this module only once a
delivery waits for its agent or an agent takes a "continue" after a usage limit: a plain send reads no
activity and loads none of :mod:`quarterdeck.core.activity`.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from msgspec import Struct

from quarterdeck.core.activity.resume import limit_over, queue_continues
from quarterdeck.core.activity.state import UNKNOWN, Activity, age, is_free, unknown
from quarterdeck.core.dispatch.recorded import recorded_activities
from quarterdeck.core.store import waiting

if TYPE_CHECKING:
    from quarterdeck.core.dispatch.idle_gate import ActivityLookup
    from quarterdeck.core.models import Agent
    from quarterdeck.core.store.outbox import Store


class Freedom(Struct, frozen=True):
    """Whether an agent may be given a when-idle message now, and in words why not."""

    free: bool
    why: str = ""  # "Agent-3 is working (a prompt was submitted)"
    stayed: str = ""  # "Agent-3 stayed working": what an expiry says

    def expiry(self, agent: str, ttl: float | None) -> str:
        """Why a delivery to ``agent`` that could wait ``ttl`` seconds expired."""
        return f"expired after {span(ttl)}: {self.stayed or _late(agent)}"


def span(seconds: float | None) -> str:
    """``30 min``, ``2 h``, ``45 s``: how long a delivery was allowed to wait."""
    if seconds is None:
        return "its time"
    seconds = round(seconds)
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s" if seconds < 3600 else age(seconds)


def judge(activity: Activity, last_delivered: float | None, now: float) -> Freedom:
    """Whether ``activity``'s agent is free for a when-idle message at ``now`` (see the module docstring)."""
    agent = activity.agent_id
    if activity.state == UNKNOWN:
        return Freedom(False, f"{agent}'s activity is unknown — no hook or watcher reports it",
                       f"{agent}'s activity stayed unknown — no hook or watcher reports it")
    if not is_free(activity) and not limit_over(activity, now):
        return Freedom(False, f"{agent} is {activity.state} ({activity.why})", f"{agent} stayed {activity.state}")
    heard = activity.signal_at if activity.signal_at is not None else activity.since
    if last_delivered is not None and (heard is None or heard < last_delivered):
        return Freedom(False, f"{agent} was just sent another message; its turn has not been reported over",
                       f"{agent} stayed busy with an earlier message")
    return Freedom(True)


def _late(agent: str) -> str:
    return f"{agent} was not found idle while it waited"


def activities(store: Store, lookup: ActivityLookup | None, agent_ids: Sequence[str],
               now: float) -> Mapping[str, Activity]:
    """``lookup``'s answer, or by default what was recorded beside ``store``'s file (for these agents only)."""
    return lookup(agent_ids, now) if lookup is not None else recorded_activities(store, agent_ids, now)


def freedom(store: Store, lookup: ActivityLookup | None, agent_ids: Iterable[str], now: float) -> dict[str, Freedom]:
    """Each agent's :class:`Freedom` at ``now``."""
    agents = sorted(set(agent_ids))
    found = activities(store, lookup, agents, now)
    return {agent: judge(found.get(agent) or unknown(agent), waiting.last_delivered(store, agent), now)
            for agent in agents}


def continue_after_limits(store: Store, lookup: ActivityLookup | None, opted: Sequence[Agent], now: float) -> list[int]:
    """Queue the "continue" of each of ``opted`` whose usage limit has reset; the new deliveries."""
    return queue_continues(store, opted, activities(store, lookup, [a.id for a in opted], now), now)
