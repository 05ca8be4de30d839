"""Watching GUI agents' windows where no hook reports: a changing transcript is an agent at work.

Cursor, VS Code and Windsurf show the agent's chat transcript in a Chromium pane. Without hooks,
``WindowWatcher.sample(now)`` (once a second) looks at each agent's transcript region
(:mod:`~quarterdeck.core.activity.watch.window_sample`) and asks whether it changed since the
previous look (:mod:`~quarterdeck.core.activity.watch.change`). It returns events only when what
it sees changes (source ``window-watch``):

- the region changed since the previous look -> ``seen_working`` ("transcript changing");
- no change for ``quiet_after`` seconds after a change -> ``seen_idle`` ("transcript quiet 5 s");
- the agent's window is not open any more -> ``seen_offline`` ("window gone").

The first look only records the region: a change after it says working, ``quiet_after`` seconds
without one say idle. A window whose region cannot be seen (minimised, covered by another window,
off the screen) or that cannot be told apart (two windows match) reports nothing for that sample
(logged at debug level): pixels seen through another window are not the agent's. After such a gap,
or when the region moved or changed size (the window is found again on every sample, so the
region follows it), the next look starts afresh: moving a window is not work, and idle needs
``quiet_after`` seconds of evidence again.

A transcript that changes all the time is working by definition, so there is no "stalled" here.
The watcher holds an X connection of its own (``close()`` ends it; a later sample opens another).
bench/bench_watch_windows.py measures it: 8 Chromium windows, ~0.3% of one core at 1 sample/s.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from quarterdeck.core.activity.events import SEEN_IDLE, SEEN_OFFLINE, SEEN_WORKING, WINDOW_WATCH, ActivityEvent
from quarterdeck.core.activity.watch.window_sample import GONE, SEEN, Sight, WindowLooker
from quarterdeck.core.models import Agent, GuiTransport

if TYPE_CHECKING:
    from quarterdeck.core.desktop.x11.desk import Desk

log = logging.getLogger(__name__)

__all__ = ["QUIET_AFTER", "WindowWatcher"]

QUIET_AFTER = 5.0  # s without a change after which the transcript is quiet
CHANGING = "transcript changing"
GONE_NAME = "window gone"


@dataclass
class _Seen:
    """What the watcher knows of one agent's window between samples."""

    kind: str | None = None  # the seen_* kind last reported (None: nothing yet)
    since: float = 0.0  # the last change, or the first look after a gap
    gap: str = ""  # why the previous sample saw nothing ('' when it did): logged once per reason


class WindowWatcher:
    """Watches the windows of ``agents`` (gui agents bound to a window; see the module docstring).

    ``quiet_after`` is how long a transcript must hold still to say idle; ``desk`` an X connection
    to use instead of the watcher's own (it must not be shared: damage events arrive on it)."""

    def __init__(self, agents: Iterable[Agent], *, quiet_after: float = QUIET_AFTER,
                 desk: Desk | None = None) -> None:
        self.agents: list[Agent] = []
        for agent in agents:
            if isinstance(agent.transport, GuiTransport) and agent.transport.window is not None:
                self.agents.append(agent)
            else:
                log.info("%s is not watched: only gui agents bound to a window ('window:' in the roster) are",
                         agent.id)
        self.quiet_after = quiet_after
        self.looker = WindowLooker(desk)
        self._seen: dict[str, _Seen] = {agent.id: _Seen() for agent in self.agents}

    def close(self) -> None:
        """End the watcher's X connection (a later sample opens a new one)."""
        self.looker.close()

    @property
    def quiet_name(self) -> str:
        return f"transcript quiet {self.quiet_after:g} s"

    def sample(self, now: float) -> list[ActivityEvent]:
        """Look at every agent's window once; the events of those whose seen state changed."""
        if not self.agents:
            return []
        self.looker.begin()
        events: list[ActivityEvent] = []
        for agent in self.agents:
            kind = self._judge(agent.id, self.looker.look(agent), now)
            if kind is not None:
                name = {SEEN_WORKING: CHANGING, SEEN_IDLE: self.quiet_name, SEEN_OFFLINE: GONE_NAME}[kind]
                events.append(ActivityEvent(agent_id=agent.id, source=WINDOW_WATCH, kind=kind, name=name, at=now))
        return events

    def _judge(self, agent_id: str, sight: Sight, now: float) -> str | None:
        """The seen_* kind to report for this look (None: nothing new)."""
        seen = self._seen[agent_id]
        if sight.status != SEEN:
            if sight.why != seen.gap:
                seen.gap = sight.why
                log.debug("%s: nothing reported this sample: %s", agent_id, sight.why)
            if sight.status == GONE:
                return self._report(seen, SEEN_OFFLINE)
            return None
        seen.gap = ""
        if sight.changed is None:
            seen.since = now  # a first look (or the first after a gap or a resize): evidence starts now
            return None
        if sight.changed:
            seen.since = now
            return self._report(seen, SEEN_WORKING)
        if now - seen.since >= self.quiet_after:
            return self._report(seen, SEEN_IDLE)
        return None

    @staticmethod
    def _report(seen: _Seen, kind: str) -> str | None:
        if seen.kind == kind:
            return None
        seen.kind = kind
        return kind
