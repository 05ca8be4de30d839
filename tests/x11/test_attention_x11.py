"""The captain's view on a real display, driven as a person drives it (xdotool pointer and keys):

a real tmux agent (a pane of a private tmux server whose client runs in an xterm) and a GUI agent
(an xterm bound by its window) report through ``quarterdeck hook`` with Claude Code's documented
Notification JSON. The roster's Activity column turns needs-you, the Attention panel lists them
(longest waiting first) with a count on the toolbar, Ctrl+Shift+A goes there and Enter brings the
agent forward: the tmux client shows the agent's pane (its terminal raised), the GUI agent's window
becomes the active window; with no client attached the status line says so and gives the
``tmux attach`` command. Runs on the display's size (scripts/with-xvfb.sh: 1920x1080, or
QUARTERDECK_SCREEN=1366x768x24); screenshots go to $QUARTERDECK_SCREENSHOTS or artifacts/screenshots.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from probed_panel import (
    ROOT,
    ProbedPanel,
    click,
    glob,
    key,
    needs,
    rerun_on_small_screen,
    roster_file,
    screen_size,
    shot,
    shots_folder,
)
from xterm_desk import wait_until

pytestmark = [pytest.mark.x11, needs("xdotool", "xterm", "tmux", "import")]

QUARTERDECK = Path(sys.executable).parent / "quarterdeck"
NOTIFICATION = {  # Claude Code's Notification hook input (docs: hooks reference, Notification)
    "session_id": "abc123", "transcript_path": "/home/captain/.claude/projects/demo/abc123.jsonl",
    "cwd": "/home/captain/demo", "hook_event_name": "Notification",
    "message": "Claude needs your permission to use Bash", "notification_type": "permission_prompt",
}


def attention_state(app, window):
    """(In the panel's process.) The roster's activity column, the Attention panel and its rows."""
    from PySide6.QtCore import QRect, Qt

    from quarterdeck.gui.activity.panel import ID_ROLE
    from quarterdeck.gui.roster.model import ACTIVITY, AGENT_ID_ROLE

    tip = Qt.ItemDataRole.ToolTipRole
    roster, panel = window.panels["roster"], window.panels["attention"]
    model, table, tree = roster.model, roster.table, panel.tree
    rows = {}
    for _group, item in panel._children():
        box = tree.visualItemRect(item)
        rows[item.data(0, ID_ROLE)] = glob(tree.viewport(), box) if box.isValid() else None
    column = QRect(table.columnViewportPosition(ACTIVITY), 0, table.columnWidth(ACTIVITY), 20)
    table_button = roster.toolbar.widgetForAction(roster.actions_by_name["table"])
    return {
        "window": glob(window), "active": app.activeWindow() is window,
        "activity": {model.index(r, 0).data(AGENT_ID_ROLE): model.index(r, ACTIVITY).data()
                     for r in range(model.rowCount())},
        "activity_tip": {model.index(r, 0).data(AGENT_ID_ROLE): model.index(r, ACTIVITY).data(tip)
                         for r in range(model.rowCount())},
        "table_shown": roster.stack.currentWidget() is table, "table_button": glob(table_button),
        "activity_column": [column.x(), column.right(), table.viewport().width()],
        "roster_scrolls": window.docks["roster"].widget().horizontalScrollBar().isVisible(),
        "fleet_scrolls": roster.fleet.horizontalScrollBar().isVisible(),
        "roster": glob(roster), "attention": glob(panel) if panel.isVisible() else None,
        "listed": panel.listed(), "rows": rows, "selected": panel.selected_id(),
        "tree_focus": tree.hasFocus(), "status": panel.status.text(),
        "attach": panel.attach.text() if panel.attach.isVisible() else None,
        "button": window.attention_action.text(),
    }


class Tmux:
    """A private tmux server (its socket in a folder of its own): session ``swarm`` with the agent's
    pane in window 1 while window 0 is in front."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="qd-attn-"))
        self.env = {k: v for k, v in os.environ.items() if k != "TMUX"}
        self.env["TMUX_TMPDIR"] = str(self.folder)
        self("-f", "/dev/null", "new-session", "-d", "-s", "swarm", "-x", "100", "-y", "20",
             "sh -c 'echo front; sleep 600'")
        self("new-window", "-t", "swarm:1", "sh -c 'echo the agent pane; sleep 600'")
        self("select-window", "-t", "swarm:0")
        self.pane = self("display-message", "-p", "-t", "swarm:1.0", "#{pane_id}")

    def __call__(self, *args: str) -> str:
        return subprocess.run(["tmux", *args], env=self.env, capture_output=True, text=True, check=True,
                              timeout=10).stdout.strip()

    def clients(self) -> list[str]:
        return self("list-clients", "-F", "#{client_name}").split()

    def close(self) -> None:
        subprocess.run(["tmux", "kill-server"], env=self.env, capture_output=True, timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)


def xterm(title: str, geometry: str, command: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """An xterm running ``command``; (its process, its X window id)."""
    proc = subprocess.Popen(["xterm", "-title", title, "-geometry", geometry, "-e", *command],
                            env={**env, "LC_ALL": "C.UTF-8"}, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    found = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--name", title],
                           capture_output=True, text=True, check=True, timeout=20)
    return proc, found.stdout.split()[0]


def hook(agent: str, data_dir: Path, payload: dict) -> None:
    """What the agent's hook runs: the tool's JSON piped into ``quarterdeck hook``."""
    done = subprocess.run([str(QUARTERDECK), "hook", "--agent", agent, "--source", "claude-code",
                           "--data-dir", str(data_dir)], input=json.dumps(payload), capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr


def active_window() -> str:
    return subprocess.run(["xdotool", "getactivewindow"], capture_output=True, text=True, check=True,
                          timeout=10).stdout.strip()


def test_a_waiting_agent_is_listed_and_enter_brings_it_forward(tmp_path):
    size = screen_size()
    width, height = (int(n) for n in size.split("x"))
    shots = shots_folder("QUARTERDECK_SCREENSHOTS", ROOT / "artifacts" / "screenshots")
    tmux = Tmux()
    terms: list[subprocess.Popen] = []
    try:
        client_term, client_window = xterm("qd-tmux-client", f"90x16+{width - 700}+{height - 330}",
                                           ["tmux", "attach", "-t", "swarm"], tmux.env)
        terms.append(client_term)
        client = wait_until(lambda: (found := tmux.clients()) and found[0], "the tmux client to attach")
        gui_term, gui_window = xterm("qd-gui-agent", f"70x10+{width - 560}+60", ["sh", "-c", "exec cat"], tmux.env)
        terms.append(gui_term)
        data = tmp_path / "home" / "data"
        agents = [{"id": "Tmux-1", "role": "tests", "transport": "tmux", "target": "swarm:1.0"},
                  {"id": "Gui-1", "role": "frontend", "transport": "gui", "chat": [width - 300, 120],
                   "window": {"class": "XTerm", "title": "qd-gui-agent"}},
                  {"id": "Dry-1", "role": "docs", "transport": "dryrun"}]
        path = roster_file(tmp_path, agents)
        with ProbedPanel(tmp_path / "home", [attention_state], ["--roster", str(path), "--data-dir", str(data)],
                         env=tmux.env, data_dir=data) as app:
            state = app.ready(lambda s: s["activity"].get("Dry-1") == "unknown", "the panel with the roster")
            assert state["button"] == "Attention" and state["listed"] == []
            assert not state["roster_scrolls"] and not state["fleet_scrolls"]  # the default layout fits
            # the tmux agent's Claude Code asks for permission
            hook("Tmux-1", data, NOTIFICATION)
            state = app.wait(lambda s: s["activity"]["Tmux-1"].startswith("needs-you"), "Tmux-1 needs-you", 3)
            assert state["activity_tip"]["Tmux-1"].startswith("it waits for permission")
            assert "Notification hook" in state["activity_tip"]["Tmux-1"]
            state = app.wait(lambda s: s["button"] == "Attention · 1", "the count on the toolbar")
            assert state["listed"] == [["needs", "Tmux-1"]]
            click(state["table_button"])
            state = app.wait(lambda s: s["table_shown"], "the roster as a table")
            left, right, viewport = state["activity_column"]
            assert 0 < left and right <= viewport, state["activity_column"]  # in view without scrolling
            shot(shots / f"attention-roster-{size}.png", {"window": state["window"], "roster": state["roster"]})
            # the keyboard: Ctrl+Shift+A, then Enter on the agent that waits
            key("ctrl+shift+a")
            state = app.wait(lambda s: s["tree_focus"] and s["selected"] == "Tmux-1", "the Attention list focused")
            shot(shots / f"attention-panel-{size}.png", {"window": state["window"], "attention": state["attention"]})
            assert tmux("display-message", "-p", "-c", client, "#{pane_id}") != tmux.pane
            key("Return")
            state = app.wait(lambda s: "shown in the client" in s["status"], "Tmux-1 brought forward", 10)
            assert tmux("display-message", "-p", "-c", client, "#{pane_id}") == tmux.pane
            assert state["status"].startswith(f"Tmux-1: tmux pane {tmux.pane} (swarm:1.0) selected")
            wait_until(lambda: active_window() == client_window, "the tmux client's terminal in front")
            # the GUI agent asks too; it waited less, so it is second
            hook("Gui-1", data, {**NOTIFICATION, "session_id": "gui1"})
            state = app.wait(lambda s: s["listed"] == [["needs", "Tmux-1"], ["needs", "Gui-1"]], "both listed")
            assert state["button"] == "Attention · 2"
            click(state["rows"]["Gui-1"])
            state = app.wait(lambda s: s["active"] and s["selected"] == "Gui-1", "Gui-1 chosen in the panel")
            assert active_window() != gui_window
            key("Return")
            state = app.wait(lambda s: "raised and focused" in s["status"], "Gui-1 brought forward", 10)
            wait_until(lambda: active_window() == gui_window, "the GUI agent's window active")
            # with no client attached the pane waits for one: the status line says how to see it
            client_term.terminate()
            client_term.wait(10)
            wait_until(lambda: not tmux.clients(), "the tmux client gone")
            tmux("select-window", "-t", "swarm:0")
            click(state["rows"]["Tmux-1"])
            app.wait(lambda s: s["active"] and s["selected"] == "Tmux-1", "Tmux-1 chosen in the panel")
            key("Return")
            state = app.wait(lambda s: s["attach"] is not None, "the attach command", 10)
            assert state["attach"] == "tmux attach -t swarm" and "no tmux client is attached" in state["status"]
            assert tmux("display-message", "-p", "-t", "swarm", "#{pane_id}") == tmux.pane
            shot(shots / f"attention-no-client-{size}.png",
                 {"window": state["window"], "attention": state["attention"]})
    finally:
        for term in terms:
            if term.poll() is None:
                term.terminate()
                term.wait(10)
        tmux.close()


def test_the_same_on_a_1366x768_screen():
    """The test above on a small laptop screen (a private display of that size, when this one is not)."""
    rerun_on_small_screen(__file__, "test_a_waiting_agent_is_listed_and_enter_brings_it_forward")
