"""The panel on a disk that fills up, driven as a person drives it: the real panel runs as its own
process on an outbox in a small tmpfs; xdotool picks the agent, types a message and clicks Send
while the disk is full. The panel keeps running and says in one line what is wrong, where and
what to do (``AppContext.sig_fault``, shown in the status bar); once space is freed the same
click sends the message."""
from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from test_storage_faults import fill, mounted

# the real panel; it prints where a person would click once the window is up, and every line the
# window is given through AppContext.sig_fault and the status bar
APP = r"""
import json, sys
from PySide6.QtCore import QTimer
import gui.mainwindow as mainwindow
from gui.roster.model import AGENT_ID_ROLE
shown = mainwindow.MainWindow.show

def report(window):
    roster, composer = window.panels["roster"], window.panels["composer"]
    fleet, model = roster.fleet, roster.model
    def centre(widget, rect=None):
        point = widget.mapToGlobal((rect or widget.rect()).center())
        return [point.x(), point.y()]
    tiles = {model.index(row, 0).data(AGENT_ID_ROLE): centre(fleet.viewport(), fleet.visualRect(model.index(row, 0)))
             for row in range(model.rowCount())}
    window.ctx.sig_fault.connect(lambda line: print(json.dumps({"fault": line}), flush=True))
    window.statusBar().messageChanged.connect(lambda text: print(json.dumps({"status": text}), flush=True))
    window.ctx.sig_submitted.connect(lambda sub: print(json.dumps({"submitted": list(sub.delivery_ids)}), flush=True))
    print(json.dumps({"tiles": tiles, "editor": centre(composer.editor), "send": centre(composer.send_button)}),
          flush=True)

def show(self):
    shown(self)
    QTimer.singleShot(1500, lambda: report(self))

mainwindow.MainWindow.show = show
from cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("QUARTERDECK_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def xdotool(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True, timeout=10)


def click(point: list[int]) -> None:
    xdotool("mousemove", str(point[0]), str(point[1]))
    time.sleep(0.15)
    xdotool("click", "1")
    time.sleep(0.25)


def lines_of(stream) -> tuple[queue.Queue, threading.Thread]:
    found: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in stream:
            with contextlib.suppress(ValueError):
                found.put(json.loads(line))

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    return found, reader


def wait_for(found: queue.Queue, key: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(queue.Empty):
            item = found.get(timeout=0.2)
            if key in item:
                return item[key]
    raise AssertionError(f"no {key} line within {timeout} s")


@pytest.mark.x11
def test_the_panel_says_the_disk_is_full_and_keeps_running(tmp_path):
    for tool in ("xdotool", "import"):
        if subprocess.run(["which", tool], check=False, capture_output=True).returncode:
            pytest.skip(f"missing tools: {tool}")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    roster = tmp_path / "agents.yaml"
    roster.write_text(f"agents:\n  - {{id: Agent-1, transport: inbox, path: {inbox}}}\n", encoding="utf-8")
    with mounted(tmp_path / "disk", "-o", "size=1m") as disk:
        env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
        env.update(QUARTERDECK_DATA_DIR=str(disk / "data"), QUARTERDECK_CONFIG_DIR=str(tmp_path / "config"),
                   HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "xdg"))
        app = subprocess.Popen([sys.executable, "-c", APP, "gui", "--roster", str(roster)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=Path(__file__).resolve().parents[2])
        try:
            found, reader = lines_of(app.stdout)
            where = None
            deadline = time.monotonic() + 30
            while where is None and time.monotonic() < deadline:
                with contextlib.suppress(queue.Empty):
                    item = found.get(timeout=0.2)
                    where = item if "tiles" in item else None
            assert where, "the panel did not start"
            fill(disk)
            click(where["tiles"]["Agent-1"])
            click(where["editor"])
            xdotool("type", "--delay", "15", "Disk check: push your branch")
            time.sleep(0.3)
            click(where["send"])
            line = wait_for(found, "fault")
            assert "is full" in line and str(disk / "data" / "quarterdeck.sqlite3") in line
            assert "free some space" in line
            status = wait_for(found, "status")
            subprocess.run(["import", "-window", "root", str(shots(tmp_path) / "full-disk.png")], check=True, timeout=20)
            assert app.poll() is None, "the panel ended on a full disk"
            assert list(inbox.glob("*.md")) == [] and status
            (disk / "filler").unlink()
            click(where["editor"])  # the error line above the form moved the buttons: the keys send
            xdotool("key", "ctrl+Return")
            assert wait_for(found, "submitted")
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not list(inbox.glob("*.md")):
                time.sleep(0.2)
            (message,) = inbox.glob("*.md")
            assert "Disk check: push your branch" in message.read_text(encoding="utf-8")
        finally:
            app.terminate()
            try:
                app.wait(timeout=15)
            except subprocess.TimeoutExpired:
                app.kill()
                app.wait()
            reader.join(timeout=10)  # the panel has ended: its output is at its end
            app.stdout.close()
            app.stderr.close()


@pytest.mark.x11
def test_a_panel_that_cannot_open_its_outbox_says_why_in_a_dialog(tmp_path):
    """Started from a launcher, nobody reads stderr: the one line is shown in a dialog, the person
    presses Enter, and the process ends with the damaged-file exit code."""
    if subprocess.run(["which", "xdotool"], check=False, capture_output=True).returncode:
        pytest.skip("missing tools: xdotool")
    data = tmp_path / "data"
    data.mkdir()
    (data / "quarterdeck.sqlite3").write_bytes(b"garbage, not a database " * 100)
    roster = tmp_path / "agents.yaml"
    roster.write_text(f"agents:\n  - {{id: Agent-1, transport: inbox, path: {tmp_path / 'in'}}}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update(QUARTERDECK_DATA_DIR=str(data), QUARTERDECK_CONFIG_DIR=str(tmp_path / "config"),
               HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    app = subprocess.Popen([sys.executable, "-m", "cli.main", "gui", "--roster", str(roster)], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           cwd=Path(__file__).resolve().parents[2])
    try:
        found = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--name", "Quarterdeck cannot start"],
                               capture_output=True, text=True, timeout=30, check=False)
        assert found.returncode == 0, "no dialog"
        window = found.stdout.split()[0]
        time.sleep(0.5)
        subprocess.run(["import", "-window", "root", str(shots(tmp_path) / "cannot-start.png")], check=False,
                       timeout=20)
        xdotool("windowactivate", "--sync", window)
        xdotool("key", "Return")
        _, err = app.communicate(timeout=20)
    finally:
        if app.poll() is None:
            app.kill()
            app.communicate()
    assert app.returncode == 4, err
    lines = [ln for ln in err.splitlines() if not ln.startswith("quarterdeck: note:")]
    assert len(lines) == 1 and "is damaged" in lines[0] and "doctor --repair" in lines[0], err
