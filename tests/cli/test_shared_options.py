"""--config, --data-dir and --roster mean the same before and after the command, as a person types them."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from quarterdeck.cli.main import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def roster(tmp_path):
    path = tmp_path / "agents.yaml"
    path.write_text(f"agents:\n  - {{id: Agent-1, transport: inbox, path: {tmp_path / 'inbox'}}}\n",
                    encoding="utf-8")
    (tmp_path / "inbox").mkdir()
    return path


def test_data_dir_and_roster_work_before_and_after_the_command(tmp_path, roster, capsys):
    data = tmp_path / "data"
    code, _, err = run(capsys, "--data-dir", str(data), "--roster", str(roster), "send", "-a", "Agent-1", "-m", "one")
    assert code == 0, err
    code, _, err = run(capsys, "send", "-a", "Agent-1", "-m", "two", "--data-dir", str(data), "--roster", str(roster))
    assert code == 0, err
    before = run(capsys, "--data-dir", str(data), "history", "--json")
    after = run(capsys, "history", "--json", "--data-dir", str(data))
    assert before[0] == after[0] == 0
    assert json.loads(before[1])["total"] == json.loads(after[1])["total"] == 2
    assert sorted(p.read_text(encoding="utf-8").rsplit("\n", 1)[1] for p in (tmp_path / "inbox").iterdir()) == [
        "one", "two"]  # both reached the one inbox: the same outbox and roster either way


def test_a_tilde_the_shell_left_is_the_home_folder_and_an_unknown_users_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)  # where a literal ~ folder would be made
    for argv in (["--data-dir=~/before", "history"], ["history", "--data-dir=~/after"]):
        code, _, err = run(capsys, *argv)
        assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "home").iterdir()) == ["after", "before"]
    with pytest.raises(SystemExit) as exited:
        main(["history", "--data-dir", "~no-such-user-qd/data"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "quarterdeck history: error: argument --data-dir: ~no-such-user-qd/data: no home folder is known for "
        "'~no-such-user-qd'; write the folder out in full")
    assert not list(tmp_path.glob("~*"))


@pytest.mark.parametrize(("argv", "env", "line"), [
    (["--roster", "~no-such-user-qd/agents.yaml"], {}, "quarterdeck gui: error: argument --roster: "
     "~no-such-user-qd/agents.yaml: no home folder is known for '~no-such-user-qd'; write the folder out in full"),
    ([], {"QUARTERDECK_DATA_DIR": "~no-such-user-qd/data"}, "quarterdeck gui: error: QUARTERDECK_DATA_DIR="
     "~no-such-user-qd/data: no home folder is known for '~no-such-user-qd'; write the folder out in full"),
])
def test_the_panel_started_as_a_module_says_the_same_in_one_line(tmp_path, argv, env, line):
    done = subprocess.run([sys.executable, "-m", "quarterdeck.gui", *argv], env={**os.environ, **env}, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stderr.strip().splitlines()[-1]) == (2, line)
    assert "Traceback" not in done.stderr and not list(tmp_path.iterdir())


def test_config_works_after_the_command_too(tmp_path, capsys):
    config = tmp_path / "coordination.yaml"
    config.write_text("max_retries: 7\n", encoding="utf-8")
    for argv in (["--config", str(config), "config", "show"], ["config", "show", "--config", str(config)]):
        code, out, err = run(capsys, *argv)
        assert code == 0, err
        assert any(line.startswith("max_retries = 7") for line in out.splitlines()), out


def test_after_the_command_wins_over_before(tmp_path, roster, capsys):
    code, _, err = run(capsys, "--data-dir", str(tmp_path / "first"), "send", "-a", "Agent-1", "-m", "x",
                       "--roster", str(roster), "--data-dir", str(tmp_path / "second"))
    assert code == 0, err
    assert (tmp_path / "second" / "quarterdeck.sqlite3").exists() and not (tmp_path / "first").exists()


@pytest.mark.parametrize(("command", "option"), [(["rules", "check"], "--roster"), (["demo"], "--roster"),
                                                 (["demo"], "--broker")])
def test_a_command_that_takes_no_such_option_says_so(roster, capsys, command, option):
    """``demo`` makes its own roster of simulated agents, on this machine only: a roster or broker given
    before it was dropped without a word."""
    value = str(roster) if option == "--roster" else "redis://127.0.0.1:6379"
    with pytest.raises(SystemExit) as ended:
        main([option, value, *command])
    assert ended.value.code == 2
    assert f"'{command[0]}' takes no {option}; leave it out" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["onboard", "--all"], ["send", "-a", "Agent-1", "-m", "hi"]])
def test_an_invalid_config_after_the_command_is_one_clear_error(tmp_path, roster, capsys, command):
    """A file that is not a configuration (here: the roster) given to a command that opens a session."""
    code, _, err = run(capsys, *command, "--roster", str(roster), "--data-dir", str(tmp_path / "data"),
                       "--config", str(roster))
    assert code == 2, err
    assert err.startswith("quarterdeck: error: configuration is invalid:") and "Traceback" not in err
