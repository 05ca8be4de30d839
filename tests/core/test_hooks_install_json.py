"""Quarterdeck's hook in each tool's JSON settings file: created, merged, idempotent, removed, refused."""
from __future__ import annotations

import json
import os
import stat
import sys

import pytest

from quarterdeck.core.activity.events import SOURCES
from quarterdeck.core.activity.install import SettingsError, install, status, uninstall
from quarterdeck.core.activity.install.command import agent_of, hook_argv, is_ours, program, shell_line
from quarterdeck.core.activity.install.registry import TOOLS
from quarterdeck.core.activity.parse import _CLAUDE, _CURSOR, _GEMINI
from quarterdeck.core.models import HookSource

START = ["/opt/quarter deck/bin/quarterdeck"]  # a path with a space: the command must quote it
JSON_TOOLS = ["claude-code", "cursor", "vscode", "windsurf", "gemini"]


def command(agent: str, source: str) -> str:
    return shell_line(hook_argv(agent, source, start=START))


def settings(home, source):
    return TOOLS[source][0].path(None, home)


def test_each_tool_gets_its_documented_file_and_shape(tmp_path):
    for source in JSON_TOOLS:
        install("Agent-1", source, home=tmp_path, start=START)
    cmd = {s: command("Agent-1", s) for s in JSON_TOOLS}
    claude = json.loads((tmp_path / ".claude/settings.json").read_text())
    assert claude["hooks"]["UserPromptSubmit"] == [{"hooks": [{"type": "command", "command": cmd["claude-code"]}]}]
    assert claude["hooks"]["PreToolUse"] == [{"matcher": "*", "hooks": [{"type": "command",
                                                                          "command": cmd["claude-code"]}]}]
    cursor = json.loads((tmp_path / ".cursor/hooks.json").read_text())
    assert cursor["version"] == 1 and cursor["hooks"]["beforeSubmitPrompt"] == [{"command": cmd["cursor"]}]
    assert not {"beforeShellExecution", "beforeMCPExecution", "preToolUse"} & set(cursor["hooks"])  # no guessed replies
    vscode = json.loads((tmp_path / ".copilot/hooks/quarterdeck.json").read_text())
    assert vscode == {"hooks": {e: [{"type": "command", "command": cmd["vscode"]}]
                                for e in ("UserPromptSubmit", "Stop", "PreToolUse", "PostToolUse", "SessionStart")}}
    windsurf = json.loads((tmp_path / ".codeium/windsurf/hooks.json").read_text())
    assert windsurf["hooks"]["pre_user_prompt"] == [{"show_output": False, "command": cmd["windsurf"]}]
    gemini = json.loads((tmp_path / ".gemini/settings.json").read_text())
    assert gemini["hooks"]["BeforeAgent"] == [{"hooks": [{"name": "quarterdeck", "type": "command",
                                                          "command": cmd["gemini"]}]}]
    assert (tmp_path / ".claude/settings.json").read_text().endswith("}\n")


def test_every_installed_event_is_one_quarterdeck_hook_understands():
    known = {"claude-code": set(_CLAUDE) | {"Notification"}, "cursor": set(_CURSOR), "gemini": set(_GEMINI) | {
        "Notification"}, "vscode": set(_CLAUDE), "codex": set(_CLAUDE),
        "windsurf": {"pre_user_prompt", "post_cascade_response"} | {
            f"post_{t}" for t in ("read_code", "write_code", "run_command", "mcp_tool_use")}}
    for source, files in TOOLS.items():
        for hook_file in files:
            assert set(hook_file.events) <= known[source], source
    assert set(TOOLS) == set(SOURCES) == set(HookSource.__args__)  # type: ignore[attr-defined]


