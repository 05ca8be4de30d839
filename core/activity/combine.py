"""One activity from two signals: the agent's own hooks and watching its pane or window.

Two signals that agree (or where one only refines the other) give that state. Refinements:

- the watcher says offline: offline (the pane or the window the captain reaches it by is gone);
- working and stalled: the watcher's (it sees whether the screen still changes);
- idle and needs-you: needs-you (a waiting agent is also not working);
- rate-limited and idle or needs-you: rate-limited (the turn ended on the limit).

Any other difference is a disagreement. When the later signal came more than
:data:`SUPERSEDE_S` after the earlier one, it is news the other has not spoken to (a notify-only
hook that never says "working", a watcher that has not looked since), and the later one holds.
Otherwise the state is ``unknown``, naming both, rather than a guess.
"""
from __future__ import annotations

from dataclasses import replace

from quarterdeck.core.activity.state import (
    IDLE,
    NEEDS_YOU_STATE,
    OFFLINE,
    RATE_LIMITED,
    STALLED,
    UNKNOWN,
    WORKING,
    Activity,
    unknown,
)

SUPERSEDE_S = 30.0


def _refined(hook: Activity, seen: Activity) -> Activity | None:
    """The state both signals allow, or None when they disagree."""
    pair = {hook.state, seen.state}
    if hook.state == seen.state:
        first = min((hook, seen), key=lambda a: a.since if a.since is not None else float("inf"))
        return replace(seen, since=first.since, why=f"{seen.why}; {hook.why}")
    if seen.state == OFFLINE or pair == {WORKING, STALLED}:
        return seen
    if pair == {IDLE, NEEDS_YOU_STATE}:
        return hook if hook.state == NEEDS_YOU_STATE else seen
    if RATE_LIMITED in pair and pair <= {RATE_LIMITED, IDLE, NEEDS_YOU_STATE}:
        return hook if hook.state == RATE_LIMITED else seen
    return None


def combine(hook: Activity | None, seen: Activity | None, agent_id: str) -> Activity:
    """The agent's activity from its hook track and its watched track (either may be missing)."""
    if hook is None or (hook.state == UNKNOWN and hook.signal is None):
        return seen if seen is not None else (hook or unknown(agent_id))
    if seen is None:
        return hook
    agreed = _refined(hook, seen)
    if agreed is not None:
        return agreed
    hook_at, seen_at = hook.signal_at or 0.0, seen.signal_at or 0.0
    if abs(hook_at - seen_at) > SUPERSEDE_S:
        return hook if hook_at > seen_at else seen
    later = max(hook_at, seen_at)
    why = f"signals disagree: its hook says {hook.state} ({hook.signal}), watching says {seen.state} ({seen.signal})"
    return Activity(agent_id, UNKNOWN, later, seen.signal if seen_at >= hook_at else hook.signal, later, why,
                    seen.source if seen_at >= hook_at else hook.source)
