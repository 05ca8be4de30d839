"""Each tool's documented hook JSON becomes the right normalized event (quarterdeck.core.activity.parse).

The payloads follow each tool's documentation: Claude Code's hooks reference (code.claude.com/docs/en/hooks),
VS Code's hooks reference (code.visualstudio.com/docs/agents/reference/hooks-reference, common fields from
the agent hooks page), Cursor's hooks page (cursor.com/docs/agent/hooks), Windsurf's Cascade hooks
(docs.windsurf.com/windsurf/cascade/hooks), Gemini CLI's hooks reference (geminicli.com/docs/hooks/reference)
and Codex (the input schemas in openai/codex codex-rs/hooks/schema/generated; the notify payload in
codex-rs's UserNotification test).
"""
from __future__ import annotations

import json

import pytest

from quarterdeck.core.activity.events import ActivityEvent, iso
from quarterdeck.core.activity.parse import HookInputError, decode, hook_reply, parse_event

NOW = 1_780_000_000.0
CLAUDE_BASE = {"session_id": "abc123", "transcript_path": "/home/u/.claude/projects/p/abc123.jsonl",
               "cwd": "/home/u/project", "permission_mode": "default"}
VSCODE_BASE = {"timestamp": "2026-05-28T20:26:30.000Z", "cwd": "/w", "sessionId": "session-identifier",
               "transcript_path": "/t.json"}
CURSOR_BASE = {"conversation_id": "conv_123", "generation_id": "gen_456", "workspace_roots": ["/w"]}
WINDSURF_BASE = {"trajectory_id": "traj-42", "execution_id": "exec-7", "timestamp": "2026-05-28T20:26:00Z"}
GEMINI_BASE = {"session_id": "g-1", "transcript_path": "/t.json", "cwd": "/w", "timestamp": "2026-05-28T20:26:10Z"}
CODEX_BASE = {"session_id": "019d036d", "turn_id": "019d036d-c7fa", "cwd": "/w", "model": "gpt-5-codex",
              "permission_mode": "default", "transcript_path": None}


def parse(source: str, payload: dict[str, object]) -> ActivityEvent:
    return parse_event(source, "Agent-1", payload, now=NOW)


@pytest.mark.parametrize(("source", "payload", "kind", "name", "text"), [
    ("claude-code", {**CLAUDE_BASE, "hook_event_name": "UserPromptSubmit", "prompt": "Fix the bug"},
     "prompt_submitted", "UserPromptSubmit", "Fix the bug"),
    ("vscode", {**VSCODE_BASE, "hookEventName": "UserPromptSubmit", "prompt": "Fix the bug"},
     "prompt_submitted", "UserPromptSubmit", "Fix the bug"),
    ("cursor", {**CURSOR_BASE, "hook_event_name": "beforeSubmitPrompt", "prompt": "Fix the bug",
                "attachments": [{"type": "file", "file_path": "/w/a.py"}]},
     "prompt_submitted", "beforeSubmitPrompt", "Fix the bug"),
    ("windsurf", {**WINDSURF_BASE, "agent_action_name": "pre_user_prompt",
                  "tool_info": {"user_prompt": "Fix the bug"}},
     "prompt_submitted", "pre_user_prompt", "Fix the bug"),
    ("gemini", {**GEMINI_BASE, "hook_event_name": "BeforeAgent", "prompt": "Fix the bug"},
     "prompt_submitted", "BeforeAgent", "Fix the bug"),
    ("codex", {**CODEX_BASE, "hook_event_name": "UserPromptSubmit", "prompt": "Fix the bug"},
     "prompt_submitted", "UserPromptSubmit", "Fix the bug"),
])
def test_a_submitted_prompt_from_every_tool_carries_its_text(source, payload, kind, name, text):
    event = parse(source, payload)
    assert (event.kind, event.name, event.text, event.agent_id, event.source) == (kind, name, text, "Agent-1", source)
    assert event.session is not None


