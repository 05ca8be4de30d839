"""`quarterdeck agents ...`, driven through its own argument parser as a user types it."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import types

import pytest

from quarterdeck.cli import agents_cmd, capture_cmd
from quarterdeck.cli.common import CliError
from quarterdeck.core.desktop.screens import ScreenRect
from quarterdeck.core.roster.roster import load_roster

ROSTER = """\
agents:
  - {id: Agent-1, role: frontend, transport: gui, chat: [420, 980], onboarding: [420, 900]}
  - {id: Agent-2, transport: tmux, target: "qd-test:0.1"}
  - {id: Agent-3, transport: inbox, path: INBOX}
  - {id: Agent-4, role: spare, enabled: false, transport: dryrun}
groups: {frontend: [Agent-1, Agent-2]}
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="quarterdeck")
    agents_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    try:
        code = args.func(args)
    except CliError as exc:
        print(f"quarterdeck: error: {exc}", file=sys.stderr)
        code = 2
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def roster(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = tmp_path / "agents.yaml"
    path.write_text(ROSTER.replace("INBOX", str(inbox)), encoding="utf-8")
    return path


@pytest.fixture
def one_screen(monkeypatch):
    monkeypatch.setattr("quarterdeck.core.desktop.screens.detect_screens",
                        lambda: [ScreenRect(0, 0, 1920, 1080, "DP-1")])


def test_missing_roster_says_where_it_looked_and_how_to_create_one(_isolated_user_dirs, capsys):
    code, out, err = run(capsys, "agents", "list")
    assert code == 2 and out == ""
    expected = _isolated_user_dirs / "config" / "agents.yaml"
    assert f"no agent roster at {expected}" in err
    assert "quarterdeck agents import" in err
    assert "  - {id: Agent-2, transport: tmux, target: \"swarm:0.1\"}" in err


def test_a_roster_that_is_a_folder_or_a_pipe_is_named_as_such(tmp_path, capsys):
    code, _, err = run(capsys, "agents", "list", "--roster", str(tmp_path))
    assert (code, err.strip()) == (2, f"quarterdeck: error: {tmp_path} is a folder, not a roster: give the "
                                      "agents.yaml file (--roster PATH)")
    pipe = tmp_path / "agents.yaml"
    os.mkfifo(pipe)  # read, it would wait forever for a writer
    code, _, err = run(capsys, "agents", "list", "--roster", str(pipe))
    assert (code, err.strip()) == (2, f"quarterdeck: error: {pipe} is not a file: give the agents.yaml file "
                                      "(--roster PATH)")
    coords = tmp_path / "coords.json"
    coords.write_text(json.dumps({"agents": {"Agent-1": {"chat_input_coordinates": [10, 10]}}}), encoding="utf-8")
    for where in (tmp_path, pipe):  # importing into one never waits on the pipe nor blames the disk
        code, _, err = run(capsys, "agents", "import", str(coords), "--roster", str(where))
        assert code == 2 and err.startswith(f"quarterdeck: error: {where} is ")
    from quarterdeck.cli.main import main  # a command that works without a roster refuses a folder too

    assert main(["notify", "mute", "Agent-1", "--roster", str(tmp_path)]) == 2
    assert "is a folder, not a roster" in capsys.readouterr().err


def test_a_roster_that_is_a_broken_link_is_named_as_such(tmp_path, capsys):
    link = tmp_path / "agents.yaml"
    link.symlink_to(tmp_path / "dotfiles" / "agents.yaml")  # its target was moved or never made
    coords = tmp_path / "coords.json"
    coords.write_text(json.dumps({"agents": {"Agent-1": {"chat_input_coordinates": [10, 10]}}}), encoding="utf-8")
    for command in (["agents", "list"], ["agents", "import", str(tmp_path / "coords.json")]):
        code, _, err = run(capsys, *command, "--roster", str(link))
        assert (code, err.strip()) == (2, f"quarterdeck: error: {link} is a link to {tmp_path}/dotfiles/agents.yaml, "
                                          "which does not exist: point it at the agents.yaml file, or give that file "
                                          "(--roster PATH)")
    assert link.is_symlink()  # left as it is


def test_list_table_and_json(roster, capsys):
    code, out, _ = run(capsys, "agents", "list", "--roster", str(roster))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "ROLE", "TRANSPORT", "TARGET", "ENABLED"]
    assert lines[1].split() == ["Agent-1", "frontend", "gui", "chat", "(420,", "980)", "yes"]
    assert lines[2].split() == ["Agent-2", "tmux", "qd-test:0.1", "yes"]
    assert lines[4].split() == ["Agent-4", "spare", "dryrun", "-", "no"]
    code, out, _ = run(capsys, "agents", "list", "--json", "--roster", str(roster))
    rows = json.loads(out)
    assert rows[0].pop("activity")["state"] == "unknown"  # no hook has reported yet (tests/cli/test_attention.py)
    assert rows[0] == {"id": "Agent-1", "role": "frontend", "transport": "gui",
                       "target": "chat (420, 980)", "enabled": True, "hooks": None}  # no agents hooks install yet
    assert [r["id"] for r in rows] == ["Agent-1", "Agent-2", "Agent-3", "Agent-4"]


