"""Watching agents' tmux panes where no hook reports: what each agent is doing, from its screen.

:class:`TmuxPaneWatcher` reads every pane it watches with one tmux command per sample
(:mod:`~quarterdeck.core.activity.watch.tmux_sample`), classifies each screen by its agent kind's
patterns (:mod:`~quarterdeck.core.activity.watch.classify`) and returns ``seen_*`` events only
for the agents whose seen state changed since the previous sample. Beyond the patterns:

* a pane that no longer exists is ``seen_offline`` ("pane gone"); one whose program exited
  (a remain-on-exit pane) ``seen_offline`` too ("program exited in pane"), and so is an agent's
  pane where the agent ended and the pane's shell waits at its prompt (what is left on the screen
  is the ended agent's: its idle prompt there would invite a delivery into the shell);
* with no pattern matched the screen's changing tells: changed within ``quiet_after`` seconds is
  working, quiet longer is idle. The first look at a pane decides nothing of the kind: it waits
  for a change or for ``quiet_after`` seconds of quiet;
* working whose screen showed no progress (elapsed times and spinner frames aside) for
  ``stall_after`` seconds is ``seen_stalled``.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from quarterdeck.core.activity import events
from quarterdeck.core.activity.watch.classify import (
    QUIET_AFTER,
    Seen,
    by_change,
    classify,
    decide,
    match,
    steady,
    tail_lines,
)
from quarterdeck.core.activity.watch.patterns import PATTERNS_DIR, patterns_for
from quarterdeck.core.activity.watch.tmux_sample import PaneScreen, read_panes, shell_at_prompt

__all__ = ["STALL_AFTER", "Seen", "TmuxPaneWatcher", "WatchedPane", "classify"]  # classify: one screen on its own

STALL_AFTER = 600.0
GONE = Seen(events.SEEN_OFFLINE, "pane gone")
EXITED = Seen(events.SEEN_OFFLINE, "program exited in pane")
RESIZE_SETTLE = 1.5  # seconds after a resize whose redraws are not counted as changes
RETURNED = Seen(events.SEEN_OFFLINE, "agent ended: shell prompt in pane")


@dataclass(frozen=True)
class WatchedPane:
    agent_id: str
    target: str  # a tmux target: "%12", "agents:2.1"
    kind: str  # a pattern file's kind: claude-code, codex, aider, gemini, plain


@dataclass
class _Track:
    """What the watcher remembers of one pane between samples."""

    text_hash: bytes | None = None
    first_seen: float | None = None
    changed_at: float | None = None  # the last change seen (None: none seen yet)
    steady_hash: bytes | None = None
    steady_since: float | None = None  # since when the screen shows no progress
    found: Seen | None = None  # the patterns' verdict on the current text (None: no pattern)
    reported: Seen | None = None
    size: str | None = None  # the pane's size at the last look
    resized_at: float | None = None


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=16).digest()


class TmuxPaneWatcher:
    """``panes``: (agent id, tmux target, agent kind) each. ``socket`` is the tmux server
    (``-L name``, or ``-S path`` when it holds a ``/``), the default server when None."""

    def __init__(self, panes: Sequence[tuple[str, str, str] | WatchedPane], *, socket: str | None = None,
                 quiet_after: float = QUIET_AFTER, stall_after: float = STALL_AFTER,
                 patterns_dir: Path = PATTERNS_DIR, binary: str = "tmux") -> None:
        self.panes = [p if isinstance(p, WatchedPane) else WatchedPane(*p) for p in panes]
        for pane in self.panes:
            patterns_for(pane.kind, patterns_dir)  # an unknown kind fails here, not on a sample
        self.socket = socket
        self.binary = binary
        self.quiet_after = quiet_after
        self.stall_after = stall_after
        self.patterns_dir = patterns_dir
        self.tmux_calls: list[int] = []  # tmux processes started per sample, for the benchmark
        self._tracks = {pane.agent_id: _Track() for pane in self.panes}

    def current(self) -> dict[str, Seen | None]:
        """What was last reported for each agent (None: nothing yet)."""
        return {agent: track.reported for agent, track in self._tracks.items()}

    def sample(self, now: float) -> list[events.ActivityEvent]:
        """Read every pane once; the events of the agents whose seen state changed. TmuxUnavailable
        when tmux cannot be run (nothing is known then, nothing is reported)."""
        screens = read_panes([p.target for p in self.panes], self.socket, self.binary, self.tmux_calls)
        changed: list[events.ActivityEvent] = []
        for pane in self.panes:
            track = self._tracks[pane.agent_id]
            seen = self._look(pane, track, screens.get(pane.target), now)
            if seen is not None and (track.reported is None or seen.state != track.reported.state):
                track.reported = seen
                changed.append(seen.event(pane.agent_id, now))
        return changed

    def _look(self, pane: WatchedPane, track: _Track, screen: PaneScreen | None, now: float) -> Seen | None:
        """What ``pane`` shows now; None while that cannot be told yet."""
        if screen is None:  # forget the screen: a pane made again under the target starts afresh
            track.text_hash = track.steady_hash = None
            track.first_seen = track.changed_at = track.steady_since = None
            track.found = track.size = track.resized_at = None
            return GONE
        if screen.dead:
            return EXITED
        if pane.kind != "plain" and shell_at_prompt(screen):
            return RETURNED  # what is left on the screen is the ended agent's
        if track.size is not None and screen.size != track.size:
            track.resized_at = now  # a client attached or the window was resized: the redraw is no work
        track.size = screen.size
        settling = track.resized_at is not None and now - track.resized_at < RESIZE_SETTLE
        digest = _digest(screen.text)
        if digest != track.text_hash:
            if track.text_hash is not None and not settling:
                track.changed_at = now
            else:
                track.first_seen = now
            track.text_hash = digest
            patterns = patterns_for(pane.kind, self.patterns_dir)
            track.found = decide(pane.kind, match(patterns, tail_lines(screen.text, patterns.tail)), now)
            still = _digest(steady(screen.text))
            if still != track.steady_hash:
                track.steady_hash, track.steady_since = still, now
        seen = track.found
        if seen is None:
            if track.changed_at is None and track.first_seen is not None and \
                    now - track.first_seen < self.quiet_after:
                return None  # one look, no change seen yet: wait before calling it quiet
            seen = by_change(now, track.changed_at, self.quiet_after, pane.kind)
        if seen.kind == events.SEEN_WORKING and track.steady_since is not None and \
                now - track.steady_since >= self.stall_after:
            minutes = (now - track.steady_since) / 60
            return Seen(events.SEEN_STALLED, f"no progress in pane for {minutes:.0f} min while working",
                        seen.line, pattern=seen.pattern)
        return seen
