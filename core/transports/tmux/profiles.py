"""How each kind of terminal agent wants its message submitted, as data.

A profile says how long to let the pane's program start before pasting, how long the pasted text
may take to show, how long to pause before the submit key, how long to watch for the text to leave
the input after each press, and how many presses to try before reporting the text typed but not
submitted. The submit key is always sent on its own ``send-keys`` call, never with the paste.

The defaults for the agent CLIs come from their users' reports (Codex CLI treats an Enter that
arrives within its paste-burst window as a newline; TUIs drop input during their first seconds;
Claude Code and Codex show a long paste as a placeholder rather than the text). Tried in tmux 3.3a
with Claude Code 2.1.328 and Codex CLI 0.169.0 at their prompts: both took the bracketed paste and
submitted on the first Enter, their placeholders as below. A roster agent can override any number
with ``submit: {pause: 0.8, presses: 3}``.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from msgspec import Struct
from msgspec.structs import replace

__all__ = ["AGENT_KINDS", "PLACEHOLDERS", "PROFILES", "SubmitProfile", "detect_kind", "profile_for"]


class SubmitProfile(Struct, frozen=True):
    """The submit behaviour of one kind of agent (times in seconds)."""

    kind: str = "plain"
    ready_after: float = 0.0
    """The pane's program must have been running this long before anything is pasted."""
    typed_within: float = 2.0
    """How long the pasted text may take to show in the pane; after that it was not typed."""
    pause: float = 0.0
    """Pause between the text showing in the input and the first press of the submit key."""
    submitted_within: float = 1.0
    """How long to watch, after each press, for the text to leave the input."""
    presses: int = 2
    """Presses of the submit key at most, the first included, while the text stays in the input."""
    placeholders: tuple[str, ...] = ()
    """Regular expressions for what the agent shows in place of a long paste."""
    busy: tuple[str, ...] = ()
    """Regular expressions for the agent's busy indicator (it reacted to a submitted message)."""

    def __post_init__(self) -> None:
        for name in ("ready_after", "typed_within", "pause", "submitted_within"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.presses < 1:
            raise ValueError("presses must be at least 1")
        for pattern in (*self.placeholders, *self.busy):
            re.compile(pattern)

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> SubmitProfile:
        """This profile with some numbers replaced; unknown names are an error."""
        if not overrides:
            return self
        known = set(self.__struct_fields__) - {"kind"}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown submit setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        values: dict[str, Any] = {k: (tuple(v) if k in ("placeholders", "busy") else v)
                                   for k, v in overrides.items() if v is not None}
        return replace(self, **values)


_INTERRUPT = r"(?i)\besc to (interrupt|cancel)\b"

PROFILES: dict[str, SubmitProfile] = {
    # The full-screen agents (Node or Rust TUIs) may take seconds to redraw on a loaded machine:
    # typed_within only bounds the wait when nothing shows (the check returns as soon as it does).
    # cat, a shell `read` loop, any line-mode program: Enter ends the line at once.
    "plain": SubmitProfile("plain"),
    "claude-code": SubmitProfile(
        "claude-code", ready_after=2.0, typed_within=6.0, pause=0.3, submitted_within=2.0, presses=3,
        placeholders=(r"\[Pasted text #\d+(?: \+\d+ lines)?\]",), busy=(_INTERRUPT,),
    ),
    # Codex CLI reads an Enter inside its paste-burst window (~120 ms) as a newline.
    "codex": SubmitProfile(
        "codex", ready_after=2.0, typed_within=6.0, pause=0.5, submitted_within=2.0, presses=3,
        placeholders=(r"\[Pasted Content \d+ chars\]",), busy=(_INTERRUPT,),
    ),
    # Aider's input is prompt_toolkit: bracketed paste, Enter submits.
    "aider": SubmitProfile(
        "aider", ready_after=1.0, typed_within=2.0, pause=0.1, submitted_within=1.5, presses=2,
    ),
    "gemini": SubmitProfile(
        "gemini", ready_after=2.0, typed_within=6.0, pause=0.3, submitted_within=2.0, presses=3,
        busy=(_INTERRUPT,),
    ),
}
AGENT_KINDS: tuple[str, ...] = tuple(PROFILES)
PLACEHOLDERS: tuple[str, ...] = tuple(dict.fromkeys(p for v in PROFILES.values() for p in v.placeholders))
"""Every known paste placeholder: one showing up after the paste is the paste, whatever the kind."""

# What tmux reports as #{pane_current_command} for each agent CLI.
_COMMANDS = {"claude": "claude-code", "codex": "codex", "aider": "aider", "gemini": "gemini"}


def detect_kind(command: str) -> str | None:
    """The agent kind a pane's current command names, if it names one."""
    return _COMMANDS.get(command.strip().rsplit("/", 1)[-1].lower())


def profile_for(kind: str | None, overrides: Mapping[str, Any] | None = None) -> SubmitProfile:
    """The profile of ``kind`` (``plain`` when None) with ``overrides`` applied."""
    name = kind or "plain"
    if name not in PROFILES:
        raise ValueError(f"unknown agent kind {name!r}; known: {', '.join(AGENT_KINDS)}")
    return PROFILES[name].with_overrides(overrides)