def test_show_text_json_and_unknown_agent(roster, capsys):
    code, out, _ = run(capsys, "agents", "show", "Agent-1", "--roster", str(roster))
    assert code == 0
    settings = {line.split()[0]: " ".join(line.split()[1:]) for line in out.splitlines()[1:]}
    assert out.splitlines()[0] == "Agent-1"
    assert settings["onboarding"] == "(420, 900)" and settings["paste_keys"] == "ctrl+v"
    assert settings["groups"] == "frontend" and settings["transport"] == "gui"
    code, out, _ = run(capsys, "agents", "show", "Agent-2", "--json", "--roster", str(roster))
    data = json.loads(out)
    assert data["transport"] == {"kind": "tmux", "target": "qd-test:0.1"} and data["groups"] == ["frontend"]
    code, _, err = run(capsys, "agents", "show", "Agent-9", "--roster", str(roster))
    assert code == 2 and "no agent 'Agent-9' on the roster" in err


def test_an_invalid_roster_lists_its_problems(tmp_path, capsys):
    path = tmp_path / "agents.yaml"
    path.write_text("agents:\n  - {id: A, transport: gui, chat: [1]}\n  - {id: A, transport: dryrun}\n",
                    encoding="utf-8")
    code, _, err = run(capsys, "agents", "list", "--roster", str(path))
    assert code == 2
    assert "the roster has 2 problem(s):" in err
    assert f"{path}:2:35: error: A.chat: expected a point [x, y]" in err
    assert f"{path}:3:10: error: A.id: duplicate id" in err
    code, out, _ = run(capsys, "agents", "check", "--roster", str(path))
    assert code == 1 and "2 problem(s) in" in out and "the roster was not loaded" in out


ORIGINAL = {"version": "2.0.0", "agents": {
    "Agent-1": {"chat_input_coordinates": [100, 200], "onboarding_input_coords": [100, 50],
                "description": "Integration", "active": True},
    "Agent-2": {"chat_input_coordinates": [-1269, 481], "description": "Left monitor", "active": False},
}}


def test_import_creates_then_requires_merge_or_replace(tmp_path, capsys, one_screen):
    source = tmp_path / "cursor_agent_coords.json"
    source.write_text(json.dumps(ORIGINAL), encoding="utf-8")
    target = tmp_path / "conf" / "agents.yaml"
    code, out, _ = run(capsys, "agents", "import", str(source), "--roster", str(target))
    assert code == 0
    assert f"imported 2 agent(s) from {source} into {target}" in out
    assert "  Agent-1: chat (100, 200), onboarding (100, 50)  role: Integration" in out
    assert "  Agent-2: chat (-1269, 481), onboarding -  role: Left monitor  (disabled)" in out
    assert "warning: Agent-2.chat: point (-1269, 481) is on no screen" in out
    assert "`quarterdeck agents capture Agent-2`" in out
    assert "backed up" not in out
    assert load_roster(target, screens=()).ids() == ["Agent-1", "Agent-2"]

    code, _, err = run(capsys, "agents", "import", str(source), "--roster", str(target))
    assert code == 2 and "already exists: add --merge" in err

    target.write_text("agents:\n  - {id: Agent-9, transport: dryrun}\ngroups: {all: [Agent-9]}\n",
                      encoding="utf-8")
    code, out, _ = run(capsys, "agents", "import", str(source), "--merge", "--roster", str(target))
    assert code == 0 and "previous roster backed up to" in out
    assert load_roster(target, screens=()).ids() == ["Agent-9", "Agent-1", "Agent-2"]
    code, out, _ = run(capsys, "agents", "import", str(source), "--replace", "--roster", str(target))
    assert "removed: Agent-9" in out and "group all: dropped Agent-9" in out
    assert load_roster(target, screens=()).ids() == ["Agent-1", "Agent-2"]
    assert len(list(target.parent.glob("agents.yaml.bak-*"))) == 2


