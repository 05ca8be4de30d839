"""Run as the program, ``quarterdeck`` leaves without taking its modules apart (``quarterdeck.cli.entry``):
everything an exit owes is still done: the output complete, the exit code the command's, quarterdeck.log
written, and a process with Qt loaded or another thread running exits the usual way."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from quarterdeck import __version__

INSTALLED = Path(sys.executable).with_name("quarterdeck")
COMMAND = [str(INSTALLED)] if INSTALLED.exists() else [sys.executable, "-m", "quarterdeck"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, **(env or {})})


def test_help_comes_out_whole_and_exits_0(capsys):
    from quarterdeck.cli.main import main

    with pytest.raises(SystemExit):
        main(["--help"])
    done = run("--help")
    assert (done.returncode, done.stdout) == (0, capsys.readouterr().out)


def test_a_usage_error_keeps_its_exit_code_and_its_line():
    done = run("sned")
    assert done.returncode == 2 and "invalid choice: 'sned'" in done.stderr and "Traceback" not in done.stderr


def test_a_send_writes_its_outcome_and_its_log_line_before_leaving(tmp_path):
    roster = tmp_path / "agents.yaml"
    roster.write_text(f"agents:\n  - {{id: Good, transport: inbox, path: {tmp_path / 'good'}}}\n", encoding="utf-8")
    done = run("send", "-a", "Good", "-m", "for the log", "--roster", str(roster), "--data-dir", str(tmp_path / "data"),
               env={"QUARTERDECK_LOG_LEVEL": "INFO", "QUARTERDECK_CONFIG_DIR": str(tmp_path / "config")})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Good") and "submitted" in done.stdout
    log = (tmp_path / "data" / "logs" / "quarterdeck.log").read_text(encoding="utf-8")
    assert "delivery 1 to Good: delivered" in log
    assert not (tmp_path / "data" / "quarterdeck.sqlite3-wal").exists()  # the outbox was closed


@pytest.mark.parametrize(("setup", "quick"), [("", True), ("import shiboken6", False),
                                              ("threading.Thread(target=time.sleep, args=(0.3,)).start()", False)])
def test_the_quick_exit_is_taken_only_when_nothing_else_needs_the_usual_one(setup, quick):
    if "shiboken6" in setup:
        pytest.importorskip("shiboken6")
    # an atexit handler registered after the command ran tells whether the interpreter's own exit followed
    probe = (f"import atexit, sys, threading, time\n{setup}\nfrom quarterdeck.cli import entry\n"
             "sys.argv = ['quarterdeck', '--version']\natexit.register(print, 'atexit ran', flush=True)\n"
             "code = entry.main()\nprint('usual exit', code, flush=True)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"quarterdeck {__version__}" and "atexit ran" in lines
    assert ("usual exit 0" not in lines) is quick
