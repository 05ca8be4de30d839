"""Tab completion through argcomplete's own protocol: the shell runs `quarterdeck` with _ARGCOMPLETE,
COMP_LINE and COMP_POINT set and reads the candidates from file descriptor 8; and
`quarterdeck completion bash|zsh|fish` prints the snippet that hooks it up."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from quarterdeck.cli.main import main

pytest.importorskip("argcomplete")

ROOT = Path(__file__).resolve().parents[2]
INSTALLED = Path(sys.executable).with_name("quarterdeck")  # the command installed beside this Python
COMMAND = [str(INSTALLED)] if INSTALLED.exists() else [sys.executable, "-m", "quarterdeck.cli.main"]


def complete(line: str) -> list[str]:
    """What Tab offers after ``line`` (the cursor at its end), as bash would ask for it."""
    env = {**os.environ, "_ARGCOMPLETE": "1", "_ARGCOMPLETE_IFS": "\n", "COMP_LINE": line,
           "COMP_POINT": str(len(line)), "_ARGCOMPLETE_SHELL": "bash"}
    env.pop("_ARGCOMPLETE_STDOUT_FILENAME", None)
    # fd 8 is where argcomplete writes the candidates; 9 its debug stream
    done = subprocess.run(["sh", "-c", 'exec "$@" 8>&1 9>/dev/null', "sh", *COMMAND], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return [word.strip() for word in done.stdout.split("\n") if word.strip()]


def test_the_subcommands_are_offered():
    offered = complete("quarterdeck ")
    assert {"send", "status", "agents", "contracts", "serve", "completion"} <= set(offered), offered


def test_a_prefix_narrows_to_the_matching_subcommands():
    assert sorted(complete("quarterdeck agents c")) == ["capture", "check"]
    assert complete("quarterdeck st") == ["status", "stop"]


def test_options_and_choices_are_offered():
    assert complete("quarterdeck send --pri") == ["--priority"]
    assert sorted(complete("quarterdeck send --priority ")) == ["normal", "urgent"]
    assert sorted(w for w in complete("quarterdeck completion ") if not w.startswith("-")) == ["bash", "fish", "zsh"]


@pytest.mark.parametrize(("shell", "hook"), [("bash", "complete "), ("zsh", "compdef"), ("fish", "complete ")])
def test_the_snippet_names_the_command(shell, hook, capsys):
    assert main(["completion", shell]) == 0
    out = capsys.readouterr().out
    assert "quarterdeck" in out and hook in out and "_ARGCOMPLETE" in out


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_registers_the_completion_from_the_snippet():
    script = f'eval "$({" ".join(COMMAND)} completion bash)" && complete -p quarterdeck'
    done = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(" quarterdeck") and "-F _python_argcomplete" in done.stdout


def test_without_argcomplete_the_command_still_runs_and_says_what_is_missing(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "argcomplete", None)  # import argcomplete raises ImportError
    monkeypatch.setenv("_ARGCOMPLETE", "1")  # a completion request: skipped, the command runs
    assert main(["completion", "bash"]) == 2
    assert "shell completion needs argcomplete: pip install argcomplete" in capsys.readouterr().err
