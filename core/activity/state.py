"""Events -> each agent's activity: ``working``, ``idle``, ``needs-you``, ``rate-limited``,
``stalled``, ``offline`` or ``unknown``.

Pure: the same events and the same ``now`` give the same answer. Each state carries since when
it holds, the signal it rests on ("Stop hook 12 s ago") and why. An agent has two tracks: what
its own hooks said (below) and what watching its pane or window saw (the ``seen_*`` events,
:mod:`quarterdeck.core.activity.seen`); :mod:`quarterdeck.core.activity.combine` makes one state
of the two (:mod:`quarterdeck.core.activity.tracks`). The hook track, event by event in order:

- a prompt submitted: ``working`` (the agent took a prompt);
- a tool used: ``working`` (after a permission request it means the captain answered); an agent
  already working keeps its since-when;
- needs-you (a permission request, a notification): ``needs-you``, with what it waits for; a
  second one while waiting keeps the first one's since-when (the wait is as old as the first);
- a turn ended: ``idle`` (an idle agent told again keeps its since-when);
- a session started: ``idle``; a session ended: ``unknown`` (the agent is gone or restarting);
- anything else changes nothing. No event at all: ``unknown``.

Working with no hook event for :data:`STALL_AFTER_S` (at ``now``) is ``stalled``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from quarterdeck.core.activity.events import (
    NEEDS_YOU,
    NO_PROMPT_SEEN,
    PROMPT_SUBMITTED,
    SESSION_ENDED,
    SESSION_START,
    TMUX_WATCH,
    TOOL_USE,
    TURN_ENDED,
    WINDOW_WATCH,
    ActivityEvent,
    iso,
)

WORKING = "working"
IDLE = "idle"
NEEDS_YOU_STATE = "needs-you"
RATE_LIMITED = "rate-limited"
STALLED = "stalled"
OFFLINE = "offline"
UNKNOWN = "unknown"
STATES = (WORKING, IDLE, NEEDS_YOU_STATE, RATE_LIMITED, STALLED, OFFLINE, UNKNOWN)
WATCHERS = (TMUX_WATCH, WINDOW_WATCH)

STALL_AFTER_S = 600.0  # working with nothing heard for this long: stalled
_NOTICE_TYPES = frozenset({"permission_prompt", "ToolPermission"})  # a notification's type, kept as detail

_WHY = {PROMPT_SUBMITTED: "a prompt was submitted", TOOL_USE: "it is using tools",
        TURN_ENDED: "its turn ended", SESSION_START: "its session started, no prompt yet",
        SESSION_ENDED: "its session ended"}


@dataclass(frozen=True)
class Activity:
    """``since``, ``signal_at``: seconds since the epoch (None when nothing was heard);
    ``signal``: the tool's event name that set the state, e.g. ``Stop``, or what a watcher saw,
    e.g. ``busy indicator in pane``; ``source``: the tool or the watcher; ``waits_for``: for
    needs-you, permission / question / login / notification; ``message``: what the agent said it
    waits for, when it said; ``resets_at``: for rate-limited, when the limit resets, if said."""

    agent_id: str
    state: str
    since: float | None
    signal: str | None
    signal_at: float | None
    why: str
    source: str | None = None
    waits_for: str | None = None
    message: str | None = None
    resets_at: float | None = None

    def signal_text(self, now: float) -> str:
        """The signal and its age, e.g. ``Stop hook 12 s ago`` or ``busy indicator in pane 3 s
        ago``; ``no hook event`` when none."""
        if self.signal is None or self.signal_at is None:
            return "no hook event"
        if self.source in WATCHERS:
            return f"{self.signal} {age(now - self.signal_at)} ago"
        return f"{self.signal} hook {age(now - self.signal_at)} ago"

    def to_dict(self, now: float) -> dict[str, object]:
        """The JSON form (``agents list --json``, ``attention --json``)."""
        return {"state": self.state, "since": iso(self.since) if self.since is not None else None,
                "seconds": round(now - self.since, 1) if self.since is not None else None,
                "signal": self.signal_text(now), "why": self.why, "source": self.source,
                "waits_for": self.waits_for, "message": self.message,
                "resets_at": iso(self.resets_at) if self.resets_at is not None else None}


def age(seconds: float) -> str:
    """``12 s``, ``4 min``, ``2 h 5 min``, ``3 d``: how long, to the unit that matters."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} d"


def unknown(agent_id: str, why: str = "no hook event from this agent and no watcher report") -> Activity:
    return Activity(agent_id=agent_id, state=UNKNOWN, since=None, signal=None, signal_at=None, why=why)


def is_free(activity: Activity) -> bool:
    """True only when the agent is known to be idle: a message may be pasted now. An agent CLI's
    screen that is merely quiet, with no input prompt the patterns know (a menu, a dialog), is
    not: a paste there could answer it."""
    return activity.state == IDLE and not (activity.signal or "").endswith(NO_PROMPT_SEEN)


def aged(activity: Activity, now: float | None, stall_after: float = STALL_AFTER_S) -> Activity:
    """``activity`` at ``now``: working with no signal for ``stall_after`` seconds is stalled."""
    if now is None or activity.state != WORKING or activity.signal_at is None:
        return activity
    quiet = now - activity.signal_at
    if quiet < stall_after:
        return activity
    return Activity(activity.agent_id, STALLED, activity.signal_at + stall_after, activity.signal,
                    activity.signal_at, f"working, but nothing heard for {age(quiet)}", activity.source)


def step(current: Activity, event: ActivityEvent) -> Activity:
    """``current`` after ``event`` (see the module docstring)."""
    kind = event.kind
    if kind == NEEDS_YOU:
        what = event.waits_for or "notification"
        since = current.since if current.state == NEEDS_YOU_STATE and current.since is not None else event.at
        tool = event.detail if event.detail not in _NOTICE_TYPES else None  # a tool's name, not a notice type
        why = f"it waits for {what}" + (f" ({tool})" if tool and what == "permission" else "")
        message = event.text or (current.message if current.state == NEEDS_YOU_STATE else None)
        return Activity(event.agent_id, NEEDS_YOU_STATE, since, event.name, event.at, why, event.source,
                        what, message)
    target = {PROMPT_SUBMITTED: WORKING, TOOL_USE: WORKING, TURN_ENDED: IDLE, SESSION_START: IDLE,
              SESSION_ENDED: UNKNOWN}.get(kind)
    if target is None:
        return current
    keep = target == current.state and kind != PROMPT_SUBMITTED
    start = current.since if keep and current.since is not None else event.at
    why = _WHY[kind]
    if kind == TOOL_USE and event.detail:
        why = f"it is using tools ({event.detail})"
    return Activity(event.agent_id, target, start, event.name, event.at, why, event.source)


def waiting(states: Mapping[str, Activity]) -> list[Activity]:
    """The agents that need the captain, longest waiting first."""
    found = [a for a in states.values() if a.state == NEEDS_YOU_STATE]
    return sorted(found, key=lambda a: (a.since if a.since is not None else 0.0, a.agent_id))
