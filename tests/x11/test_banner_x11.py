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

import os
import subprocess
import time
from contextlib import closing
from pathlib import Path

import pytest
from probed_panel import ProbedPanel, click, glob, key, needs, roster_file, screen_size, shot, shots_folder, xdotool
from test_send_e2e import PrivateTmux
from xterm_desk import XTERM_PASTE, move_pointer, wait_until

from quarterdeck.core.models import Agent, GuiTransport, Message
from quarterdeck.core.roster.roster import Roster, save_roster
from quarterdeck.core.store import Store

pytestmark = [pytest.mark.x11, needs("xdotool", "tmux")]


def banner_state(app, window):
    """(In the panel's process.) The banner, its buttons, the toolbar's Stop all and the status bar."""
    from PySide6.QtWidgets import QToolButton

    banner = window.status.banner
    return {
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


def banner_panel(home: Path, roster: Path, env: dict[str, str]) -> ProbedPanel:
    """The panel on ``roster`` (``quarterdeck gui --roster``), probed by ``banner_state``."""
    return ProbedPanel(home, [banner_state], ["--roster", str(roster)], env=env)


def serving(panel: ProbedPanel, agents: int) -> None:
    panel.ready(lambda s: len(s.get("agents", [])) == agents and "UP" in s["health"], "the panel, serving",
                settle=0.5)


@pytest.fixture
def desk(tmp_path):
    with closing(PrivateTmux()) as tmux:
        pane = tmux.cat_pane(tmp_path / "tmux.txt")
        (tmp_path / "inbox").mkdir()
        agents = [{"id": "Tmux-1", "transport": "tmux", "target": pane},
                  {"id": "Inbox-1", "transport": "inbox", "path": str(tmp_path / "inbox")}]
        with banner_panel(tmp_path / "home", roster_file(tmp_path, agents), {**os.environ, **tmux.env}) as panel:
            serving(panel, 2)
            yield panel, tmp_path


def test_stop_shows_the_banner_and_requeue_then_resume_delivers_to_tmux_and_inbox(desk):
    panel, folder = desk
    shots = shots_folder("QD_BANNER_SHOTS", folder)
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
    key("Escape")  # Esc in the panel: Stop all again, the queue is cancelled
    state = panel.wait(lambda s: s["banner_text"] == "STOPPED — 4 deliveries cancelled · 0 sending"
                       and s["buttons"]["requeue"]["enabled"], "the banner counting the cancelled ones")
    assert state["buttons"]["requeue"]["text"] == "Re-queue 4 cancelled"
    assert [n for n, b in state["buttons"].items() if b["visible"]] == ["resume", "requeue"]
    panel.wait(lambda s: "0 queued" in s["queue"], "the queue counted after the stop")
    shot(shots / f"banner-stopped-{screen_size()}.png", {"window": state["window"], "banner": state["banner"]})

    click(state["buttons"]["requeue"]["rect"])
    state = panel.wait(lambda s: "4 re-queued" in s["banner_text"], "the re-queue")
    assert "queued again" in state["message"] and state["halted"]
    assert not (folder / "tmux.txt").read_bytes() and not list((folder / "inbox").iterdir())  # still stopped

    click(state["buttons"]["resume"]["rect"])
    panel.wait(lambda s: not s["banner_visible"] and not s["halted"], "the banner gone after Resume")
    text = wait_until(lambda: (t := (folder / "tmux.txt").read_text()).count("Rebase on main") == 2 and t,
                      "both messages in the tmux pane", timeout=30)
    assert "step 1" in text and "step 2" in text
    files = wait_until(lambda: len(f := list((folder / "inbox").iterdir())) == 2 and f,
                       "both messages in the inbox", timeout=30)
    assert sorted("step 1" in f.read_text() for f in files) == [False, True]
    panel.wait(lambda s: "UP" in s["health"] and "2/2 reachable" in s["health"], "health back up")


def test_a_person_at_the_mouse_raises_the_paused_banner_and_its_resume_delivers_the_rest(tmp_path, xterms,
                                                                                        empty_clipboard):
    shots = shots_folder("QD_BANNER_SHOTS", tmp_path)
    if int(screen_size().split("x")[1]) < 1000:
        pytest.skip("the xterm agents and a 700 px panel side by side need a screen 1000 px high")
    terms = xterms(3)  # along the top of the screen
    roster = tmp_path / "agents.yaml"
    save_roster(Roster(tuple(Agent(id=f"Term-{n + 1}", transport=GuiTransport(chat=t.point, paste_keys=XTERM_PASTE))
                             for n, t in enumerate(terms))), roster, backup=False)
    home = tmp_path / "home"
    with banner_panel(home, roster, dict(os.environ)) as panel:
        serving(panel, 3)
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
        state = panel.wait(lambda s: ("GUI delivery paused" in s["health"] and "DEGRADED" in s["health"])
                           or "OUT OF SERVICE" in s["health"], "health saying paused")
        assert "reachable" in state["health"] and "paused" in state["health"]
        shot(shots / f"banner-paused-{screen_size()}.png", {"window": state["window"], "banner": state["banner"]})
        paused_on = state["banner_text"].split(":")[0].removeprefix("GUI PAUSED on ")
        click(state["buttons"]["resume"]["rect"])
        panel.wait(lambda s: not s["banner_visible"], "the banner gone after Resume")
        with Store(home / "data" / "quarterdeck.sqlite3") as other:
            wait_until(lambda: not {"queued", "sending"} & {r[0] for r in other.connection().execute(
                "SELECT state FROM deliveries")}, "every delivery finished", timeout=30)
            outcome = {agent: state for agent, state in other.connection().execute(
                "SELECT agent_id, state FROM deliveries")}
        # the paused one was put back untyped and goes out now; one the person's mouse caught
        # mid-paste may have failed (typed, not submitted: never pasted twice)
        assert outcome[paused_on] == "delivered", outcome
        for n, term in enumerate(terms):
            if outcome[f"Term-{n + 1}"] == "delivered":
                wait_until(lambda t=term: b"Pull and rerun the suite." in t.read(), f"{term.name}'s text", timeout=30)
