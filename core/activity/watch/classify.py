"""What an agent's pane shows: working, idle, waiting for you, rate-limited or exited.

Only the bottom of the screen counts (the last ``tail`` non-empty lines, 15 by default), so text
that scrolled up does not. Within it a line matched above a prompt line that is not the last one
(the prompt the agent echoed for a later turn) is old news and does not count either. What is
left is decided strongest first: exited, login, permission, question; then a rate limit or a busy
indicator, whichever is lower on the screen (it happened later); then the input prompt (idle).
With none of them the screen itself tells: changing within ``quiet_after`` seconds is working,
quiet longer is idle.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from quarterdeck.core.activity import events
from quarterdeck.core.activity.watch.patterns import PATTERNS_DIR, Pattern, PatternSet, patterns_for
from quarterdeck.core.activity.watch.resets import parse_reset

__all__ = ["Hit", "Seen", "classify", "decide", "match", "tail_lines"]

QUIET_AFTER = 5.0
_MAX_LINE = events.MAX_DETAIL
_SEEN = {
    "exited": (events.SEEN_OFFLINE, None, "program exited in pane"),
    "login": (events.SEEN_NEEDS_YOU, events.LOGIN, "login screen in pane"),
    "permission": (events.SEEN_NEEDS_YOU, events.PERMISSION, "permission prompt in pane"),
    "question": (events.SEEN_NEEDS_YOU, events.QUESTION, "question in pane"),
    "rate_limit": (events.SEEN_RATE_LIMITED, None, "usage limit in pane"),
    "busy": (events.SEEN_WORKING, None, "busy indicator in pane"),
    "idle": (events.SEEN_IDLE, None, "input prompt in pane"),
}


@dataclass(frozen=True)
class Seen:
    """``kind`` one of ``events.SEEN_*``; ``name`` what was seen; ``line`` the line that showed it;
    ``pattern`` which pattern (``kind/category/name``), None when the screen's changing told."""

    kind: str
    name: str
    line: str | None = None
    waits_for: str | None = None
    resets_at: float | None = None
    pattern: str | None = None

    @property
    def state(self) -> tuple[str, str | None, float | None]:
        """What a change of is worth an event (not the line: a timer in it ticks every second)."""
        return self.kind, self.waits_for, self.resets_at

    def event(self, agent_id: str, at: float) -> events.ActivityEvent:
        return events.ActivityEvent(
            agent_id=agent_id, source=events.TMUX_WATCH, kind=self.kind, name=self.name, at=at,
            waits_for=self.waits_for,
            detail=events.iso(self.resets_at) if self.resets_at is not None else None,
            text=events.clip(self.line, events.MAX_TEXT))


@dataclass(frozen=True)
class Hit:
    index: int  # of the line in the tail
    pattern: Pattern
    text: str  # the line (with the lines a span joined)
    reset: str | None  # what the reset group captured


def tail_lines(screen_text: str, count: int) -> list[str]:
    """The last ``count`` non-empty lines, trailing blanks cut."""
    lines = [line.rstrip() for line in screen_text.splitlines()]
    return [line for line in lines if line.strip()][-count:]


def match(patterns: PatternSet, lines: list[str]) -> list[Hit]:
    """Every pattern's matches in ``lines`` (one hit per pattern and line)."""
    hits: list[Hit] = []
    last = len(lines) - 1
    for pattern in patterns.patterns:
        for index in ([last] if pattern.last_line else range(len(lines))) if lines else ():
            subject = lines[index] if pattern.span == 1 else " ".join(lines[index:index + pattern.span])
            found = pattern.regex.search(subject)
            if found and found.start() < len(lines[index]):  # it starts on this line
                reset = found.groupdict().get("reset") if pattern.has_reset else None
                hits.append(Hit(index, pattern, _through(lines, index, found.end()), reset))
    return hits


def _through(lines: list[str], index: int, end: int) -> str:
    """The lines from ``index`` that a match ending at ``end`` (in their space-joined text) covers."""
    taken, length = [lines[index]], len(lines[index])
    while length < end and index + len(taken) < len(lines):
        taken.append(lines[index + len(taken)].strip())
        length += 1 + len(lines[index + len(taken) - 1])
    return " ".join(taken)


