"""Where each tool keeps its hooks, in which shape, and which of its events Quarterdeck listens to.

Checked against each tool's documentation (December 2026):

- Claude Code: ``~/.claude/settings.json``, a project's ``.claude/settings.json``; grouped
  ``{"hooks": {Event: [{"matcher", "hooks": [{"type": "command", "command"}]}]}}`` (``matcher``
  ``*`` for the tool events, left out for the others).
- Cursor: ``~/.cursor/hooks.json``, ``.cursor/hooks.json``; ``{"version": 1, "hooks": {event:
  [{"command"}]}}``. Only events whose reply :func:`~quarterdeck.core.activity.parse.hook_reply`
  knows: no permission hook (``beforeShellExecution`` ...) gets a guessed answer.
- VS Code agent hooks: every ``*.json`` in ``.github/hooks/`` of the workspace and in
  ``~/.copilot/hooks/`` for the user; ``{"hooks": {Event: [{"type": "command", "command"}]}}``.
  Quarterdeck keeps its own file there, ``quarterdeck.json``.
- Windsurf (Cascade hooks): ``~/.codeium/windsurf/hooks.json``, ``.windsurf/hooks.json``;
  ``{"hooks": {event: [{"command", "show_output": false}]}}``; post-hooks for the tools, which
  cannot block anything.
- Gemini CLI: ``~/.gemini/settings.json``, ``.gemini/settings.json``; grouped like Claude Code's,
  each hook with a ``name``.
- Codex: lifecycle hooks in ``hooks.json`` next to ``config.toml`` (``$CODEX_HOME``, default
  ``~/.codex``, or a project's ``.codex/``), grouped like Claude Code's without matchers; and the
  ``notify`` program in ``config.toml``. Codex runs a new hook only once it is trusted (``/hooks``
  in Codex); ``notify`` needs no trust, so the turn's end is seen either way.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quarterdeck.core.activity.events import CLAUDE_CODE, CODEX, CURSOR, GEMINI, SOURCES, VSCODE, WINDSURF
from quarterdeck.core.activity.install.jsonhooks import FLAT, GROUPED

NOTIFY = "notify"  # the shape of Codex's config.toml


@dataclass(frozen=True)
class HookFile:
    """One settings file of a tool: where it is for the user and for a project, its shape, the
    events Quarterdeck's hook goes on, and the rest of each entry."""

    user: tuple[str, ...]
    project: tuple[str, ...]
    shape: str
    events: tuple[str, ...] = ()
    item: dict[str, Any] = field(default_factory=dict)
    matcher_events: tuple[str, ...] = ()
    skeleton: dict[str, Any] = field(default_factory=dict)  # keys a new file starts with

    def path(self, project: Path | None, home: Path | None = None) -> Path:
        if project is not None:
            return Path(project).joinpath(*self.project)
        if self.user[0] == "$CODEX_HOME":
            codex_home = os.environ.get("CODEX_HOME")
            base = Path(codex_home) if codex_home else (home or Path.home()) / ".codex"
            return base.joinpath(*self.user[1:])
        return (home or Path.home()).joinpath(*self.user)


_COMMAND = {"type": "command"}
_CLAUDE_TOOLS = ("PreToolUse", "PostToolUse", "PostToolUseFailure", "PermissionRequest")

TOOLS: dict[str, tuple[HookFile, ...]] = {
    CLAUDE_CODE: (HookFile(
        (".claude", "settings.json"), (".claude", "settings.json"), GROUPED,
        ("UserPromptSubmit", "Stop", "StopFailure", "Notification", *_CLAUDE_TOOLS, "SessionStart", "SessionEnd"),
        _COMMAND, _CLAUDE_TOOLS),),
    CURSOR: (HookFile(
        (".cursor", "hooks.json"), (".cursor", "hooks.json"), FLAT,
        ("beforeSubmitPrompt", "stop", "afterShellExecution", "afterMCPExecution", "afterFileEdit",
         "sessionStart", "sessionEnd"), skeleton={"version": 1}),),
    VSCODE: (HookFile(
        (".copilot", "hooks", "quarterdeck.json"), (".github", "hooks", "quarterdeck.json"), FLAT,
        ("UserPromptSubmit", "Stop", "PreToolUse", "PostToolUse", "SessionStart"), _COMMAND),),
    WINDSURF: (HookFile(
        (".codeium", "windsurf", "hooks.json"), (".windsurf", "hooks.json"), FLAT,
        ("pre_user_prompt", "post_cascade_response", "post_read_code", "post_write_code", "post_run_command",
         "post_mcp_tool_use"), {"show_output": False}),),
    GEMINI: (HookFile(
        (".gemini", "settings.json"), (".gemini", "settings.json"), GROUPED,
        ("BeforeAgent", "AfterAgent", "Notification", "BeforeTool", "AfterTool", "SessionStart", "SessionEnd"),
        {"name": "quarterdeck", **_COMMAND}),),
    CODEX: (
        HookFile(("$CODEX_HOME", "hooks.json"), (".codex", "hooks.json"), GROUPED,
                 ("UserPromptSubmit", "Stop", "PermissionRequest", "PreToolUse", "PostToolUse", "SessionStart"),
                 _COMMAND),
        HookFile(("$CODEX_HOME", "config.toml"), (".codex", "config.toml"), NOTIFY),
    ),
}

LABELS = {CLAUDE_CODE: "Claude Code", CURSOR: "Cursor", VSCODE: "VS Code", WINDSURF: "Windsurf",
          GEMINI: "Gemini CLI", CODEX: "Codex"}


def files_of(source: str) -> tuple[HookFile, ...]:
    """The settings files of ``source``; ValueError for a tool Quarterdeck does not know."""
    try:
        return TOOLS[source]
    except KeyError:
        raise ValueError(f"unknown source {source!r}; one of {', '.join(SOURCES)}") from None