@pytest.mark.parametrize(("source", "payload", "name", "session"), [
    ("claude-code", {**CLAUDE_BASE, "hook_event_name": "Stop", "stop_hook_active": False}, "Stop", "abc123"),
    ("vscode", {**VSCODE_BASE, "hookEventName": "Stop", "stop_hook_active": False}, "Stop", "session-identifier"),
    ("cursor", {**CURSOR_BASE, "hook_event_name": "stop", "status": "completed", "loop_count": 0}, "stop", "conv_123"),
    ("windsurf", {**WINDSURF_BASE, "agent_action_name": "post_cascade_response",
                  "tool_info": {"response": "Done."}}, "post_cascade_response", "traj-42"),
    ("gemini", {**GEMINI_BASE, "hook_event_name": "AfterAgent", "prompt": "p", "prompt_response": "r",
                "stop_hook_active": False}, "AfterAgent", "g-1"),
    ("codex", {**CODEX_BASE, "hook_event_name": "Stop", "last_assistant_message": "Done.",
               "stop_hook_active": False}, "Stop", "019d036d"),
    ("codex", {"type": "agent-turn-complete", "thread-id": "b5f6c1c2", "turn-id": "12345",
               "cwd": "/Users/example/project", "input-messages": ["Rename `foo` to `bar`."],
               "last-assistant-message": "Rename complete."}, "agent-turn-complete", "b5f6c1c2"),
])
def test_a_finished_turn_from_every_tool(source, payload, name, session):
    event = parse(source, payload)
    assert (event.kind, event.name, event.session) == ("turn_ended", name, session)


def test_what_a_needs_you_event_waits_for():
    permission = parse("claude-code", {**CLAUDE_BASE, "hook_event_name": "Notification",
                                       "message": "Claude needs your permission to use Bash",
                                       "notification_type": "permission_prompt"})
    assert (permission.kind, permission.waits_for, permission.text) == \
        ("needs_you", "permission", "Claude needs your permission to use Bash")
    untyped = parse("claude-code", {**CLAUDE_BASE, "hook_event_name": "Notification",
                                    "message": "Claude needs your permission to use Write"})
    assert (untyped.kind, untyped.waits_for) == ("needs_you", "permission")
    request = parse("claude-code", {**CLAUDE_BASE, "hook_event_name": "PermissionRequest", "tool_name": "Bash",
                                    "tool_input": {"command": "rm -rf build"}})
    assert (request.kind, request.waits_for, request.detail) == ("needs_you", "permission", "Bash")
    codex = parse("codex", {**CODEX_BASE, "hook_event_name": "PermissionRequest", "tool_name": "Bash",
                            "tool_input": {"command": "npm outdated"}})
    assert (codex.kind, codex.waits_for, codex.detail) == ("needs_you", "permission", "Bash")
    gemini = parse("gemini", {**GEMINI_BASE, "hook_event_name": "Notification", "notification_type": "ToolPermission",
                              "message": "Allow run_shell_command?", "details": {"tool_name": "run_shell_command"}})
    assert (gemini.kind, gemini.waits_for, gemini.text) == ("needs_you", "permission", "Allow run_shell_command?")
    other = parse("claude-code", {**CLAUDE_BASE, "hook_event_name": "Notification", "message": "Pick an option",
                                  "notification_type": "elicitation_dialog"})
    assert (other.kind, other.waits_for, other.text) == ("needs_you", "notification", "Pick an option")


def test_an_idle_reminder_is_a_finished_turn_and_a_login_is_nothing_to_wait_for():
    idle = parse("claude-code", {**CLAUDE_BASE, "hook_event_name": "Notification", "notification_type": "idle_prompt",
                                 "message": "Claude is waiting for your input"})
    assert (idle.kind, idle.waits_for) == ("turn_ended", None)
    login = parse("claude-code", {**CLAUDE_BASE, "hook_event_name": "Notification", "notification_type": "auth_success",
                                  "message": "Logged in"})
    assert login.kind == "other"