def test_import_errors_are_user_errors(tmp_path, capsys):
    bad = tmp_path / "coords.json"
    bad.write_text('{"agents": {"Agent-1": {"chat_input_coordinates": [1, 2]}', encoding="utf-8")
    code, _, err = run(capsys, "agents", "import", str(bad), "--roster", str(tmp_path / "a.yaml"))
    assert code == 2 and f"{bad}:1:58: error: JSON syntax error" in err
    code, _, err = run(capsys, "agents", "import", str(tmp_path / "none.json"))
    assert code == 2 and "no such file" in err
    assert not (tmp_path / "a.yaml").exists()


def test_check_reports_each_agent_and_fails_on_any_problem(roster, capsys, one_screen):
    code, out, _ = run(capsys, "agents", "check", "--roster", str(roster))
    lines = out.splitlines()
    assert code == 1
    assert lines[0] == "Agent-1: ok (gui, chat (420, 980))"
    assert lines[1].startswith("Agent-2: problem: ")
    assert lines[2] == f"Agent-3: ok (inbox, {roster.parent / 'inbox'})"
    assert lines[3] == "Agent-4: skipped (disabled)"
    assert lines[4] == f"4 agent(s) in {roster}, 1 with problems"


def test_check_finds_off_screen_points_and_missing_inbox(tmp_path, capsys, one_screen):
    path = tmp_path / "agents.yaml"
    path.write_text(f"agents:\n  - {{id: A, transport: gui, chat: [2500, 300]}}\n"
                    f"  - {{id: B, transport: inbox, path: {tmp_path / 'gone' / 'inbox'}}}\n", encoding="utf-8")
    code, out, _ = run(capsys, "agents", "check", "--roster", str(path))
    assert code == 1
    assert "A: problem: chat: point (2500, 300) is on no screen (screens: 1920x1080+0+0)" in out
    assert (f"B: problem: inbox folder {tmp_path / 'gone' / 'inbox'} is missing and so is its parent folder "
            f"{tmp_path / 'gone'}") in out


def test_check_names_a_missing_tmux_and_a_target_without_session(tmp_path, capsys, monkeypatch):
    path = tmp_path / "agents.yaml"
    path.write_text('agents:\n  - {id: A, transport: tmux, target: ":0.1"}\n'
                    '  - {id: B, transport: tmux, target: "swarm:0.1"}\n', encoding="utf-8")
    code, out, _ = run(capsys, "agents", "check", "--roster", str(path))
    assert code == 1 and "A: problem: tmux target ':0.1' names no session (tmux, :0.1)" in out
    monkeypatch.setenv("PATH", str(tmp_path))
    code, out, _ = run(capsys, "agents", "check", "--roster", str(path))
    assert "B: problem: tmux is not installed (tmux, swarm:0.1)" in out


def test_check_without_a_display_says_points_were_not_checked(roster, capsys, monkeypatch):
    monkeypatch.setattr("quarterdeck.core.desktop.screens.detect_screens", lambda: [])
    _, out, _ = run(capsys, "agents", "check", "--roster", str(roster))
    assert out.splitlines()[0] == ("warning: no display could be queried: the points were not "
                                   "checked against the screens")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_check_sees_a_running_tmux_session(roster, capsys, tmp_path, monkeypatch, one_screen):
    monkeypatch.setenv("TMUX_TMPDIR", str(tmp_path))
    monkeypatch.delenv("TMUX", raising=False)
    subprocess.run(["tmux", "new-session", "-d", "-s", "qd-test-longer"], check=True)
    try:
        code, out, _ = run(capsys, "agents", "check", "--roster", str(roster))
        assert code == 1 and "Agent-2: problem: tmux session 'qd-test' not found" in out
        subprocess.run(["tmux", "new-session", "-d", "-s", "qd-test"], check=True)
        code, out, _ = run(capsys, "agents", "check", "--roster", str(roster))
        assert code == 0 and "Agent-2: ok (tmux, qd-test:0.1)" in out
    finally:
        subprocess.run(["tmux", "kill-server"], check=False, capture_output=True)


