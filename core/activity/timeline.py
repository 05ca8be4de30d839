"""How long each agent spent in each state: the Prometheus counters and the charts.

Replays the recorded events (:func:`quarterdeck.core.activity.tracks.changes`) and measures each
state's stretch inside a window ``[start, end]``. Before its first event an agent's time counts
as ``unknown``; a working stretch longer than ``stall_after`` counts as stalled after that point,
as the roster would have shown it.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from quarterdeck.core.activity.events import ActivityEvent
from quarterdeck.core.activity.state import STALL_AFTER_S, STALLED, STATES, UNKNOWN, WORKING
from quarterdeck.core.activity.tracks import changes


class Stretch(NamedTuple):
    """One agent in one state from ``start`` to ``end`` (seconds since the epoch)."""

    agent: str
    state: str
    start: float
    end: float


def _stretches(points: Sequence[tuple[float, str]], start: float, end: float,
               stall_after: float) -> Iterable[tuple[str, float, float]]:
    marks = [(start, UNKNOWN)] + [(at, state) for at, state in points if at > start]
    earlier = [state for at, state in points if at <= start]
    if earlier:
        marks[0] = (start, earlier[-1])
    for (at, state), following in zip(marks, [*marks[1:], (end, "")], strict=True):
        stop = min(following[0], end)
        if stop <= at:
            continue
        if state == WORKING and stop - at > stall_after:
            yield WORKING, at, at + stall_after
            yield STALLED, at + stall_after, stop
        else:
            yield state, at, stop


def stretches(events: Sequence[ActivityEvent], agent_ids: Iterable[str], start: float, end: float,
              stall_after: float = STALL_AFTER_S) -> list[Stretch]:
    """Every agent's states in ``[start, end]`` as consecutive stretches (the charts' bands)."""
    return [Stretch(agent, state, a, b) for agent in agent_ids
            for state, a, b in _stretches(changes(events, agent), start, end, stall_after)]


def time_in_state(events: Sequence[ActivityEvent], agent_ids: Iterable[str], start: float, end: float,
                  stall_after: float = STALL_AFTER_S) -> dict[str, dict[str, float]]:
    """Seconds per state (every state present, zeros included) for each agent in ``[start, end]``."""
    found: dict[str, dict[str, float]] = {}
    for agent in agent_ids:
        totals = dict.fromkeys(STATES, 0.0)
        for state, a, b in _stretches(changes(events, agent), start, end, stall_after):
            totals[state] += b - a
        found[agent] = totals
    return found