@pytest.mark.parametrize("source", JSON_TOOLS)
def test_a_project_file_with_the_users_own_hooks_keeps_them_byte_for_byte(tmp_path, source):
    project = tmp_path / "project"
    path = TOOLS[source][0].path(project)
    path.parent.mkdir(parents=True)
    event = TOOLS[source][0].events[0]
    mine = ({"matcher": "", "hooks": [{"type": "command", "command": "notify-send prompt"}]}
            if source in ("claude-code", "gemini") else {"command": "notify-send prompt"})
    original = json.dumps({"theme": "dark", "hooks": {event: [mine], "Custom": [mine]}, "zzz": [1, 2]},
                          indent=4, ensure_ascii=False) + "\n"
    path.write_text(original)
    os.chmod(path, 0o600)
    outcome = install("Agent-1", source, project, start=START)
    assert [c.outcome for c in outcome.changes] == ["written"]
    data = json.loads(path.read_text())
    assert data["theme"] == "dark" and data["zzz"] == [1, 2] and data["hooks"]["Custom"] == [mine]
    assert data["hooks"][event][0] == mine and len(data["hooks"][event]) == 2
    assert path.read_text().startswith('{\n    "theme": "dark",')  # the file's own indent
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    backup = path.with_name(path.name + ".bak")
    assert backup.read_text() == original and stat.S_IMODE(backup.stat().st_mode) == 0o600
    after_first = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    assert [c.outcome for c in install("Agent-1", source, project, start=START).changes] == ["unchanged"]
    assert path.read_bytes() == after_first and path.stat().st_mtime_ns == mtime
    uninstall("Agent-1", source, project)
    assert path.read_text() == original  # exactly the user's file again
    assert backup.read_text() == original  # the .bak is kept once, never overwritten


def test_a_second_agent_is_added_beside_the_first_with_a_note_and_removed_alone(tmp_path):
    install("Agent-1", "claude-code", home=tmp_path, start=START)
    outcome = install("Agent-2", "claude-code", home=tmp_path, start=START)
    assert any("also has Quarterdeck's hook for Agent-1" in note for note in outcome.notes)
    [row] = [r for r in status(home=tmp_path) if r.source == "claude-code"]
    assert sorted(row.agents) == ["Agent-1", "Agent-2"]
    uninstall("Agent-1", "claude-code", home=tmp_path)
    [row] = [r for r in status(home=tmp_path) if r.source == "claude-code"]
    assert list(row.agents) == ["Agent-2"]


def test_a_moved_quarterdeck_is_updated_in_place(tmp_path):
    install("Agent-1", "cursor", home=tmp_path, start=START)
    install("Agent-1", "cursor", home=tmp_path, start=["/usr/bin/python3", "-m", "quarterdeck"])
    hooks = json.loads(settings(tmp_path, "cursor").read_text())["hooks"]
    assert hooks["stop"] == [{"command": "/usr/bin/python3 -m quarterdeck hook --agent Agent-1 --source cursor"}]


def test_uninstall_removes_a_file_it_created_and_leaves_other_tools_alone(tmp_path):
    install("Agent-1", "windsurf", home=tmp_path, start=START)
    other = settings(tmp_path, "gemini")
    other.parent.mkdir(parents=True)
    other.write_text('{"theme": "x"}')
    outcome = uninstall("Agent-1", home=tmp_path)
    assert [(c.path, c.outcome) for c in outcome.changes] == [(settings(tmp_path, "windsurf"), "removed")]
    assert not settings(tmp_path, "windsurf").exists()
    assert other.read_text() == '{"theme": "x"}'
    assert uninstall("Agent-1", home=tmp_path).changes == []


