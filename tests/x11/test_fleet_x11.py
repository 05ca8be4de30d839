"""The fleet view on a real display, driven as a person drives it: the panel runs as its own
process (``quarterdeck gui --roster FILE``), xdotool clicks tiles (plain, Ctrl, Ctrl+Shift),
clicks into the message box, types and clicks Send, and exactly the selected inbox agents
receive the message."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

# Runs the real panel; once its window is up it prints where the tiles and the composer's parts
# are on screen (one JSON line), so the test knows where a person would click.
APP = r"""
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
import gui.mainwindow as mainwindow
from gui.roster.model import AGENT_ID_ROLE
shown = mainwindow.MainWindow.show

def report(window):
    roster, composer = window.panels["roster"], window.panels["composer"]
    fleet, model = roster.fleet, roster.model
    visible = fleet.viewport().rect()
    def centre(widget, rect=None):
        point = widget.mapToGlobal((rect or widget.rect()).center())
        return [point.x(), point.y()]
    tiles = {model.index(row, 0).data(AGENT_ID_ROLE): centre(fleet.viewport(), fleet.visualRect(model.index(row, 0)))
             for row in range(model.rowCount()) if visible.contains(fleet.visualRect(model.index(row, 0)))}
    print(json.dumps({"tiles": tiles, "editor": centre(composer.editor), "send": centre(composer.send_button),
                      "window": int(window.winId())}), flush=True)

def show(self):
    shown(self)
    QTimer.singleShot(1500, lambda: report(self))

mainwindow.MainWindow.show = show
from cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def xdotool(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True, timeout=10)


def click(point: list[int], *modifiers: str) -> None:
    for key in modifiers:
        xdotool("keydown", key)
    xdotool("mousemove", str(point[0]), str(point[1]))
    time.sleep(0.15)
    xdotool("click", "1")
    for key in reversed(modifiers):
        xdotool("keyup", key)
    time.sleep(0.25)


def received(inbox: Path) -> list[str]:
    return sorted(p.read_text(encoding="utf-8") for p in inbox.glob("*.md")) if inbox.is_dir() else []


def shots() -> Path:
    folder = Path(os.environ.get("QUARTERDECK_SCREENSHOTS")
                  or Path(__file__).resolve().parents[2] / "artifacts" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.x11
def test_clicked_tiles_are_the_recipients_of_the_next_send(tmp_path):
    for tool in ("xdotool", "import"):
        if subprocess.run(["which", tool], check=False, capture_output=True).returncode:
            pytest.skip(f"missing tools: {tool}")
    lines = ["agents:"]
    for n in range(1, 11):
        lines += [f"  - id: Agent-{n}", "    transport: inbox", f"    path: {tmp_path}/inbox/agent-{n}"]
        (tmp_path / f"inbox/agent-{n}").mkdir(parents=True)
    roster = tmp_path / "agents.yaml"
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update(QUARTERDECK_DATA_DIR=str(tmp_path / "data"), QUARTERDECK_CONFIG_DIR=str(tmp_path / "config"),
               HOME=str(tmp_path))
    app = subprocess.Popen([sys.executable, "-c", APP, "gui", "--roster", str(roster)], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           cwd=Path(__file__).resolve().parents[2])
    try:
        line = app.stdout.readline()
        assert line, f"the panel did not start: {app.stderr.read() if app.poll() is not None else ''}"
        where = json.loads(line)
        tiles = where["tiles"]
        assert {f"Agent-{n}" for n in range(1, 11)} <= set(tiles), f"not every tile in view: {sorted(tiles)}"
        click(tiles["Agent-2"])
        click(tiles["Agent-5"], "ctrl")
        click(tiles["Agent-5"], "ctrl")  # Ctrl-click again: out
        click(tiles["Agent-8"], "ctrl")
        click(tiles["Agent-9"], "ctrl", "shift")  # from the last clicked tile to this one, in fleet order
        click(where["editor"])
        xdotool("type", "--delay", "15", "Fleet check: push your branch")
        time.sleep(0.3)
        click(where["send"])
        chosen = {2, 8, 9}  # three: no confirmation (that is asked above 3)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not all(received(tmp_path / f"inbox/agent-{n}") for n in chosen):
            time.sleep(0.2)
        time.sleep(1.5)  # the tiles take the outcome; nobody else may receive anything meanwhile
        subprocess.run(["import", "-window", "root", str(shots() / "fleet-after-send.png")], check=True, timeout=20)
        for n in range(1, 11):
            got = received(tmp_path / f"inbox/agent-{n}")
            if n in chosen:
                assert len(got) == 1 and "Fleet check: push your branch" in got[0], (n, got)
            else:
                assert got == [], (n, got)
    finally:
        app.terminate()
        try:
            app.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            app.kill()
            app.communicate()
