"""Stop all as a person does it, on a real display with the real pointer and keys (xdotool): a
click on Stop all and Esc in the running panel raise the full-width STOPPED banner with its
counts and health says stopped; a click on Re-queue cancelled and one on Resume deliver what the
stop cancelled to a real tmux pane and inbox folder. A person moving the mouse while the panel
types into xterm agents raises the GUI PAUSED banner (who, why, how many wait); a click on its
Resume delivers the rest.

The panel runs as its own process (``quarterdeck gui --roster``); a small probe inside it writes
the banner's and the status bar's state to a JSON file the test reads. Messages are queued by
another process on the same outbox (as ``quarterdeck serve`` or a script would) while the panel
is stopped, so the second stop has a queue to cancel. ``QD_BANNER_SHOTS`` names a folder for the
screenshot of the stopped banner (default: the test's temporary folder).
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
from xterm_desk import XTERM_PASTE, move_pointer, wait_until

from core.models import Agent, GuiTransport
from core.roster import Roster, save_roster

from core.models import Message
from core.store import Store

pytestmark = [pytest.mark.x11,
              pytest.mark.skipif(shutil.which("xdotool") is None or shutil.which("tmux") is None,
                                 reason="missing tools: xdotool, tmux")]

ROOT = Path(__file__).resolve().parents[2]

PROBE = r'''
import json, os, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QToolButton
app = QApplication(sys.argv[:1])
out = sys.argv[1]

def glob(widget):
    r = widget.rect()
    top = widget.mapToGlobal(r.topLeft())
    return [top.x(), top.y(), r.width(), r.height()]

def dump():
    window = next((w for w in app.topLevelWidgets() if w.objectName() == "quarterdeck-main"), None)
    if window is None or not window.isVisible():
        return
    banner = window.status.banner
    state = {
        "agents": window.ctx.roster.ids(), "halted": window.ctx.delivery.halted,
        "active": app.activeWindow() is window,
        "stop": glob(window.findChild(QToolButton, "stop-all-button")),
        "toolbar": glob(window.toolbar), "window": glob(window),
        "banner_visible": banner.isVisible(), "banner": glob(banner), "banner_text": banner.label.text(),
        "buttons": {name: {"rect": glob(b), "visible": b.isVisible(), "enabled": b.isEnabled(), "text": b.text()}
                    for name, b in banner.buttons.items()},
        "health": window.health_label.text(), "queue": window.queue_label.text(),
        "message": window.statusBar().currentMessage(),
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
    def __init__(self, home: Path, roster: Path, env: dict[str, str], agents: int = 2) -> None:
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
        self.wait(lambda s: len(s.get("agents", [])) == agents and "UP" in s["health"], "the panel, serving",
                  timeout=60)
        time.sleep(0.5)

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


def shot(name: str, folder: Path) -> Path:
    size = subprocess.run(["xdpyinfo"], capture_output=True, text=True, check=True).stdout
    dims = next(line.split()[1] for line in size.splitlines() if "dimensions:" in line)
    path = folder / f"banner-{name}-{dims}.png"
    subprocess.run(["import", "-window", "root", str(path)], check=True, timeout=30)
    return path


@pytest.fixture
def desk(tmp_path):
    tmux = PrivateTmux()
    pane = tmux.cat_pane(tmp_path / "tmux.txt")
    (tmp_path / "inbox").mkdir()
    agents = [{"id": "Tmux-1", "transport": "tmux", "target": pane},
              {"id": "Inbox-1", "transport": "inbox", "path": str(tmp_path / "inbox")}]
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


def test_stop_shows_the_banner_and_requeue_then_resume_delivers_to_tmux_and_inbox(desk):
    panel, folder = desk
    shots = Path(os.environ.get("QD_BANNER_SHOTS") or folder)
    state = panel.state()
    assert not state["banner_visible"]
    click(state["stop"])  # Stop all with the pointer: nothing was queued
    state = panel.wait(lambda s: s["banner_visible"] and s["halted"], "the STOPPED banner")
    assert state["banner_text"] == "STOPPED — 0 deliveries cancelled · 0 sending"
    assert state["banner"][1] >= state["toolbar"][1] + state["toolbar"][3] - 1  # a row under the toolbar
    assert state["banner"][2] >= state["window"][2] - 20  # the window's full width
    panel.wait(lambda s: "OUT OF SERVICE" in s["health"] and "0/2 reachable · stopped by the captain" in s["health"],
               "health saying stopped")

    with Store(panel.home / "data" / "quarterdeck.sqlite3") as other:  # another process queues
        for n in (1, 2):
            other.enqueue(Message(sender="Captain", content=f"Rebase on main, step {n}."),
                          [("Tmux-1", "tmux"), ("Inbox-1", "inbox")])
    panel.wait(lambda s: "4 queued" in s["queue"], "the queue counted while stopped")
    xdotool("key", "--clearmodifiers", "Escape")  # Esc in the panel: Stop all again, the queue is cancelled
    state = panel.wait(lambda s: s["banner_text"] == "STOPPED — 4 deliveries cancelled · 0 sending"
                       and s["buttons"]["requeue"]["enabled"], "the banner counting the cancelled ones")
    assert state["buttons"]["requeue"]["text"] == "Re-queue 4 cancelled"
    assert [n for n, b in state["buttons"].items() if b["visible"]] == ["resume", "requeue"]
    panel.wait(lambda s: "0 queued" in s["queue"], "the queue counted after the stop")
    time.sleep(0.3)  # painted
    shot("stopped", shots)

    click(state["buttons"]["requeue"]["rect"])
    state = panel.wait(lambda s: "4 re-queued" in s["banner_text"], "the re-queue")
    assert "queued again" in state["message"] and state["halted"]
    assert not (folder / "tmux.txt").read_bytes() and not list((folder / "inbox").iterdir())  # still stopped

    click(state["buttons"]["resume"]["rect"])
    panel.wait(lambda s: not s["banner_visible"] and not s["halted"], "the banner gone after Resume")
    text = wait_until(lambda: (t := (folder / "tmux.txt").read_text()).count("Rebase on main") == 2 and t,
                      timeout=30, what="both messages in the tmux pane")
    assert "step 1" in text and "step 2" in text
    files = wait_until(lambda: len(f := list((folder / "inbox").iterdir())) == 2 and f, timeout=30,
                       what="both messages in the inbox")
    assert sorted("step 1" in f.read_text() for f in files) == [False, True]
    panel.wait(lambda s: "UP" in s["health"] and "2/2 reachable" in s["health"], "health back up")


def test_a_person_at_the_mouse_raises_the_paused_banner_and_its_resume_delivers_the_rest(tmp_path, xterms,
                                                                                        empty_clipboard):
    shots = Path(os.environ.get("QD_BANNER_SHOTS") or tmp_path)
    size = subprocess.run(["xdpyinfo"], capture_output=True, text=True, check=True).stdout
    height = int(next(line.split()[1] for line in size.splitlines() if "dimensions:" in line).split("x")[1])
    if height < 1000:
        pytest.skip("the xterm agents and a 700 px panel side by side need a screen 1000 px high")
    terms = xterms(3)  # along the top of the screen
    roster = tmp_path / "agents.yaml"
    save_roster(Roster(tuple(Agent(id=f"Term-{n + 1}", transport=GuiTransport(chat=t.point, paste_keys=XTERM_PASTE))
                             for n, t in enumerate(terms))), roster, backup=False)
    home = tmp_path / "home"
    home.mkdir()
    panel = Panel(home, roster, dict(os.environ), agents=3)
    try:
        found = subprocess.run(["xdotool", "search", "--pid", str(panel.proc.pid), "--name", "Quarterdeck"],
                               capture_output=True, text=True, check=True, timeout=10).stdout.split()
        xdotool("windowsize", found[-1], "1200", "700")  # below the agents' xterms, never over them
        xdotool("windowmove", found[-1], "60", "340")
        state = panel.wait(lambda s: s["window"][1] >= 300 and s["window"][3] <= 720, "the panel below the xterms")
        spot = (state["window"][0] + 300, state["window"][1] + 400)  # somewhere in the panel
        move_pointer(*spot)
        with Store(home / "data" / "quarterdeck.sqlite3") as other:
            other.enqueue(Message(sender="Captain", content="Pull and rerun the suite."),
                          [(f"Term-{n}", "gui") for n in (1, 2, 3)])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not panel.state().get("banner_visible"):
            move_pointer(spot[0] + int(time.monotonic() * 97) % 40, spot[1])  # a person fiddling with the mouse
            time.sleep(0.05)
        state = panel.wait(lambda s: s["banner_text"].startswith("GUI PAUSED on Term-"), "the GUI PAUSED banner")
        assert "someone is using the mouse" in state["banner_text"]
        state = panel.wait(lambda s: s["banner_text"].endswith("waiting") and " 0 waiting" not in s["banner_text"],
                           "the waiting count")
        assert [n for n, b in state["buttons"].items() if b["visible"]] == ["resume", "skip", "force"]
        assert state["buttons"]["skip"]["enabled"] and not state["buttons"]["force"]["enabled"]  # no draft
        state = panel.wait(lambda s: "GUI delivery paused" in s["health"] and "DEGRADED" in s["health"]
                           or "OUT OF SERVICE" in s["health"], "health saying paused")
        assert "reachable" in state["health"] and "paused" in state["health"]
        time.sleep(0.3)
        shot("paused", shots)
        paused_on = state["banner_text"].split(":")[0].removeprefix("GUI PAUSED on ")
        click(state["buttons"]["resume"]["rect"])
        panel.wait(lambda s: not s["banner_visible"], "the banner gone after Resume")
        with Store(home / "data" / "quarterdeck.sqlite3") as other:
            wait_until(lambda: not {"queued", "sending"} & {r[0] for r in other.connection().execute(
                "SELECT state FROM deliveries")}, timeout=30, what="every delivery finished")
            outcome = {agent: state for agent, state in other.connection().execute(
                "SELECT agent_id, state FROM deliveries")}
        # the paused one was put back untyped and goes out now; one the person's mouse caught
        # mid-paste may have failed (typed, not submitted: never pasted twice)
        assert outcome[paused_on] == "delivered", outcome
        for n, term in enumerate(terms):
            if outcome[f"Term-{n + 1}"] == "delivered":
                wait_until(lambda t=term: b"Pull and rerun the suite." in t.read(), timeout=30,
                           what=f"{term.name}'s text")
    finally:
        panel.close()
