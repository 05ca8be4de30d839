"""Each agent's activity from all its events: the hook track and the watched track, combined.

Hook events step the hook track (:func:`quarterdeck.core.activity.state.step`), ``seen_*`` events
the watched track (:mod:`quarterdeck.core.activity.seen`); at ``now`` a working hook track with
nothing heard for long turns stalled, and :mod:`quarterdeck.core.activity.combine` makes one state
of the two.
"""
from __future__ import annotations

from collections.abc import Iterable

from quarterdeck.core.activity.combine import combine
from quarterdeck.core.activity.events import SEEN_KINDS, ActivityEvent
from quarterdeck.core.activity.seen import step_seen
from quarterdeck.core.activity.state import STALL_AFTER_S, Activity, aged, step, unknown


def reduce(events: Iterable[ActivityEvent], agent_ids: Iterable[str] = (), now: float | None = None,
           stall_after: float = STALL_AFTER_S) -> dict[str, Activity]:
    """Each agent's activity after ``events`` (taken in the order given: oldest first) at ``now``
    (None: no ageing, nothing turns stalled); every id in ``agent_ids`` is in the answer,
    ``unknown`` when no event names it."""
    hooks: dict[str, Activity] = {}
    seen: dict[str, Activity] = {}
    for event in events:
        agent = event.agent_id
        if event.kind in SEEN_KINDS:
            seen[agent] = step_seen(seen.get(agent) or unknown(agent), event)
        else:
            hooks[agent] = step(hooks.get(agent) or unknown(agent), event)
    states: dict[str, Activity] = {agent: unknown(agent) for agent in agent_ids}
    for agent in {*hooks, *seen}:
        hook = aged(hooks[agent], now, stall_after) if agent in hooks else None
        states[agent] = combine(hook, seen.get(agent), agent)
    return states


def changes(events: Iterable[ActivityEvent], agent_id: str) -> list[tuple[float, str]]:
    """``agent_id``'s state after each of its events, as ``(when, state)``, consecutive repeats
    left out (no ageing: a long working stretch stays working here)."""
    hook: Activity | None = None
    seen: Activity | None = None
    found: list[tuple[float, str]] = []
    for event in events:
        if event.agent_id != agent_id:
            continue
        if event.kind in SEEN_KINDS:
            seen = step_seen(seen or unknown(agent_id), event)
        else:
            hook = step(hook or unknown(agent_id), event)
        state = combine(hook, seen, agent_id).state
        if not found or found[-1][1] != state:
            found.append((event.at, state))
    return found