@pytest.mark.parametrize(("source", "payload", "detail"), [
    ("claude-code", {**CLAUDE_BASE, "hook_event_name": "PreToolUse", "tool_name": "Write",
                     "tool_input": {"file_path": "/w/f.txt", "content": "x"}, "tool_use_id": "toolu_01"}, "Write"),
    ("vscode", {**VSCODE_BASE, "hookEventName": "PostToolUse", "tool_name": "editFiles",
                "tool_input": {"files": ["src/main.ts"]}, "tool_use_id": "tool-123",
                "tool_response": "File edited successfully"}, "editFiles"),
    ("cursor", {**CURSOR_BASE, "hook_event_name": "afterShellExecution", "command": "pnpm test", "output": "ok",
                "duration": 1200}, "afterShellExecution"),
    ("windsurf", {**WINDSURF_BASE, "agent_action_name": "pre_run_command",
                  "tool_info": {"command_line": "npm test", "cwd": "/w"}}, "run_command"),
    ("gemini", {**GEMINI_BASE, "hook_event_name": "BeforeTool", "tool_name": "run_shell_command",
                "tool_input": {"command": "ls"}}, "run_shell_command"),
])
def test_tool_use(source, payload, detail):
    event = parse(source, payload)
    assert (event.kind, event.detail) == ("tool_use", detail)


def test_sessions_and_events_nobody_maps():
    assert parse("claude-code", {**CLAUDE_BASE, "hook_event_name": "SessionStart", "source": "startup"}).kind == \
        "session_start"
    assert parse("gemini", {**GEMINI_BASE, "hook_event_name": "SessionEnd", "reason": "exit"}).kind == "session_ended"
    assert parse("cursor", {**CURSOR_BASE, "hook_event_name": "afterAgentResponse", "text": "Done"}).kind == "other"
    odd = parse("claude-code", {"hook_event_name": "SubagentStop"})
    assert (odd.kind, odd.name, odd.session) == ("other", "SubagentStop", None)
    nameless = parse("windsurf", {"tool_info": {}})
    assert (nameless.kind, nameless.name) == ("other", "?")


def test_time_is_the_tools_own_when_it_gives_a_believable_one():
    told = NOW - 30
    close = parse("windsurf", {"agent_action_name": "post_cascade_response", "timestamp": iso(told)})
    assert close.at == told
    assert parse("gemini", {"hook_event_name": "AfterAgent", "timestamp": iso(NOW - 7200)}).at == NOW
    assert parse("vscode", {"hookEventName": "Stop", "timestamp": "not a time"}).at == NOW
    assert parse("claude-code", {"hook_event_name": "Stop"}).at == NOW


def test_long_prompts_are_kept_cut_and_bad_input_refused():
    event = parse("claude-code", {"hook_event_name": "UserPromptSubmit", "prompt": "x" * 10_000})
    assert event.text is not None and len(event.text) == 4000 and event.text.endswith("…")
    for raw in (b"not json", b"[1, 2]", b"\xff\xfe", b""):
        with pytest.raises(HookInputError):
            decode(raw)
    assert decode('{"a": 1}') == {"a": 1}
    with pytest.raises(ValueError, match="unknown source"):
        parse("aider", {})


def test_the_reply_each_tool_expects():
    assert hook_reply("cursor", "beforeSubmitPrompt") == '{"continue": true}'
    assert hook_reply("cursor", "stop") == "{}"
    assert hook_reply("cursor", "afterAgentResponse") == "{}"
    assert hook_reply("cursor", "beforeShellExecution") == ""  # a permission decision is not ours to guess
    assert hook_reply("gemini", "BeforeAgent") == "{}"
    assert hook_reply("vscode", "UserPromptSubmit") == "{}"
    for source in ("claude-code", "codex", "windsurf"):
        assert hook_reply(source, "UserPromptSubmit") == ""


def test_an_event_survives_its_json_form():
    event = parse("claude-code", {**CLAUDE_BASE, "hook_event_name": "PermissionRequest", "tool_name": "Bash"})
    assert ActivityEvent.from_mapping(json.loads(event.to_json())) == event
    for bad in ({}, {"agent_id": "A", "source": "s", "kind": "nope", "name": "n", "at": 1.0},
                {"agent_id": "A", "source": "s", "kind": "other", "name": "n", "at": True},
                {"agent_id": 3, "source": "s", "kind": "other", "name": "n", "at": 1.0}):
        with pytest.raises(ValueError):
            ActivityEvent.from_mapping(bad)
