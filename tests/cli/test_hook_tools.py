"""`quarterdeck hook` run as each tool runs it: a process, the event's documented JSON on stdin (Codex's
notify: as the last argument), the reply on stdout the tool expects, exit 0, and the event recorded."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from quarterdeck.core.activity.journal import activities, load_events
from quarterdeck.core.activity.record import SPOOL_NAME
from quarterdeck.core.store import DB_FILE_NAME, Store, default_db_path

HOOK = [sys.executable, "-m", "quarterdeck", "hook", "--agent", "Agent-1", "--source"]
QUICK = [sys.executable, "-m", "quarterdeck.cli.hook_cmd", "--agent", "Agent-1", "--source"]

CLAUDE = {"session_id": "abc123", "transcript_path": "/t.jsonl", "cwd": "/w", "permission_mode": "default"}
TOOLS = [  # source, the documented input, what the tool expects on stdout, the kind recorded
    ("claude-code", {**CLAUDE, "hook_event_name": "UserPromptSubmit", "prompt": "Fix the login bug"}, "",
     "prompt_submitted"),
    ("claude-code", {**CLAUDE, "hook_event_name": "Notification", "notification_type": "permission_prompt",
                     "message": "Claude needs your permission to use Bash"}, "", "needs_you"),
    ("claude-code", {**CLAUDE, "hook_event_name": "Stop", "stop_hook_active": False}, "", "turn_ended"),
    ("vscode", {"timestamp": "2026-02-09T10:30:00.000Z", "cwd": "/w", "sessionId": "s-1",
                "hookEventName": "UserPromptSubmit", "transcript_path": "/t.json", "prompt": "Fix it"}, "{}",
     "prompt_submitted"),
    ("cursor", {"conversation_id": "conv_123", "generation_id": "gen_456", "hook_event_name": "beforeSubmitPrompt",
                "workspace_roots": ["/w"], "prompt": "Fix it", "attachments": []}, '{"continue": true}',
     "prompt_submitted"),
    ("cursor", {"conversation_id": "conv_123", "generation_id": "gen_456", "hook_event_name": "stop",
                "workspace_roots": ["/w"], "status": "completed", "loop_count": 0}, "{}", "turn_ended"),
    ("windsurf", {"agent_action_name": "pre_user_prompt", "trajectory_id": "traj-42", "execution_id": "exec-7",
                  "timestamp": "2026-08-01T00:00:00Z", "tool_info": {"user_prompt": "Fix it"}}, "",
     "prompt_submitted"),
    ("windsurf", {"agent_action_name": "post_cascade_response", "trajectory_id": "traj-42", "execution_id": "exec-8",
                  "tool_info": {"response": "Done."}}, "", "turn_ended"),
    ("gemini", {"session_id": "g-1", "transcript_path": "/t.json", "cwd": "/w", "hook_event_name": "BeforeAgent",
                "timestamp": "2026-05-28T20:26:10Z", "prompt": "Fix it"}, "{}", "prompt_submitted"),
    ("gemini", {"session_id": "g-1", "transcript_path": "/t.json", "cwd": "/w", "hook_event_name": "Notification",
                "timestamp": "2026-05-28T20:26:10Z", "notification_type": "ToolPermission",
                "message": "Allow run_shell_command?", "details": {}}, "{}", "needs_you"),
    ("codex", {"session_id": "019d", "turn_id": "019d-c7", "cwd": "/w", "hook_event_name": "Stop", "model": "gpt-5",
               "permission_mode": "default", "transcript_path": None, "last_assistant_message": "Done.",
               "stop_hook_active": False}, "", "turn_ended"),
]


def run(argv: list[str], stdin: bytes | None = b"", timeout: float = 30) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout, check=False)


@pytest.fixture
def data_dir() -> Path:
    return Path(os.environ["QUARTERDECK_DATA_DIR"])  # private per test (tests/conftest.py)


@pytest.fixture
def store(data_dir: Path) -> Path:
    Store(default_db_path(data_dir)).close()
    return data_dir


@pytest.mark.parametrize(("source", "payload", "reply", "kind"), TOOLS, ids=lambda v: v if isinstance(v, str) else "")
def test_each_tool_gets_its_reply_and_the_event_is_recorded(store, source, payload, reply, kind):
    done = run([*HOOK, source], json.dumps(payload).encode())
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == (reply + "\n" if reply else "")
    if reply:
        json.loads(done.stdout)  # Gemini CLI, VS Code and Cursor parse it
    assert b"Traceback" not in done.stderr
    events = load_events(store)
    assert [(e.agent_id, e.source, e.kind) for e in events] == [("Agent-1", source, kind)]
    assert not (store / SPOOL_NAME).exists()


def test_codex_notify_passes_the_event_as_an_argument_and_stdin_is_not_read(store):
    payload = {"type": "agent-turn-complete", "thread-id": "b5f6c1c2", "turn-id": "12345", "cwd": "/w",
               "input-messages": ["Rename foo"], "last-assistant-message": "Rename complete."}
    with subprocess.Popen([*HOOK, "codex", json.dumps(payload)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        try:
            code = proc.wait(timeout=30)  # stdin stays open: reading it would hang
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        assert proc.stdout is not None
        out = proc.stdout.read()
    assert (code, out) == (0, b"")
    [event] = load_events(store)
    assert (event.kind, event.name, event.session, event.detail) == \
        ("turn_ended", "agent-turn-complete", "b5f6c1c2", "Rename complete.")


def test_bad_input_and_bad_options_still_exit_0_and_say_why_in_the_log(store):
    cases = [([*HOOK, "claude-code"], b"{not json", ""), ([*HOOK, "gemini"], b"", "{}\n"),
             ([*HOOK, "cursor"], b"[]", ""), ([*HOOK, "aider"], b"{}", ""),
             ([sys.executable, "-m", "quarterdeck", "hook"], b"{}", "")]
    for argv, stdin, reply in cases:
        done = run(argv, stdin)
        assert (done.returncode, done.stdout.decode()) == (0, reply), (argv, done.stderr)
    log = (store / "logs" / "quarterdeck.log").read_text()
    assert log.count("event refused") == len(cases)
    assert "unknown --source 'aider'" in log and "not JSON" in log
    assert load_events(store) == []


def test_a_busy_database_spools_quickly_and_the_next_read_takes_it_in(store):
    holder = sqlite3.connect(store / DB_FILE_NAME, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        payload = {**CLAUDE, "hook_event_name": "PermissionRequest", "tool_name": "Bash",
                   "tool_input": {"command": "rm -rf build"}}
        started = time.perf_counter()
        done = run([*QUICK, "claude-code"], json.dumps(payload).encode())
        elapsed = time.perf_counter() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert (done.returncode, done.stdout) == (0, b"")
    assert elapsed < 5.0  # a process start plus the 0.2 s lock wait, not the store's 10 s
    assert (store / SPOOL_NAME).is_file()
    listed = run([sys.executable, "-m", "quarterdeck", "attention", "--json"])
    assert listed.returncode == 0, listed.stderr
    [waiting] = json.loads(listed.stdout)
    assert (waiting["agent"], waiting["state"], waiting["waits_for"]) == ("Agent-1", "needs-you", "permission")
    assert waiting["signal"].startswith("PermissionRequest hook ")
    assert not (store / SPOOL_NAME).exists()
    conn = sqlite3.connect(store / DB_FILE_NAME)
    assert conn.execute("SELECT count(*) FROM agent_events").fetchone()[0] == 1
    conn.close()


def test_a_missing_database_spools_creates_nothing_and_is_taken_in_once_the_store_exists(data_dir):
    prompt = {**CLAUDE, "hook_event_name": "UserPromptSubmit", "prompt": "Fix it"}
    assert run([*HOOK, "claude-code"], json.dumps(prompt).encode()).returncode == 0
    assert not (data_dir / DB_FILE_NAME).exists() and (data_dir / SPOOL_NAME).is_file()
    assert activities(data_dir)["Agent-1"].state == "working"  # read from the spool, left there
    assert (data_dir / SPOOL_NAME).is_file()
    Store(default_db_path(data_dir)).close()
    assert [e.kind for e in load_events(data_dir)] == ["prompt_submitted"]
    assert not (data_dir / SPOOL_NAME).exists()


@pytest.mark.parametrize("database", [True, False], ids=["table", "spool"])
def test_a_prompt_cut_inside_an_emoji_is_recorded_and_the_tool_gets_its_reply(data_dir, database):
    # JSON may carry half of a surrogate pair (a prompt cut short); neither SQLite nor the spool file
    # writes such text as it is
    if database:
        Store(default_db_path(data_dir)).close()
    payload = ('{"conversation_id": "c-1", "generation_id": "g-1", "hook_event_name": "beforeSubmitPrompt", '
               '"workspace_roots": ["/w"], "prompt": "Ship it \\ud83d", "attachments": []}')
    done = run([*HOOK, "cursor"], payload.encode())
    assert (done.returncode, done.stdout, done.stderr) == (0, b'{"continue": true}\n', b"")
    events = load_events(data_dir) if database else [json.loads(line) for line in
                                                      (data_dir / SPOOL_NAME).read_text().splitlines()]
    texts = [e.text if database else e["text"] for e in events]
    assert texts == ["Ship it \ufffd"]