def _current(hits: list[Hit]) -> list[Hit]:
    """The hits not above an echoed prompt: every prompt line but the lowest starts a later turn."""
    prompts = sorted(hit.index for hit in hits if hit.pattern.category == "idle")
    cut = prompts[-2] if len(prompts) > 1 else -1
    return [hit for hit in hits if hit.pattern.category == "idle" or hit.index > cut]


def _clock(at: float, now: float) -> str:
    moment, today = datetime.fromtimestamp(at), datetime.fromtimestamp(now)
    if moment.date() == today.date():
        return moment.strftime("%H:%M:%S" if at - now < 120 else "%H:%M")
    return moment.strftime("%b %d %H:%M")


def _seen(hit: Hit, kind: str, now: float) -> Seen:
    seen_kind, waits_for, name = _SEEN[hit.pattern.category]
    resets_at = parse_reset(hit.reset, now) if hit.reset else None
    if resets_at is not None:
        name += f" (resets {_clock(resets_at, now)})"
    line = hit.text if len(hit.text) <= _MAX_LINE else hit.text[: _MAX_LINE - 1] + "…"
    return Seen(seen_kind, name, line.strip(), waits_for, resets_at,
                f"{kind}/{hit.pattern.category}/{hit.pattern.name}")


def decide(kind: str, hits: list[Hit], now: float) -> Seen | None:
    """The strongest current hit as a Seen; None when no pattern matched."""
    current = _current(hits)
    by = {cat: [h for h in current if h.pattern.category == cat] for cat in _SEEN}
    for category in ("exited", "login", "permission", "question"):
        if by[category]:
            return _seen(max(by[category], key=lambda h: h.index), kind, now)
    late = by["rate_limit"] + by["busy"]
    if late:  # the lower one happened later; on one line the rate limit tells more
        hit = max(late, key=lambda h: (h.index, h.pattern.category == "rate_limit"))
        timed = [h for h in by["rate_limit"] if h.reset]
        if hit.pattern.category == "rate_limit" and not hit.reset and timed:
            # the message that said when sits above the line that matched last
            hit = Hit(hit.index, hit.pattern, hit.text, max(timed, key=lambda h: h.index).reset)
        return _seen(hit, kind, now)
    if by["idle"]:
        return _seen(max(by["idle"], key=lambda h: h.index), kind, now)
    return None


def by_change(now: float, changed_at: float | None, quiet_after: float, kind: str = "plain") -> Seen:
    """No pattern matched: a screen that changed within ``quiet_after`` s is working, else idle.
    An agent CLI shows its input prompt when it waits for one, so for them the name says that
    none was seen (a menu or screen the patterns do not know)."""
    if changed_at is not None and now - changed_at < quiet_after:
        return Seen(events.SEEN_WORKING, "screen changing")
    unknown = "" if kind == "plain" else f", {events.NO_PROMPT_SEEN}"
    return Seen(events.SEEN_IDLE, f"screen quiet {quiet_after:g} s{unknown}")


def classify(kind: str, screen_text: str, now: float, *, changed_at: float | None = None,
             quiet_after: float = QUIET_AFTER, patterns_dir: Path = PATTERNS_DIR) -> Seen:
    """What ``screen_text`` (a pane of an agent of ``kind``) shows at ``now``. ``changed_at`` is when
    the screen last changed, if known (a single look cannot tell: it counts as quiet)."""
    patterns = patterns_for(kind, patterns_dir)
    found = decide(kind, match(patterns, tail_lines(screen_text, patterns.tail)), now)
    return found if found is not None else by_change(now, changed_at, quiet_after, kind)


_TICKS = re.compile(r"\b\d+(?:\.\d+)?\s?(?:ms|[hms])\b|[⠀-⣿·✢✳✶✻✽◦•◐◑◒◓█░▓▒]")


def steady(screen_text: str) -> str:
    """The screen without what ticks by itself (elapsed times, spinner frames): two screens equal
    here show no progress, for telling a stalled agent."""
    return _TICKS.sub("", screen_text)
