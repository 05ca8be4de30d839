"""Each tool's hook JSON -> one :class:`~quarterdeck.core.activity.events.ActivityEvent`.

Event names and fields as each tool documents them (checked December 2026):

- Claude Code (``hook_event_name``, ``session_id``): ``UserPromptSubmit`` (``prompt``), ``Stop``,
  ``StopFailure``, ``Notification`` (``message``, ``notification_type``: ``permission_prompt``,
  ``idle_prompt``, ``auth_success``; some versions send no type, then the message decides),
  ``PermissionRequest`` / ``PreToolUse`` / ``PostToolUse`` (``tool_name``), ``SessionStart``,
  ``SessionEnd``.
- VS Code agent hooks: the same event names; common fields ``sessionId``, ``hookEventName``,
  ``timestamp`` (camelCase), the event's own fields snake_case (``prompt``, ``tool_name``).
- Codex: lifecycle hooks with Claude's names and fields (``session_id``, ``turn_id``); and the
  ``notify`` program, handed one JSON argument ``{"type": "agent-turn-complete", "thread-id",
  "turn-id", "cwd", "input-messages", "last-assistant-message"}``.
- Cursor (``hook_event_name``, ``conversation_id``): ``beforeSubmitPrompt`` (``prompt``), ``stop``
  (``status``), ``afterAgentResponse`` (``text``), tool hooks, ``sessionStart`` / ``sessionEnd``.
- Windsurf Cascade (``agent_action_name``, ``trajectory_id``, ``timestamp``, ``tool_info``):
  ``pre_user_prompt`` (``tool_info.user_prompt``), ``post_cascade_response``, the
  ``pre_``/``post_`` read_code, write_code, run_command and mcp_tool_use hooks.
- Gemini CLI (``hook_event_name``, ``session_id``, ``timestamp``): ``BeforeAgent`` (``prompt``),
  ``AfterAgent``, ``Notification`` (``notification_type`` ``ToolPermission``, ``message``),
  ``BeforeTool`` / ``AfterTool`` (``tool_name``), ``SessionStart``, ``SessionEnd``.
"""
from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from quarterdeck.core.activity.events import (
    CLAUDE_CODE,
    CODEX,
    CURSOR,
    GEMINI,
    MAX_DETAIL,
    MAX_TEXT,
    NEEDS_YOU,
    NOTIFICATION,
    OTHER,
    PERMISSION,
    PROMPT_SUBMITTED,
    SESSION_ENDED,
    SESSION_START,
    SOURCES,
    TOOL_USE,
    TURN_ENDED,
    VSCODE,
    WINDSURF,
    ActivityEvent,
    clip,
    parse_time,
)

_CLAUDE = {"UserPromptSubmit": PROMPT_SUBMITTED, "Stop": TURN_ENDED, "StopFailure": TURN_ENDED,
           "PreToolUse": TOOL_USE, "PostToolUse": TOOL_USE, "PostToolUseFailure": TOOL_USE,
           "PermissionRequest": NEEDS_YOU, "SessionStart": SESSION_START, "SessionEnd": SESSION_ENDED}
_CURSOR = {"beforeSubmitPrompt": PROMPT_SUBMITTED, "stop": TURN_ENDED, "sessionStart": SESSION_START,
           "sessionEnd": SESSION_ENDED, "preToolUse": TOOL_USE, "postToolUse": TOOL_USE,
           "postToolUseFailure": TOOL_USE, "beforeShellExecution": TOOL_USE, "afterShellExecution": TOOL_USE,
           "beforeMCPExecution": TOOL_USE, "afterMCPExecution": TOOL_USE, "beforeReadFile": TOOL_USE,
           "afterFileEdit": TOOL_USE}
_GEMINI = {"BeforeAgent": PROMPT_SUBMITTED, "AfterAgent": TURN_ENDED, "BeforeTool": TOOL_USE,
           "AfterTool": TOOL_USE, "SessionStart": SESSION_START, "SessionEnd": SESSION_ENDED}
_WINDSURF_TOOLS = ("read_code", "write_code", "run_command", "mcp_tool_use")
_CLOCK_SLACK = 3600.0  # a tool's own timestamp further than this from ours is not believed


class HookInputError(ValueError):
    """The hook's input is not a JSON object."""


def decode(raw: bytes | str) -> dict[str, Any]:
    """The hook's JSON object; :class:`HookInputError` for anything else."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HookInputError(f"the hook input is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise HookInputError(f"the hook input is JSON {type(data).__name__}, not an object")
    return data


def event_name(source: str, payload: Mapping[str, Any]) -> str:
    """The tool's own name for the event ('' when the payload names none)."""
    if source == WINDSURF:
        name = payload.get("agent_action_name")
    elif source == CODEX and "type" in payload and "hook_event_name" not in payload:
        name = payload.get("type")  # the notify program's payload
    else:
        name = payload.get("hook_event_name", payload.get("hookEventName"))
    return name if isinstance(name, str) else ""


