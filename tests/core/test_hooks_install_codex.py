"""Codex: lifecycle hooks in hooks.json and the notify program in config.toml, which is never taken over."""
from __future__ import annotations

import json
import tomllib

import pytest

from quarterdeck.core.activity.install import SettingsError, install, status, uninstall
from quarterdeck.core.activity.install.command import hook_argv, shell_line

START = ["/opt/qd/bin/quarterdeck"]
CONFIG = """\
# my Codex settings
model = "gpt-5-codex"   # the one I like
approval_policy = "on-request"

[features]
hooks = true

[mcp_servers.docs]
command = "docs-server"
args = ["--port", "4000"]
"""


@pytest.fixture
def codex_home(tmp_path, monkeypatch):
    home = tmp_path / "codex-home"
    monkeypatch.setenv("CODEX_HOME", str(home))
    return home


def test_hooks_json_and_notify_are_written_beside_each_other(codex_home):
    outcome = install("Agent-1", "codex", start=START)
    assert [(c.path.name, c.outcome) for c in outcome.changes] == [("hooks.json", "written"),
                                                                    ("config.toml", "written")]
    argv = hook_argv("Agent-1", "codex", start=START)
    hooks = json.loads((codex_home / "hooks.json").read_text())["hooks"]
    assert set(hooks) == {"UserPromptSubmit", "Stop", "PermissionRequest", "PreToolUse", "PostToolUse", "SessionStart"}
    assert hooks["UserPromptSubmit"] == [{"hooks": [{"type": "command", "command": shell_line(argv)}]}]
    assert tomllib.loads((codex_home / "config.toml").read_text()) == {"notify": argv}


def test_notify_is_added_to_the_users_config_keeping_its_comments_and_layout(codex_home):
    codex_home.mkdir()
    config = codex_home / "config.toml"
    config.write_text(CONFIG)
    install("Agent-1", "codex", start=START)
    text = config.read_text()
    assert text.startswith("# my Codex settings\nmodel = \"gpt-5-codex\"   # the one I like\n")
    assert "[mcp_servers.docs]\ncommand = \"docs-server\"" in text
    data = tomllib.loads(text)
    assert data["notify"] == hook_argv("Agent-1", "codex", start=START)  # top level, before the tables
    assert data["mcp_servers"]["docs"]["args"] == ["--port", "4000"]
    assert config.with_name("config.toml.bak").read_text() == CONFIG
    before = config.read_bytes()
    assert {c.outcome for c in install("Agent-1", "codex", start=START).changes} == {"unchanged"}
    assert config.read_bytes() == before
    uninstall("Agent-1", "codex")
    assert config.read_text() == CONFIG
    assert not (codex_home / "hooks.json").exists()  # Quarterdeck made it, held only the hook


def test_a_notify_program_of_the_users_own_is_never_replaced(codex_home):
    codex_home.mkdir()
    config = codex_home / "config.toml"
    mine = 'notify = ["python3", "/home/me/notify.py"]\n' + CONFIG
    config.write_text(mine)
    with pytest.raises(SettingsError) as caught:
        install("Agent-1", "codex", start=START)
    message = str(caught.value)
    assert "notify already runs python3 /home/me/notify.py" in message and "one notify program" in message
    assert f"also run `{shell_line(hook_argv('Agent-1', 'codex', start=START))} \"$1\"`" in message  # how to chain
    assert "\n" not in message
    assert config.read_text() == mine
    assert not (codex_home / "hooks.json").exists()  # nothing written at all
    assert uninstall("Agent-1", "codex").changes == []
    assert config.read_text() == mine


def test_another_agents_notify_is_not_taken_over_either(codex_home):
    install("Agent-1", "codex", start=START)
    with pytest.raises(SettingsError, match=r"notify already runs Quarterdeck's hook for Agent-1.*--project DIR"):
        install("Agent-2", "codex", start=START)
    rows = [r for r in status() if r.source == "codex"]
    assert [(r.path.name, list(r.agents)) for r in rows] == [("hooks.json", ["Agent-1"]), ("config.toml", ["Agent-1"])]


def test_a_project_gets_its_own_codex_folder(tmp_path, codex_home):
    project = tmp_path / "api"
    project.mkdir()
    install("Agent-2", "codex", project, start=START)
    assert (project / ".codex" / "hooks.json").is_file()
    assert tomllib.loads((project / ".codex" / "config.toml").read_text())["notify"][3] == "Agent-2"
    assert not codex_home.exists()


def test_a_config_that_is_not_toml_is_refused_untouched(codex_home):
    codex_home.mkdir()
    config = codex_home / "config.toml"
    config.write_text('model = "o3"\nnotify = [\n')
    with pytest.raises(SettingsError, match=r"config\.toml: not valid TOML .*left untouched"):
        install("Agent-1", "codex", start=START)
    assert config.read_text() == 'model = "o3"\nnotify = [\n'
    assert not (codex_home / "hooks.json").exists()
