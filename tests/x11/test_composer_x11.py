"""The composer driven as a person drives it, on a real display with the real pointer and keys
(xdotool): a blocked message gives visible feedback at once; a broadcast to two tmux panes and
two inbox folders (one of them unreachable) asks first, naming the unreachable one, then its
chips go live under the message box and end with the red outcome line.

The panel runs as its own process (``quarterdeck gui --roster``); a small probe inside it writes
the composer's state to a JSON file the test reads. ``QD_COMPOSER_SHOTS`` names a folder for
screenshots of the broadcast in progress and finished (default: the test's temporary folder).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from test_send_e2e import PrivateTmux
from xterm_desk import wait_until

pytestmark = [pytest.mark.x11,
              pytest.mark.skipif(shutil.which("xdotool") is None or shutil.which("tmux") is None,
                                 reason="missing tools: xdotool, tmux")]

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "ghp_aJer8GFWcNzTFM2aCVpCUGMjVCy9y1kPAr82"

PROBE = r'''
import json, os, sys
from PySide6.QtCore import QRect, QTimer
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QApplication, QMessageBox, QToolTip
app = QApplication(sys.argv[:1])
out = sys.argv[1]

def glob(widget):
    r = widget.rect()
    top = widget.mapToGlobal(r.topLeft())
    return [top.x(), top.y(), r.width(), r.height()]

def tip_point(editor, index):
    if len(editor.toPlainText()) <= index:
        return None
    cursor = QTextCursor(editor.document())
    cursor.setPosition(index)
    centre = editor.viewport().mapToGlobal(editor.cursorRect(cursor).center())
    return [centre.x() + 3, centre.y()]

def dump():
    window = next((w for w in app.topLevelWidgets() if w.objectName() == "quarterdeck-main"), None)
    if window is None or not window.isVisible():
        return
    composer = window.panels["composer"]
    confirm = next((w for w in app.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()), None)
    state = {
        "agents": window.ctx.roster.ids(),
        "editor": glob(composer.editor), "editor_focus": composer.editor.hasFocus(),
        "text": composer.editor.toPlainText(),
        "notice": composer.notice.text(), "notice_error": composer.notice.error,
        "flashing": composer.checks.property("flashing"),
        "problems": [p.rule_id for p in composer.checks.problems()],
        "score": composer.checks.score.text(),
        "chips": composer.chips.texts(), "chips_visible": composer.chips.isVisible(),
        "chips_rect": glob(composer.chips), "checks_rect": glob(composer.checks),
        "outcome": composer.chips.outcome.text(), "bad": composer.chips.outcome.property("bad"),
        "confirm": confirm.text() if confirm is not None else None,
        "table": glob(composer.progress.table),
        "focus": app.focusWidget().objectName() if app.focusWidget() is not None else None,
        "tip_point": tip_point(composer.editor, 20),
        "tooltip": QToolTip.text() if QToolTip.isVisible() else None,
    }
    with open(out + ".tmp", "w") as f:
        json.dump(state, f)
    os.replace(out + ".tmp", out)

timer = QTimer()
timer.timeout.connect(dump)
timer.start(50)
from gui.app import main
sys.exit(main(sys.argv[2:]))
'''


class Panel:
    def __init__(self, home: Path, roster: Path, env: dict[str, str]) -> None:
        self.home = home
        self.state_file = home / "state.json"
        env = {k: v for k, v in env.items() if k != "QT_QPA_PLATFORM"}
        env.update({"HOME": str(home), "QUARTERDECK_CONFIG_DIR": str(home / "config"),
                    "QUARTERDECK_DATA_DIR": str(home / "data"), "XDG_CONFIG_HOME": str(home / ".config"),
                    "PYTHONPATH": str(ROOT), "LC_ALL": "C.UTF-8"})
        self.log = open(home / "app.log", "wb")  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen([sys.executable, "-c", PROBE, str(self.state_file), "--roster", str(roster)],
                                     cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.wait(lambda s: len(s.get("agents", [])) == 4, "the panel with its roster", timeout=60)
        time.sleep(0.8)

    def state(self) -> dict:
        assert self.proc.poll() is None, (self.home / "app.log").read_text(errors="replace")[-3000:]
        try:
            return json.loads(self.state_file.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def wait(self, check, what: str, timeout: float = 15.0) -> dict:
        return wait_until(lambda: (s := self.state()) and check(s) and s, timeout=timeout, what=what)

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def xdotool(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True, timeout=30)


def click(rect) -> None:
    x, y, width, height = rect
    xdotool("mousemove", str(x + width // 2), str(y + height // 2))
    time.sleep(0.15)
    xdotool("click", "1")
    time.sleep(0.15)


def key(*keys: str) -> None:
    xdotool("key", "--clearmodifiers", *keys)
    time.sleep(0.15)


def shot(name: str, folder: Path) -> Path:
    size = subprocess.run(["xdpyinfo"], capture_output=True, text=True, check=True).stdout
    dims = next(line.split()[1] for line in size.splitlines() if "dimensions:" in line)
    path = folder / f"composer-{name}-{dims}.png"
    subprocess.run(["import", "-window", "root", str(path)], check=True, timeout=30)
    return path


@pytest.fixture
def desk(tmp_path):
    tmux = PrivateTmux()
    panes = {f"Tmux-{n}": tmux.cat_pane(tmp_path / f"tmux-{n}.txt") for n in (1, 2)}
    (tmp_path / "inbox-1").mkdir()
    (tmp_path / "inbox-2").write_text("not a folder")  # a target that is missing
    agents = [{"id": agent_id, "transport": "tmux", "target": target} for agent_id, target in panes.items()]
    agents += [{"id": f"Inbox-{n}", "transport": "inbox", "path": str(tmp_path / f"inbox-{n}")} for n in (1, 2)]
    roster = tmp_path / "agents.yaml"
    roster.write_text(yaml.safe_dump({"agents": agents}), encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    panel = Panel(home, roster, {**os.environ, **tmux.env})
    try:
        yield panel, tmp_path
    finally:
        panel.close()
        tmux.close()


def test_blocked_feedback_then_a_live_broadcast_to_tmux_and_inbox_agents(desk):
    panel, folder = desk
    shots = Path(os.environ.get("QD_COMPOSER_SHOTS") or folder)
    click(panel.state()["editor"])
    panel.wait(lambda s: s["editor_focus"], "the message box focused by the click")
    xdotool("type", "--delay", "15", "--", f"Push with {TOKEN} please")
    state = panel.wait(lambda s: s["problems"] == ["no-credentials"], "the rule check of the typed text")
    assert state["score"] == "75 · FAIL"  # the token counts once
    x, y = state["tip_point"]  # hovering the underline names the rule
    xdotool("mousemove", str(x), str(y))
    time.sleep(0.2)
    xdotool("mousemove", str(x + 2), str(y))
    state = panel.wait(lambda s: s["tooltip"], "the underline's tooltip")
    assert state["tooltip"].startswith("no-credentials (error): A credential must never be pasted")

    key("ctrl+Return")  # nobody ticked: Send says so
    state = panel.wait(lambda s: s["notice"].startswith("Not sent: Nobody is ticked"), "Send's refusal")
    assert state["notice_error"]
    key("ctrl+shift+Return")  # Broadcast with a secret: refused, the problems flash
    state = panel.wait(lambda s: "A credential must never be pasted" in s["notice"], "Broadcast's refusal")
    assert state["notice_error"] and state["flashing"] is True
    shot("blocked", shots)
    assert state["confirm"] is None

    key("ctrl+a")
    xdotool("type", "--delay", "15", "--", "Rebase on main and rerun the tests.")
    panel.wait(lambda s: s["text"] == "Rebase on main and rerun the tests." and s["score"] == "100 · PASS",
               "the clean text checked")
    key("ctrl+shift+Return")
    state = panel.wait(lambda s: s["confirm"] is not None, "the broadcast confirmation")
    assert "Inbox-2: inbox folder" in state["confirm"] and "3/4 reachable" in state["confirm"]
    time.sleep(0.3)
    shot("confirm", shots)
    key("alt+a")  # Send to all: Inbox-2 will fail
    state = panel.wait(lambda s: len(s["chips"]) == 4, "the chips of the broadcast", timeout=20)
    assert state["chips_visible"] and state["chips_rect"][1] < state["checks_rect"][1]
    assert state["chips_rect"][1] >= state["editor"][1] + state["editor"][3]  # right under the message box
    if state["bad"] is None:
        shot("in-progress", shots)
    state = panel.wait(lambda s: s["bad"] is not None, "the outcome line", timeout=60)
    assert state["outcome"] == "3/4 submitted · 1 failed" and state["bad"] is True
    assert sorted(state["chips"]) == ["Inbox-1 · submitted ✓", "Inbox-2 · failed ✗", "Tmux-1 · submitted ✓",
                                      "Tmux-2 · submitted ✓"]
    assert "Queued for" not in state["notice"]
    shot("finished", shots)
    table = state["table"]  # Tab is not trapped in the progress table
    click([table[0], table[1] + 30, table[2], 20])
    panel.wait(lambda s: s["focus"] == "composer-progress", "the progress table focused by the click")
    key("Tab")
    state = panel.wait(lambda s: s["focus"] != "composer-progress", "Tab out of the progress table")
    for n in (1, 2):
        out = folder / f"tmux-{n}.txt"
        wait_until(lambda o=out: b"Rebase on main" in o.read_bytes(), what=f"Tmux-{n}'s text")
    assert len(list((folder / "inbox-1").glob("*.md"))) == 1