def parse_event(source: str, agent_id: str, payload: Mapping[str, Any], now: float | None = None) -> ActivityEvent:
    """``payload`` (one hook call of ``source``) as an event of ``agent_id``; ValueError for an
    unknown source. An event this module does not know is kept as kind ``other``."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; one of {', '.join(SOURCES)}")
    now = time.time() if now is None else now
    name = event_name(source, payload)
    if source == CURSOR:
        fields = _cursor(name, payload)
    elif source == WINDSURF:
        fields = _windsurf(name, payload)
    elif source == GEMINI:
        fields = _gemini(name, payload)
    elif source == CODEX and name == "agent-turn-complete":
        fields = {"kind": TURN_ENDED, "detail": clip(payload.get("last-assistant-message"), MAX_DETAIL),
                  "session": payload.get("thread-id")}
    else:  # claude-code, vscode and Codex's lifecycle hooks share Claude's format
        fields = _claude(name, payload)
    session = fields.pop("session", None)
    if session is None:
        session = payload.get("session_id", payload.get("sessionId"))
    told = parse_time(payload.get("timestamp"))
    at = told if told is not None and abs(told - now) <= _CLOCK_SLACK else now
    return ActivityEvent(agent_id=agent_id, source=source, kind=str(fields.pop("kind")), name=name or "?", at=at,
                         session=session if isinstance(session, str) and session else None, **fields)


def _prompt(value: object) -> dict[str, Any]:
    return {"kind": PROMPT_SUBMITTED, "text": clip(value, MAX_TEXT)}


def _tool(payload: Mapping[str, Any], fallback: str | None = None) -> dict[str, Any]:
    return {"kind": TOOL_USE, "detail": clip(payload.get("tool_name"), MAX_DETAIL) or fallback}


def _claude(name: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    kind = _CLAUDE.get(name, OTHER)
    if kind == PROMPT_SUBMITTED:
        return _prompt(payload.get("prompt"))
    if kind == TOOL_USE:
        return _tool(payload)
    if name == "PermissionRequest":
        return {"kind": NEEDS_YOU, "waits_for": PERMISSION, "detail": clip(payload.get("tool_name"), MAX_DETAIL)}
    if name == "Notification":
        return _claude_notification(payload)
    if name == "StopFailure":
        return {"kind": TURN_ENDED, "detail": clip(payload.get("error_type"), MAX_DETAIL) or "failed"}
    return {"kind": kind}


def _claude_notification(payload: Mapping[str, Any]) -> dict[str, Any]:
    message = clip(payload.get("message"), MAX_TEXT)
    kind = payload.get("notification_type")
    lowered = (message or "").lower()
    if kind == "permission_prompt" or (kind is None and "permission" in lowered):
        return {"kind": NEEDS_YOU, "waits_for": PERMISSION, "text": message, "detail": "permission_prompt"}
    if kind == "idle_prompt" or (kind is None and "waiting for your input" in lowered):
        return {"kind": TURN_ENDED, "text": message, "detail": "idle_prompt"}
    if kind == "auth_success":
        return {"kind": OTHER, "text": message, "detail": "auth_success"}
    return {"kind": NEEDS_YOU, "waits_for": NOTIFICATION, "text": message, "detail": clip(kind, MAX_DETAIL)}


def _cursor(name: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    kind = _CURSOR.get(name, OTHER)
    session = payload.get("conversation_id")
    if kind == PROMPT_SUBMITTED:
        return {**_prompt(payload.get("prompt")), "session": session}
    if kind == TOOL_USE:
        return {**_tool(payload, name), "session": session}
    if kind == TURN_ENDED:
        return {"kind": kind, "detail": clip(payload.get("status"), MAX_DETAIL), "session": session}
    return {"kind": kind, "session": session}


def _windsurf(name: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    info = payload.get("tool_info")
    info = info if isinstance(info, dict) else {}
    session = payload.get("trajectory_id")
    if name == "pre_user_prompt":
        return {**_prompt(info.get("user_prompt")), "session": session}
    if name == "post_cascade_response":
        return {"kind": TURN_ENDED, "session": session}
    for tool in _WINDSURF_TOOLS:
        if name in (f"pre_{tool}", f"post_{tool}"):
            detail = clip(info.get("mcp_tool_name"), MAX_DETAIL) or tool
            return {"kind": TOOL_USE, "detail": detail, "session": session}
    return {"kind": OTHER, "session": session}


def _gemini(name: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    if name == "Notification":
        message = clip(payload.get("message"), MAX_TEXT)
        if payload.get("notification_type") == "ToolPermission":
            return {"kind": NEEDS_YOU, "waits_for": PERMISSION, "text": message, "detail": "ToolPermission"}
        return {"kind": NEEDS_YOU, "waits_for": NOTIFICATION, "text": message,
                "detail": clip(payload.get("notification_type"), MAX_DETAIL)}
    kind = _GEMINI.get(name, OTHER)
    if kind == PROMPT_SUBMITTED:
        return _prompt(payload.get("prompt"))
    if kind == TOOL_USE:
        return _tool(payload)
    return {"kind": kind}


def hook_reply(source: str, name: str) -> str:
    """What the hook prints on stdout so that the tool carries on unchanged ('' for nothing).

    Cursor's ``beforeSubmitPrompt`` expects ``{"continue": true}``; its stop and after-hooks take
    an empty object. Gemini CLI parses stdout as JSON on exit 0 and wants nothing else there, so it
    gets ``{}``; so does VS Code, which parses stdout as JSON. Claude Code, Codex and Windsurf need
    nothing (Claude adds a UserPromptSubmit hook's plain stdout to the model's context, so nothing
    is exactly right). A Cursor hook whose expected reply is not documented here (a permission
    hook such as ``beforeShellExecution``) gets nothing rather than a guessed decision.
    """
    if source == CURSOR:
        if name == "beforeSubmitPrompt":
            return '{"continue": true}'
        return "{}" if name == "stop" or name.startswith("after") else ""
    if source in (GEMINI, VSCODE):
        return "{}"
    return ""


__all__ = ["CLAUDE_CODE", "HookInputError", "decode", "event_name", "hook_reply", "parse_event"]
