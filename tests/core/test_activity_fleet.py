"""Which watchers a roster gets (quarterdeck.core.activity.watch.fleet): kinds told from the pane's
command or from a process in it, disabled agents left out."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from quarterdeck.core.activity.watch.fleet import pane_kind, process_kind, watchers_for
from quarterdeck.core.activity.watch.panes import TmuxPaneWatcher
from quarterdeck.core.models import Agent, DryRunTransport, TmuxTransport
from quarterdeck.core.roster.roster import Roster


def test_a_cli_run_by_node_is_told_by_its_script_name(tmp_path):
    script = tmp_path / "codex.js"
    script.write_text("import sys\nsys.stdin.read()\n")  # runs until its input closes
    # a stand-in for `node .../codex.js`: a process whose argv[1] is the script
    child = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE)
    try:
        assert process_kind(os.getpid()) == "codex"  # found below this process
        assert process_kind(child.pid) == "codex"
    finally:
        child.communicate()
    assert process_kind(1, proc=tmp_path / "no-proc") is None


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_the_roster_gets_one_pane_watcher_with_each_panes_kind(tmp_path, monkeypatch):
    monkeypatch.setenv("TMUX_TMPDIR", str(tmp_path))
    monkeypatch.delenv("TMUX", raising=False)
    gemini = tmp_path / "gemini"
    gemini.write_text("#!/bin/sh\nsleep 60\n")  # the shell stays: its argv names the script
    gemini.chmod(0o755)
    try:
        subprocess.run(["tmux", "new-session", "-d", "-s", "k", "sh"], check=True)
        subprocess.run(["tmux", "new-window", "-t", "k", str(gemini)], check=True)
        time.sleep(0.3)
        assert pane_kind("k:0.0") == "plain"
        assert pane_kind("k:1.0") == "gemini"  # `sh .../gemini`: the script's name tells
        assert pane_kind("nowhere:9") == "plain"
        roster = Roster((Agent(id="A", transport=TmuxTransport(target="k:0.0")),
                         Agent(id="B", transport=TmuxTransport(target="k:1.0", agent="claude-code")),
                         Agent(id="C", enabled=False, transport=TmuxTransport(target="k:1.0")),
                         Agent(id="D", transport=DryRunTransport())))
        (watcher,) = watchers_for(roster)
        assert isinstance(watcher, TmuxPaneWatcher)
        assert [(p.agent_id, p.kind) for p in watcher.panes] == [("A", "plain"), ("B", "claude-code")]
    finally:
        subprocess.run(["tmux", "kill-server"], capture_output=True, check=False)
