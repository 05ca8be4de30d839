"""The watched track of an agent's activity: what its tmux pane or its window showed.

A watcher records a ``seen_*`` event each time what it sees changes (see
:mod:`quarterdeck.core.activity.events`), so the latest one holds until the next: its time is
when that state began. A seen-rate-limited event's ``detail`` is the reset time (ISO 8601) when
the agent printed one.
"""
from __future__ import annotations

from quarterdeck.core.activity.events import (
    SEEN_IDLE,
    SEEN_NEEDS_YOU,
    SEEN_OFFLINE,
    SEEN_RATE_LIMITED,
    SEEN_STALLED,
    SEEN_WORKING,
    ActivityEvent,
    parse_time,
)
from quarterdeck.core.activity.state import IDLE, NEEDS_YOU_STATE, OFFLINE, RATE_LIMITED, STALLED, WORKING, Activity

_STATE = {SEEN_WORKING: WORKING, SEEN_IDLE: IDLE, SEEN_NEEDS_YOU: NEEDS_YOU_STATE,
          SEEN_RATE_LIMITED: RATE_LIMITED, SEEN_STALLED: STALLED, SEEN_OFFLINE: OFFLINE}
_WHERE = {"tmux-watch": "its pane", "window-watch": "its window"}


def _why(event: ActivityEvent, state: str, resets_at: float | None) -> str:
    where = _WHERE.get(event.source, "watching")
    if state == NEEDS_YOU_STATE:
        return f"it waits for {event.waits_for or 'you'} ({where} shows it)"
    if state == RATE_LIMITED:
        return f"it hit a usage limit ({where} shows it)" + ("" if resets_at is None else ", reset time known")
    if state == OFFLINE:
        return f"{where} is gone"
    if state == STALLED:
        return f"working, but {where} has not changed for a long time"
    return {WORKING: f"{where} is changing", IDLE: f"{where} is quiet"}.get(state, event.name)


def step_seen(current: Activity, event: ActivityEvent) -> Activity:
    """``current`` (the watched track) after one ``seen_*`` event."""
    state = _STATE.get(event.kind)
    if state is None:
        return current
    since = current.since if state == current.state and current.since is not None else event.at
    resets_at = parse_time(event.detail) if state == RATE_LIMITED else None
    message = event.text if state in (NEEDS_YOU_STATE, RATE_LIMITED) else None
    return Activity(event.agent_id, state, since, event.name, event.at, _why(event, state, resets_at), event.source,
                    event.waits_for if state == NEEDS_YOU_STATE else None, message, resets_at)
