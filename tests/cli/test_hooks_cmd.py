"""`quarterdeck agents hooks` run as a person runs it, then the installed command run as each tool runs it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from quarterdeck.core.activity.install.registry import TOOLS
from quarterdeck.core.activity.journal import load_events
from quarterdeck.core.store import Store, default_db_path

QD = [sys.executable, "-m", "quarterdeck"]
CLIS = Path(os.environ.get("AGENT_CLIS_DIR") or Path(__file__).resolve().parents[2] / ".agent-clis") \
    / "node_modules" / ".bin"  # scripts/install-agent-clis.sh, as for tests/core/test_tmux_real_agents.py
CLAUDE_CLI, CODEX_CLI = CLIS / "claude", CLIS / "codex"
PROMPTS = {  # each tool's documented prompt event: its name in the settings file and its JSON
    "claude-code": ("UserPromptSubmit", {"session_id": "abc", "transcript_path": "/t.jsonl", "cwd": "/w",
                                         "hook_event_name": "UserPromptSubmit", "prompt": "Fix the login bug"}),
    "cursor": ("beforeSubmitPrompt", {"conversation_id": "c1", "generation_id": "g1", "workspace_roots": ["/w"],
                                      "hook_event_name": "beforeSubmitPrompt", "prompt": "Fix the login bug"}),
    "vscode": ("UserPromptSubmit", {"timestamp": "2026-02-09T10:30:00.000Z", "cwd": "/w", "sessionId": "s-1",
                                    "hookEventName": "UserPromptSubmit", "prompt": "Fix the login bug"}),
    "windsurf": ("pre_user_prompt", {"agent_action_name": "pre_user_prompt", "trajectory_id": "t-1",
                                     "execution_id": "e-1", "tool_info": {"user_prompt": "Fix the login bug"}}),
    "gemini": ("BeforeAgent", {"session_id": "g-1", "cwd": "/w", "hook_event_name": "BeforeAgent",
                               "prompt": "Fix the login bug"}),
    "codex": ("UserPromptSubmit", {"session_id": "019d", "turn_id": "t1", "cwd": "/w", "model": "gpt-5",
                                   "hook_event_name": "UserPromptSubmit", "prompt": "Fix the login bug"}),
}


@pytest.fixture
def place(tmp_path):
    """A home, a project, a data folder with a store, and a roster; the env a tool would give its hook."""
    home, project, data = tmp_path / "home", tmp_path / "api", tmp_path / "data"
    for folder in (home, project):
        folder.mkdir()
    Store(default_db_path(data)).close()
    roster = tmp_path / "agents.yaml"
    roster.write_text("agents:\n  - {id: Agent-1, transport: tmux, target: 'swarm:0.1'}\n"
                      "  - {id: Agent-2, transport: dryrun}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("CODEX_HOME", "QUARTERDECK_DATA_DIR")}
    env["HOME"] = str(home)
    return {"home": home, "project": project, "data": data, "roster": roster, "env": env}


def qd(place, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*QD, *args, "--roster", str(place["roster"])], capture_output=True, text=True,
                          env={**place["env"], **env}, timeout=60, check=False)


def first_command(source: str, path: Path, event: str) -> str:
    entry = json.loads(path.read_text())["hooks"][event][-1]
    return entry["command"] if "command" in entry else entry["hooks"][-1]["command"]


@pytest.mark.parametrize("source", list(PROMPTS))
def test_install_then_the_tool_runs_the_installed_command_and_the_event_is_recorded(place, source):
    done = qd(place, "agents", "hooks", "install", "Agent-1", "--source", source, "--project", str(place["project"]),
              "--data-dir", str(place["data"]))
    assert done.returncode == 0, done.stderr
    path = TOOLS[source][0].path(place["project"])
    assert f"{path}: hook added" in done.stdout
    event, payload = PROMPTS[source]
    command = first_command(source, path, event)
    ran = subprocess.run(["sh", "-c", command], input=json.dumps(payload), capture_output=True, text=True,
                         cwd=place["project"], env=place["env"], timeout=30, check=False)
    assert ran.returncode == 0, ran.stderr
    if source == "codex":  # and Codex's notify program, handed its JSON as the last argument
        argv = tomllib.loads((place["project"] / ".codex" / "config.toml").read_text())["notify"]
        notify = {"type": "agent-turn-complete", "thread-id": "019d", "turn-id": "t1", "cwd": "/w",
                  "input-messages": ["Fix the login bug"], "last-assistant-message": "Done."}
        assert subprocess.run([*argv, json.dumps(notify)], env=place["env"], timeout=30, check=False).returncode == 0
    events = load_events(place["data"])
    assert [(e.agent_id, e.source, e.kind, e.text) for e in events][:1] == [
        ("Agent-1", source, "prompt_submitted", "Fix the login bug")]
    assert [e.kind for e in events][1:] == (["turn_ended"] if source == "codex" else [])
    listed = json.loads(qd(place, "agents", "list", "--json", QUARTERDECK_DATA_DIR=str(place["data"])).stdout)
    assert [(a["id"], a["hooks"]) for a in listed] == [("Agent-1", source), ("Agent-2", None)]
    assert not list(place["home"].iterdir())  # the user-level files were not touched


def test_status_uninstall_and_a_second_install_that_changes_nothing(place):
    args = ("agents", "hooks", "install", "Agent-2", "--source", "cursor")
    assert qd(place, *args).returncode == 0
    path = place["home"] / ".cursor" / "hooks.json"
    before = path.read_bytes()
    again = qd(place, *args)
    assert again.returncode == 0 and "already there, unchanged" in again.stdout and "hooks: cursor" not in again.stdout
    assert path.read_bytes() == before
    status = qd(place, "agents", "hooks", "status", "--json", "--project", str(place["project"]))
    rows = json.loads(status.stdout)
    assert {(r["source"], r["scope"]): r["agents"] for r in rows}[("cursor", "user")]["Agent-2"][0] == \
        "beforeSubmitPrompt"
    assert {(r["source"], r["scope"]) for r in rows} >= {("claude-code", "project"), ("codex", "user")}
    table = qd(place, "agents", "hooks", "status").stdout.splitlines()
    assert table[0].split() == ["TOOL", "SCOPE", "AGENTS", "FILE"]
    assert any(line.split()[:3] == ["Cursor", "user", "Agent-2"] for line in table)
    removed = qd(place, "agents", "hooks", "uninstall", "Agent-2")
    assert removed.returncode == 0 and "removed (it held only the hook)" in removed.stdout
    assert not path.exists() and "hooks: (none)" in removed.stdout
    assert "hooks:" not in place["roster"].read_text()


def test_a_settings_file_that_is_not_json_is_refused_in_one_line_and_left_alone(place):
    path = place["project"] / ".gemini" / "settings.json"
    path.parent.mkdir()
    path.write_text('{"theme": "dark",}\n')
    roster = place["roster"].read_text()
    done = qd(place, "agents", "hooks", "install", "Agent-1", "--source", "gemini", "--project", str(place["project"]))
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith(f"quarterdeck: error: {path}:1:") and "not valid JSON" in line and "untouched" in line
    assert path.read_text() == '{"theme": "dark",}\n'
    assert place["roster"].read_text() == roster


def test_codex_with_the_users_own_notify_is_refused_and_nothing_written(place):
    codex = place["home"] / ".codex"
    codex.mkdir()
    (codex / "config.toml").write_text('notify = ["notify-send", "Codex"]\n')
    done = qd(place, "agents", "hooks", "install", "Agent-1", "--source", "codex")
    assert done.returncode == 2
    assert "notify already runs notify-send Codex" in done.stderr and "also run `" in done.stderr
    assert sorted(p.name for p in codex.iterdir()) == ["config.toml"]


def test_a_project_or_data_folder_under_an_unknown_users_home_is_one_line(place):
    done = qd(place, "agents", "hooks", "status", "--project", "~no-such-user-qd/p")
    assert done.returncode == 2 and done.stderr.strip() == (
        "quarterdeck: error: --project ~no-such-user-qd/p: no home folder is known for '~no-such-user-qd'; "
        "write the folder out in full")
    done = qd(place, "agents", "hooks", "install", "Agent-1", "--source", "cursor", "--data-dir", "~no-such-user-qd/d")
    assert done.returncode == 2 and "no home folder is known for '~no-such-user-qd'" in done.stderr
    assert "Traceback" not in done.stderr and not list(place["home"].iterdir())


def test_an_agent_not_on_the_roster_is_refused(place):
    done = qd(place, "agents", "hooks", "install", "Agent-9", "--source", "cursor")
    assert done.returncode == 2 and "Agent-9" in done.stderr
    assert not list(place["home"].iterdir())


@pytest.mark.skipif(not CLAUDE_CLI.exists(), reason=f"{CLAUDE_CLI} is not installed: run scripts/install-agent-clis.sh")
def test_the_real_claude_code_runs_the_installed_hooks(place):
    """Claude Code itself reads the settings file and runs the hook on its own events (no login needed
    for SessionStart and UserPromptSubmit: it says 'Not logged in' after them)."""
    done = qd(place, "agents", "hooks", "install", "Agent-1", "--source", "claude-code", "--project",
              str(place["project"]), "--data-dir", str(place["data"]))
    assert done.returncode == 0, done.stderr
    subprocess.run([str(CLAUDE_CLI), "-p", "hello from the hooks test"], cwd=place["project"], env=place["env"],
                   capture_output=True, timeout=120, check=False)
    events = [(e.agent_id, e.source, e.kind, e.text) for e in load_events(place["data"])]
    assert ("Agent-1", "claude-code", "session_start", None) in events
    assert ("Agent-1", "claude-code", "prompt_submitted", "hello from the hooks test") in events


def test_a_data_folder_set_in_the_environment_is_written_into_the_command(place):
    done = qd(place, "agents", "hooks", "install", "Agent-1", "--source", "windsurf",
              QUARTERDECK_DATA_DIR=str(place["data"]))
    assert done.returncode == 0, done.stderr
    command = first_command("windsurf", place["home"] / ".codeium" / "windsurf" / "hooks.json", "pre_user_prompt")
    assert command.endswith(f"hook --agent Agent-1 --source windsurf --data-dir {place['data']}")


@pytest.mark.skipif(not CODEX_CLI.exists(), reason=f"{CODEX_CLI} is not installed: run scripts/install-agent-clis.sh")
def test_the_real_codex_runs_the_installed_hooks(place):
    """Codex itself reads hooks.json and config.toml (it refuses a notify it cannot read) and runs the
    hooks of its session start and prompt, before it reaches for the network. It runs a hook only once
    a person trusted it; the test stands in for that with --dangerously-bypass-hook-trust."""
    done = qd(place, "agents", "hooks", "install", "Agent-1", "--source", "codex", "--data-dir", str(place["data"]))
    assert done.returncode == 0, done.stderr
    env = {**place["env"], "CODEX_HOME": str(place["home"] / ".codex")}
    codex = subprocess.Popen([str(CODEX_CLI), "exec", "--dangerously-bypass-hook-trust", "--skip-git-repo-check",
                              "hello from the hooks test"], cwd=place["project"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        events: list[tuple[str, str, str, str | None]] = []
        while time.monotonic() < deadline and ("Agent-1", "codex", "prompt_submitted",
                                               "hello from the hooks test") not in events:
            time.sleep(0.2)
            events = [(e.agent_id, e.source, e.kind, e.text) for e in load_events(place["data"])]
    finally:
        codex.kill()
        codex.wait(timeout=30)
    assert ("Agent-1", "codex", "session_start", None) in events
    assert ("Agent-1", "codex", "prompt_submitted", "hello from the hooks test") in events
