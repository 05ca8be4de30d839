"""``quarterdeck hook`` starts without loading the whole command line, and keeps its options."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

QUARTERDECK = Path(sys.executable).with_name("quarterdeck")
EVENT = {"hook_event_name": "UserPromptSubmit", "session_id": "s-1", "prompt": "Rebase on main",
         "cwd": "/tmp", "transcript_path": "/tmp/t.jsonl"}


def run_hook(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QUARTERDECK_DATA_DIR": str(data_dir / "elsewhere")}
    return subprocess.run([str(QUARTERDECK), *args], input=json.dumps(EVENT), env=env,
                          capture_output=True, text=True, timeout=60)


def recorded(data_dir: Path) -> list[tuple[str, str]]:
    """What the hook left: the spool file's events (the database does not exist yet)."""
    spool = data_dir / "agent-events.spool.jsonl"
    if spool.exists():
        return [(e["agent_id"], e["kind"]) for e in map(json.loads, spool.read_text().splitlines())]
    with sqlite3.connect(data_dir / "quarterdeck.sqlite3") as conn:
        return list(conn.execute("SELECT agent_id, kind FROM agent_events"))


def test_the_hook_runs_without_importing_the_rest_of_the_command_line():
    probe = ("import sys; from quarterdeck.cli import entry; entry.main(['hook', '--agent', 'A', "
             "'--source', 'nobody']); print(sorted(m for m in sys.modules if m.startswith('quarterdeck.cli')))")
    out = subprocess.run([sys.executable, "-c", probe], input="{}", capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    loaded = out.stdout.strip().splitlines()[-1]
    assert "quarterdeck.cli.main" not in loaded and "quarterdeck.cli.agents_cmd" not in loaded
    assert "quarterdeck.cli.hook_cmd" in loaded


def test_data_dir_after_hook_is_honoured_on_the_quick_path(tmp_path):
    out = run_hook("hook", "--agent", "Agent-1", "--source", "claude-code", "--data-dir", str(tmp_path),
                   data_dir=tmp_path)
    assert out.returncode == 0 and out.stdout == "", out.stderr
    assert recorded(tmp_path) == [("Agent-1", "prompt_submitted")]
    assert not (tmp_path / "elsewhere").exists()


def test_data_dir_before_hook_is_honoured_too(tmp_path):
    out = run_hook("--data-dir", str(tmp_path), "hook", "--agent", "Agent-2", "--source", "claude-code",
                   data_dir=tmp_path)
    assert out.returncode == 0 and out.stdout == "", out.stderr
    assert recorded(tmp_path) == [("Agent-2", "prompt_submitted")]


@pytest.mark.parametrize("before", [["--roster", "elsewhere.yaml"], ["--data-dir", "~no-such-user-qd/d"],
                                    ["--config=c.yaml", "--broker", "redis://x"]])
def test_shared_options_before_hook_never_make_it_exit_non_zero_or_print(tmp_path, monkeypatch, before):
    monkeypatch.chdir(tmp_path)  # where a literal ~ folder would be made
    out = run_hook(*before, "hook", "--agent", "Agent-4", "--source", "claude-code", "--data-dir", str(tmp_path),
                   data_dir=tmp_path)
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")  # exit 2 is "block this prompt"
    assert recorded(tmp_path) == [("Agent-4", "prompt_submitted")]
    assert not list(tmp_path.glob("~*"))


def test_a_hook_says_nothing_of_a_bad_environment(tmp_path):
    env = {**os.environ, "QUARTERDECK_DATA_DIR": "~no-such-user-qd/data"}  # the other commands refuse it
    out = subprocess.run([str(QUARTERDECK), "--data-dir", str(tmp_path), "hook", "--agent", "Agent-3", "--source",
                          "claude-code"], input=json.dumps(EVENT), env=env, capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")
    assert recorded(tmp_path) == [("Agent-3", "prompt_submitted")]


def test_a_malformed_hook_command_still_exits_0_and_prints_nothing(tmp_path):
    # an option without its value: argparse would exit 2, which Claude Code reads as "block the prompt"
    out = run_hook("hook", "--agent", "Agent-1", "--data-dir", data_dir=tmp_path)
    assert (out.returncode, out.stdout) == (0, ""), out.stderr
    assert "Traceback" not in out.stderr


def test_a_hook_whose_data_folder_cannot_be_known_still_gives_cursor_its_reply(tmp_path):
    # Cursor waits for {"continue": true} before it submits the prompt; the event itself is lost, and
    # the log of the user's usual folders says why
    env = {**os.environ, "QUARTERDECK_DATA_DIR": "~no-such-user-qd/data", "HOME": str(tmp_path)}
    env.pop("XDG_STATE_HOME", None)
    prompt = {"hook_event_name": "beforeSubmitPrompt", "conversation_id": "c-1", "prompt": "Rebase on main"}
    out = subprocess.run([str(QUARTERDECK), "hook", "--agent", "Agent-5", "--source", "cursor"],
                         input=json.dumps(prompt), env=env, capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout, out.stderr) == (0, '{"continue": true}\n', "")
    logs = [p.read_text() for p in tmp_path.rglob("quarterdeck.log")]
    assert len(logs) == 1 and "event lost: no data folder is known to record it in: QUARTERDECK_DATA_DIR=" in logs[0]