def fake_pointer(monkeypatch, x: int, y: int) -> list[float]:
    """A pyautogui stand-in whose pointer sits at (x, y); returns the recorded sleeps."""
    sleeps: list[float] = []
    monkeypatch.setenv("DISPLAY", ":fake")
    monkeypatch.setitem(sys.modules, "pyautogui", types.SimpleNamespace(position=lambda: (x, y)))
    monkeypatch.setattr(capture_cmd.time, "sleep", sleeps.append)
    return sleeps


def test_capture_counts_down_then_stores_the_pointer(roster, capsys, monkeypatch):
    sleeps = fake_pointer(monkeypatch, 640, 360)
    code, out, _ = run(capsys, "agents", "capture", "Agent-1", "--onboarding", "--roster", str(roster))
    assert code == 0 and sleeps == [1, 1, 1]
    lines = out.splitlines()
    assert lines[0] == "Hover the mouse pointer over the input of a new chat for Agent-1."
    assert lines[1:4] == ["3..", "2..", "1.."]
    assert lines[4] == f"Agent-1.onboarding: (420, 900) -> (640, 360)  (saved to {roster})"
    assert lines[5].startswith("warning: the window under the pointer could not be read (the X display "
                               ":fake cannot be reached")
    assert lines[5].endswith("): stored as a screen point only, not bound to a window")
    assert lines[6].startswith(f"previous roster backed up to {roster}.bak-")
    after = load_roster(roster, screens=())
    assert after.get("Agent-1").transport.onboarding == (640, 360)
    assert after.get("Agent-1").transport.chat == (420, 980)


def test_capture_refuses_before_the_countdown(roster, capsys, monkeypatch):
    sleeps = fake_pointer(monkeypatch, 1, 1)
    before = roster.read_text(encoding="utf-8")
    code, _, err = run(capsys, "agents", "capture", "Agent-2", "--roster", str(roster))
    assert code == 2 and "Agent-2 uses the tmux transport" in err
    code, _, err = run(capsys, "agents", "capture", "Agent-7", "--roster", str(roster))
    assert code == 2 and "no agent 'Agent-7'" in err
    monkeypatch.delenv("DISPLAY")
    if sys.platform.startswith("linux"):
        code, _, err = run(capsys, "agents", "capture", "Agent-1", "--roster", str(roster))
        assert code == 2 and "the mouse pointer cannot be read" in err
    assert sleeps == [] and roster.read_text(encoding="utf-8") == before
    assert sorted(os.listdir(roster.parent)) == ["agents.yaml", "inbox"]


WINDOW_ROSTER = """\
agents:
  - id: Agent-1
    transport: gui
    chat: [420, 980]
    window: {class: Chromium, title: api-service, pid: 4242, id: 0x80000c}
    chat_in_window: {anchor: bottom-left, offset: [320, -60]}
"""


def test_list_and_show_name_the_window_an_agent_is_bound_to(tmp_path, capsys):
    path = tmp_path / "agents.yaml"
    path.write_text(WINDOW_ROSTER, encoding="utf-8")
    code, out, _ = run(capsys, "agents", "list", "--roster", str(path))
    assert code == 0 and "chat (420, 980) in Chromium 'api-service'" in out.splitlines()[1]
    code, out, _ = run(capsys, "agents", "show", "Agent-1", "--roster", str(path))
    settings = {line.split()[0]: " ".join(line.split()[1:]) for line in out.splitlines()[1:]}
    assert settings["window"] == "class Chromium, title 'api-service', pid 4242, id 0x80000c"
    assert settings["chat_in_window"] == "320, -60 from the bottom-left corner"
    assert settings["onboarding_in_window"] == "-"
    code, out, _ = run(capsys, "agents", "show", "Agent-1", "--json", "--roster", str(path))
    assert json.loads(out)["transport"]["window"] == {"class": "Chromium", "title": "api-service", "pid": 4242,
                                                      "id": 0x80000C}


def test_capture_with_a_title_but_no_window_under_the_pointer_saves_nothing(roster, capsys, monkeypatch):
    fake_pointer(monkeypatch, 640, 360)
    before = roster.read_text(encoding="utf-8")
    code, _, err = run(capsys, "agents", "capture", "Agent-1", "--title", "api", "--roster", str(roster))
    assert code == 2 and "--title needs an application window under the pointer: the window under the " \
                         "pointer could not be read" in err and err.rstrip().endswith("; nothing saved")
    assert roster.read_text(encoding="utf-8") == before
