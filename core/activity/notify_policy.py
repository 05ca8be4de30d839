"""When to tell the captain, by a desktop notification, that an agent needs them.

Pure: no D-Bus, no Qt, no clock of its own. :class:`NotifyPrefs` is what the captain chose (do
not disturb, quiet hours, muted agents, which states alert); :class:`NoticePolicy` is shown each
agent's activity as it changes and answers what to show and what to take back:

- an agent that *enters* an alerting state (``needs-you``; ``rate-limited`` and ``stalled`` when
  chosen) gets one notice; it gets no other while it stays there, whatever it says meanwhile. A
  later since-when in the same state is a new entry: it left and came back between two looks
  (the captain answered and the agent asked again);
- an agent first seen already in such a state counts as entering it (the panel just started and
  the agent waits);
- do not disturb, quiet hours or a mute hold the notice: it is not shown later either (the
  Attention area lists who waits); the hold and its reason are returned so the caller can log it;
- an agent that leaves the state it was shown for has its notice taken back (the captain
  answered in the terminal; the notification would only be stale).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time

from quarterdeck.core.activity.state import NEEDS_YOU_STATE, RATE_LIMITED, STALLED, Activity

MAX_BODY = 300  # characters of the agent's own message shown; a notification is not a log

DND = "do not disturb"
QUIET_HOURS = "quiet hours"
MUTED = "muted"


def parse_clock(text: str) -> time:
    """``HH:MM`` (24-hour clock) as a time; ``ValueError`` saying what is wrong otherwise."""
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not (hours.isdigit() and minutes.isdigit()) or len(minutes) != 2:
        raise ValueError(f"{text!r} is not a time of day: give HH:MM, e.g. 22:00")
    if not (0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59):
        raise ValueError(f"{text!r} is not a time of day: hours 0-23, minutes 00-59")
    return time(int(hours), int(minutes))


def parse_quiet_hours(text: str) -> tuple[time, time]:
    """``22:00-07:00`` as (from, until); the span may cross midnight."""
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"{text!r} is not a span: give FROM-UNTIL, e.g. 22:00-07:00")
    begin, until = parse_clock(start), parse_clock(end)
    if begin == until:
        raise ValueError(f"{text!r} is empty: from and until are the same time")
    return begin, until


@dataclass(frozen=True)
class NotifyPrefs:
    """``dnd``: nothing is shown; ``quiet``: (from, until) local times when nothing is shown, or
    None; ``muted``: agents never shown; ``rate_limited`` / ``stalled``: those states alert too."""

    dnd: bool = False
    quiet: tuple[time, time] | None = None
    muted: frozenset[str] = field(default_factory=frozenset)
    rate_limited: bool = False
    stalled: bool = False

    def alerting(self) -> frozenset[str]:
        """The states that raise a notice."""
        return frozenset({NEEDS_YOU_STATE} | ({RATE_LIMITED} if self.rate_limited else set())
                         | ({STALLED} if self.stalled else set()))

    def quiet_at(self, moment: datetime) -> bool:
        """Whether ``moment`` (local time) falls in the quiet hours; ``until`` is not quiet."""
        if self.quiet is None:
            return False
        begin, until = self.quiet
        now = moment.time().replace(second=0, microsecond=0, tzinfo=None)
        if begin < until:
            return begin <= now < until
        return now >= begin or now < until  # across midnight

    def held_because(self, agent_id: str, moment: datetime) -> str | None:
        """Why a notice for ``agent_id`` is not shown at ``moment``, or None when it is."""
        if self.dnd:
            return DND
        if agent_id in self.muted:
            return MUTED
        if self.quiet_at(moment):
            return QUIET_HOURS
        return None

    def quiet_text(self) -> str:
        """``22:00-07:00`` or ``off``."""
        if self.quiet is None:
            return "off"
        return "-".join(t.strftime("%H:%M") for t in self.quiet)


@dataclass(frozen=True)
class Notice:
    """One notification: for ``agent_id``, shown because it is in ``state``."""

    agent_id: str
    state: str
    title: str
    body: str


@dataclass(frozen=True)
class Decision:
    """What one look at the agents asks for: notices to ``show``, agents whose notice to
    ``withdraw``, and (agent, reason) of the notices ``held`` back."""

    show: tuple[Notice, ...] = ()
    withdraw: tuple[str, ...] = ()
    held: tuple[tuple[str, str], ...] = ()


def clip(text: str, limit: int = MAX_BODY) -> str:
    """One line of at most ``limit`` characters (an ellipsis marks the cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def notice_for(activity: Activity) -> Notice:
    """The notice for an agent in an alerting state: who, and what it waits for in its own words,
    e.g. title ``Agent-3 needs you``, body ``permission: Bash(rm -rf build)``."""
    agent, state = activity.agent_id, activity.state
    if state == NEEDS_YOU_STATE:
        what = activity.waits_for or "attention"
        body = f"{what}: {activity.message}" if activity.message else activity.why
        return Notice(agent, state, f"{agent} needs you", clip(body))
    if state == RATE_LIMITED:
        resets = activity.resets_at
        when = f"resets at {datetime.fromtimestamp(resets).strftime('%H:%M')}: " if resets is not None else ""
        return Notice(agent, state, f"{agent} is rate-limited", clip(when + (activity.message or activity.why)))
    if state == STALLED:
        return Notice(agent, state, f"{agent} seems stalled", clip(activity.why))
    return Notice(agent, state, f"{agent}: {state}", clip(activity.why))


class NoticePolicy:
    """Remembers, per agent, the alerting state it was last seen in and whether its notice is
    on screen; :meth:`look` compares the agents' new activities against that."""

    def __init__(self) -> None:
        self._in: dict[str, tuple[str, float]] = {}  # agent -> the alerting state it is in, since when
        self._shown: set[str] = set()  # agents whose notice is (as far as we know) on screen

    def look(self, activities: Mapping[str, Activity], prefs: NotifyPrefs, moment: datetime) -> Decision:
        """The notices ``activities`` call for under ``prefs`` at ``moment`` (local time). Agents
        not in ``activities`` are left as they were: a partial update names only who changed."""
        show: list[Notice] = []
        withdraw: list[str] = []
        held: list[tuple[str, str]] = []
        alerting = prefs.alerting()
        for agent, activity in activities.items():
            state = activity.state if activity.state in alerting else None
            before = self._in.get(agent)
            if state is None:
                if before is not None:
                    del self._in[agent]
                    if agent in self._shown:
                        self._shown.discard(agent)
                        withdraw.append(agent)
                continue
            since = activity.since if activity.since is not None else float("-inf")
            if before is not None and before[0] == state and since <= before[1]:
                continue  # the same wait
            self._in[agent] = (state, since)
            reason = prefs.held_because(agent, moment)
            if reason is not None:
                held.append((agent, reason))
                continue
            show.append(notice_for(activity))
            self._shown.add(agent)
        return Decision(tuple(show), tuple(withdraw), tuple(held))

    def closed(self, agent_id: str) -> None:
        """The notification of ``agent_id`` is gone (clicked or dismissed): nothing to take back."""
        self._shown.discard(agent_id)

    def forget(self, agent_id: str) -> bool:
        """``agent_id`` left the roster: its next appearance counts as new. Whether its notice
        was on screen (to take back)."""
        self._in.pop(agent_id, None)
        shown = agent_id in self._shown
        self._shown.discard(agent_id)
        return shown

    def tracked(self) -> frozenset[str]:
        """The agents remembered (in an alerting state, or with a notice on screen)."""
        return frozenset(self._in) | frozenset(self._shown)