@pytest.mark.parametrize(("text", "says"), [
    ('{"hooks": {"Stop": [}\n', ":1:"),
    ('// my settings\n{"hooks": {}}', "comments are not kept"),
    ('["not", "an", "object"]', "JSON list, not an object"),
    ('{"hooks": ["Stop"]}', '"hooks" is not a JSON object'),
    ('{"hooks": {"UserPromptSubmit": "echo"}}', "hooks.UserPromptSubmit is not a list"),
])
def test_a_file_quarterdeck_cannot_read_is_refused_and_left_untouched(tmp_path, text, says):
    path = settings(tmp_path, "claude-code")
    path.parent.mkdir(parents=True)
    path.write_text(text)
    with pytest.raises(SettingsError) as caught:
        install("Agent-1", "claude-code", home=tmp_path, start=START)
    message = str(caught.value)
    assert str(path) in message and says in message and "\n" not in message
    assert "untouched" in message and "run the command again" in message
    assert path.read_text() == text and not path.with_name("settings.json.bak").exists()
    if not says.startswith("hooks."):  # the file as a whole cannot be read: status and uninstall say so too
        [row] = [r for r in status(home=tmp_path) if r.source == "claude-code"]
        assert row.problem == message
        assert uninstall("Agent-1", home=tmp_path).errors == [message]


def test_a_blank_file_is_taken_as_empty(tmp_path):
    path = settings(tmp_path, "cursor")
    path.parent.mkdir(parents=True)
    path.write_text("\n")
    install("Agent-1", "cursor", home=tmp_path, start=START)
    assert json.loads(path.read_text())["version"] == 1


def test_telling_quarterdecks_commands_from_others():
    assert agent_of(command("Agent-1", "cursor")) == "Agent-1"
    assert agent_of("'/x y/quarterdeck' hook --agent A.b-2 --source cursor --data-dir /d") == "A.b-2"
    assert agent_of("/usr/bin/python3 -m quarterdeck hook --agent Agent-3") == "Agent-3"
    assert agent_of(["C:\\qd\\quarterdeck.exe", "hook", "--agent", "Agent-4"]) == "Agent-4"
    assert agent_of("quarterdeck send --agent Agent-1") is None
    assert agent_of("my-quarterdeck-wrapper hook --agent Agent-1") is None
    assert agent_of("echo 'unbalanced") is None
    assert agent_of(None) is None
    assert is_ours("quarterdeck hook --agent Agent-1", "Agent-1") and not is_ours("quarterdeck hook --agent X", "Y")


def test_the_hook_program_is_the_running_script_or_python_m_quarterdeck(tmp_path):
    script = tmp_path / "bin" / "quarterdeck"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    assert program(str(script), sys.executable) == [str(script)]
    python = tmp_path / "bin" / "python3"
    assert program("/elsewhere/pytest", str(python)) == [str(script)]  # the script beside the interpreter
    assert program("/elsewhere/pytest", "/nowhere/bin/python3") == ["/nowhere/bin/python3", "-m", "quarterdeck"]
    argv = hook_argv("Agent-1", "gemini", tmp_path / "data", start=["qd"])
    assert argv == ["qd", "hook", "--agent", "Agent-1", "--source", "gemini", "--data-dir", str(tmp_path / "data")]


def test_status_of_a_project_that_is_the_home_folder_lists_each_file_once(tmp_path):
    install("Agent-1", "gemini", home=tmp_path, start=START)
    rows = [r for r in status(tmp_path, home=tmp_path) if r.source == "gemini"]
    assert [(r.scope, list(r.agents)) for r in rows] == [("user", ["Agent-1"])]
    assert [r.scope for r in status(tmp_path / "elsewhere", home=tmp_path) if r.source == "gemini"] == [
        "user", "project"]


def test_a_settings_file_that_is_a_symlink_stays_one(tmp_path):
    dotfiles = tmp_path / "dotfiles" / "claude-settings.json"
    dotfiles.parent.mkdir()
    dotfiles.write_text('{"model": "opus"}\n')
    link = settings(tmp_path, "claude-code")
    link.parent.mkdir()
    link.symlink_to(dotfiles)
    install("Agent-1", "claude-code", home=tmp_path, start=START)
    assert link.is_symlink() and json.loads(dotfiles.read_text())["model"] == "opus"
    assert "Agent-1" in dotfiles.read_text()
    assert dotfiles.with_name("claude-settings.json.bak").read_text() == '{"model": "opus"}\n'
    uninstall("Agent-1", "claude-code", home=tmp_path)
    assert link.is_symlink() and dotfiles.read_text() == '{"model": "opus"}\n'
