"""One agent event as Quarterdeck keeps it, whichever tool's hook reported it.

Every tool names its events differently (Claude Code's ``Stop``, Cursor's ``stop``, Windsurf's
``post_cascade_response``, Gemini CLI's ``AfterAgent``, Codex's ``agent-turn-complete``); the
parsers in :mod:`quarterdeck.core.activity.parse` map each onto one of the kinds below and keep
the tool's own name in ``name`` (the reducer quotes it: "Stop hook 12 s ago").
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

PROMPT_SUBMITTED = "prompt_submitted"
TURN_ENDED = "turn_ended"
NEEDS_YOU = "needs_you"
TOOL_USE = "tool_use"
SESSION_START = "session_start"
SESSION_ENDED = "session_ended"
OTHER = "other"
HOOK_KINDS = (PROMPT_SUBMITTED, TURN_ENDED, NEEDS_YOU, TOOL_USE, SESSION_START, SESSION_ENDED, OTHER)

# what watching an agent's tmux pane or window saw; recorded when what is seen changes. ``name``
# says what was seen ("busy indicator in pane", "transcript quiet 5 s"), ``waits_for`` (seen
# needs-you) what the agent waits for, ``detail`` (seen rate-limited) the reset time in ISO 8601
# when the agent said it, ``text`` the line that showed it.
SEEN_WORKING = "seen_working"
SEEN_IDLE = "seen_idle"
SEEN_NEEDS_YOU = "seen_needs_you"
SEEN_RATE_LIMITED = "seen_rate_limited"
SEEN_STALLED = "seen_stalled"
SEEN_OFFLINE = "seen_offline"
NO_PROMPT_SEEN = "no input prompt seen"  # ends a seen-idle name: quiet, but not at a prompt the patterns know
SEEN_KINDS = (SEEN_WORKING, SEEN_IDLE, SEEN_NEEDS_YOU, SEEN_RATE_LIMITED, SEEN_STALLED, SEEN_OFFLINE)
KINDS = HOOK_KINDS + SEEN_KINDS

# what a needs_you event waits for
PERMISSION = "permission"
QUESTION = "question"
NOTIFICATION = "notification"
LOGIN = "login"

# the sources of seen events
TMUX_WATCH = "tmux-watch"
WINDOW_WATCH = "window-watch"

CLAUDE_CODE = "claude-code"
CURSOR = "cursor"
VSCODE = "vscode"
WINDSURF = "windsurf"
GEMINI = "gemini"
CODEX = "codex"
SOURCES = (CLAUDE_CODE, CURSOR, VSCODE, WINDSURF, GEMINI, CODEX)

MAX_TEXT = 4000  # a prompt longer than this is kept cut (a delivery's text is matched by its start)
MAX_DETAIL = 300


@dataclass(frozen=True)
class ActivityEvent:
    """``kind`` is one of :data:`KINDS`; ``name`` the tool's own event name; ``waits_for`` (for
    ``needs_you``) one of permission / question / notification; ``text`` the prompt of a
    ``prompt_submitted`` or the message of a ``needs_you``; ``at`` seconds since the epoch (UTC);
    ``session`` the tool's session or conversation id, when it gives one."""

    agent_id: str
    source: str
    kind: str
    name: str
    at: float
    waits_for: str | None = None
    detail: str | None = None
    text: str | None = None
    session: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> ActivityEvent:
        """An event from its :meth:`to_json` form; ValueError when a field is missing or mistyped."""
        def text(key: str) -> str | None:
            value = data.get(key)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{key} is not text")
            return value

        agent_id, source, kind, name = (text(k) for k in ("agent_id", "source", "kind", "name"))
        at = data.get("at")
        if not (agent_id and source and kind in KINDS and name is not None) or isinstance(at, bool) \
                or not isinstance(at, int | float):
            raise ValueError("not an activity event")
        return cls(agent_id=agent_id, source=source, kind=str(kind), name=name, at=float(at),
                   waits_for=text("waits_for"), detail=text("detail"), text=text("text"),
                   session=text("session"))


def clip(value: object, limit: int) -> str | None:
    """``value`` as text cut to ``limit`` characters; None for anything that is not a non-empty string."""
    if not isinstance(value, str) or not value:
        return None
    return value if len(value) <= limit else value[: limit - 1] + "…"


def iso(at: float) -> str:
    """``at`` as an ISO 8601 UTC time to the second, e.g. ``2026-12-06T11:52:40Z``."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: object) -> float | None:
    """A tool's ISO 8601 ``timestamp`` as seconds since the epoch; None when it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
