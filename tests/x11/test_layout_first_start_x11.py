"""The first start (``quarterdeck`` with no roster: the panel and the demo swarm) on real screens of
1920x1080 and 1366x768, driven with the real pointer and keys (xdotool):

- the window stays inside the screen and keeps its status bar in view while a person opens
  Rules, Charts and Health and every other panel from the View menu, each in front with the focus;
  View → Reset layout brings back the first start's layout;
- the demo's chat windows share the screen with the panel without covering it, are not kept on
  top, and the command palette opens in front of them; GUI delivery still reaches each of them;
- F6 / Shift+F6 / Ctrl+Tab move the focus between panels, Ctrl+N jumps to panel N, the palette
  opens with nothing chosen (a stray Enter stops nothing) and runs "View: …" commands.

The app runs as its own process on the display; a small probe inside it writes the window's
state to a JSON file the test reads. The size this display does not have is run on a nested
private display (scripts/with-xvfb.sh with QUARTERDECK_SCREEN).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time

import pytest
from probed_panel import ROOT, ProbedPanel, click, glob, key, needs, rect, screen_size, send_points, type_text, xdotool
from xterm_desk import wait_until

pytestmark = [pytest.mark.x11, needs("xdotool")]

SIZES = ("1920x1080", "1366x768")
NESTED = "QUARTERDECK_LAYOUT_NESTED"


def layout_state(app, window):
    """(In the panel's process.) The window's place, its panels, the View menu and the palette."""
    from quarterdeck.gui.navigation import in_front

    bar, menu, palette = window.statusBar(), window.view_menu, window.palette_dialog
    item = palette.list.currentItem()
    docked = [(n, d) for n, d in window.docks.items() if in_front(d) and not d.isFloating()]
    return {
        "overlaps": [(a, b) for i, (a, one) in enumerate(docked) for b, other in docked[i + 1:]
                     if one.geometry().intersects(other.geometry())],
        "frame": rect(window.frameGeometry()), "available": rect(window.screen().availableGeometry()),
        "status_bar": glob(bar, bar.rect()) if bar.isVisible() else None,
        "window_rect": glob(window, window.rect()),
        "active": app.activeWindow() is window,
        "current": window.navigator.current(), "on_screen": window.navigator.on_screen(),
        "in_front": [n for n, p in window.panels.items() if in_front(p)],
        "view_title": glob(window.menuBar(), window.menuBar().actionGeometry(menu.menuAction())),
        "view_open": menu.isVisible(),
        "view_items": {a.text(): glob(menu, menu.actionGeometry(a)) for a in menu.actions() if a.text()}
                      if menu.isVisible() else {},
        "palette": rect(palette.frameGeometry()) if palette.isVisible() else None,
        "palette_current": item.text() if item is not None else None,
        "halted": window.ctx.delivery.halted, "agents": window.ctx.roster.ids(),
    }


@pytest.fixture(scope="module")
def nested_runs():
    """``nested_runs(size)``: the outcome of every test of this file run on a private display of
    ``size`` (run once per size)."""
    done: dict[str, str] = {}

    def run(size: str) -> str:
        if size not in done:
            env = {k: v for k, v in os.environ.items() if k not in ("QUARTERDECK_USE_DISPLAY", "QT_QPA_PLATFORM")}
            env.update({"QUARTERDECK_SCREEN": f"{size}x24", NESTED: size})
            out = subprocess.run([str(ROOT / "scripts" / "with-xvfb.sh"), sys.executable, "-m", "pytest",
                                  "-p", "no:cacheprovider", "-q", "-rA", "-k", size, __file__],
                                 cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
            done[size] = out.stdout + out.stderr
        return done[size]

    return run


def on_screen_of(size: str, request, nested_runs) -> bool:
    """True if the test is to run here; otherwise it ran on a nested display and passed there."""
    if screen_size() == size:
        return True
    assert os.environ.get(NESTED) is None, f"the nested display is {screen_size()}, not {size}"
    output = nested_runs(size)
    name = request.node.name
    assert re.search(rf"^PASSED .*::{re.escape(name)}$", output, re.MULTILINE), output[-6000:]
    return False


def inside(inner, outer) -> bool:
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return ox <= x and oy <= y and x + w <= ox + ow and y + h <= oy + oh


def overlaps(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def fits(state: dict) -> bool:
    """The window's frame inside the screen's free area, its status bar inside the window."""
    bar = state["status_bar"]
    return bool(inside(state["frame"], state["available"]) and bar and inside(bar, state["window_rect"])
                and inside(bar, state["available"]))


def received(app: ProbedPanel, agent_id: str) -> list[str]:
    from quarterdeck.gui.demo.transcript import parse_transcript

    path = app.home / "data" / "demo" / "transcripts" / f"{agent_id}.txt"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return [entry.text for entry in parse_transcript(text) if entry.kind == "message"]


def focus_panel_window(app: ProbedPanel) -> None:
    state = app.state()
    click([*state["view_title"][:2], 1, 1])  # the menu bar's View title, a click away from everything
    app.wait(lambda s: s["view_open"], "the View menu")
    key("Escape")
    app.wait(lambda s: not s["view_open"] and s["active"], "the panel active")


@pytest.mark.parametrize("size", SIZES)
def test_panels_opened_from_the_view_menu_stay_on_screen_with_the_focus(size, request, nested_runs, app_factory):
    if not on_screen_of(size, request, nested_runs):
        return
    app = app_factory()
    assert fits(app.state()), app.state()
    for title in ("Rules", "Charts", "Health", "Contracts", "Onboarding", "Dead letters", "History", "Roster",
                  "Composer"):
        click(app.state()["view_title"])
        state = app.wait(lambda s, t=title: s["view_open"] and t in s["view_items"], f"the View menu ({title})")
        click(state["view_items"][title])
        name = title.lower().replace(" ", "")
        state = app.wait(lambda s, n=name: s["current"] == n and n in s["in_front"] and not s["view_open"],
                         f"View → {title} in front with the focus")
        # no event says a window will not grow: a bounded wait, longer than the few frames the
        # layout's resize request and the window manager's answer take
        time.sleep(0.3)
        state = app.state()
        assert fits(state), (title, state)
        assert state["overlaps"] == [], (title, state)  # a panel shown over another is half hidden
    # View → Reset layout: the first start's layout again, in the left half of the screen
    first = app.state()
    click(first["view_title"])
    state = app.wait(lambda s: "Reset layout" in s["view_items"], "the View menu (Reset layout)")
    click(state["view_items"]["Reset layout"])
    demo = ["roster", "composer"] if size == "1366x768" else ["roster", "composer", "history"]
    state = app.wait(lambda s: s["on_screen"] == demo, "the demo layout back")
    x, _y, width, _height = state["available"]
    app.wait(lambda s: fits(s) and s["frame"][0] == x and s["frame"][2] <= width // 2 + 1, "the left half again")


@pytest.mark.parametrize("size", SIZES)
def test_demo_windows_leave_the_panel_free_and_the_palette_in_front(size, request, nested_runs, app_factory,
                                                                     empty_clipboard):
    if not on_screen_of(size, request, nested_runs):
        return
    from quarterdeck.core.delivery.contract import DeliveryRequest
    from quarterdeck.core.roster.roster import load_roster
    from quarterdeck.core.transports.gui.guard import PointerGuard
    from quarterdeck.core.transports.gui.transport import GuiDelivery
    from quarterdeck.core.transports.gui.windows import list_windows, raise_and_wait, topmost_at

    app = app_factory()
    deadline = time.monotonic() + 60  # the demo's windows open once the panel has painted (a loaded CI: slow)
    while len(agents := [w for w in list_windows() if w.title.endswith("· demo agent")]) < 4:
        assert time.monotonic() < deadline, [w.title for w in list_windows()]
        time.sleep(0.2)
    assert len(agents) == 4
    # the chat windows opened beside the panel leave it the keyboard: the panel is the active
    # window, not the last chat window to open
    active = subprocess.run(["xdotool", "getactivewindow"], capture_output=True, text=True, timeout=10,
                            check=True).stdout.strip()
    panel_ids = [w.id for w in list_windows() if w.title == "Quarterdeck" and w.pid == app.proc.pid]
    assert int(active) in panel_ids, ([w.title for w in list_windows() if w.id == int(active)], panel_ids)
    state = app.state()
    assert state["active"], state
    for window in agents:
        x, y, w, h = window.frame
        frame = (x, y, w, h)
        assert not overlaps(frame, state["frame"]), (window.title, frame, state["frame"])
        assert inside(frame, state["available"]), (window.title, frame)
    assert fits(state)
    # the palette opens in front of every agent window, with nothing chosen
    focus_panel_window(app)
    key("ctrl+k")
    state = app.wait(lambda s: s["palette"] is not None, "the palette")
    assert state["palette_current"] is None
    stack = [w.title for w in list_windows()]
    assert stack.index("Command palette") > max(stack.index(w.title) for w in agents)
    key("Escape")
    app.wait(lambda s: s["palette"] is None, "the palette closed")
    # the agent windows are ordinary: none asks to be kept above, and the panel brought to the
    # front is above every one of them
    for window in agents:
        wm_state = subprocess.run(["xprop", "-id", str(window.id), "_NET_WM_STATE"], capture_output=True,
                                  text=True, timeout=10, check=True).stdout
        assert "ABOVE" not in wm_state and "STAYS_ON_TOP" not in wm_state, wm_state
    # a person drags an agent window over the panel: the panel, clicked, comes back in front of it
    moved = agents[-1]
    panel = next(w for w in list_windows() if w.title == "Quarterdeck" and w.pid == app.proc.pid)
    xdotool("windowmove", str(moved.id), str(panel.x + 40), str(panel.y + 60))
    spot = (panel.x + 60, panel.y + 100)
    wait_until(lambda: next(w for w in list_windows() if w.id == moved.id).x < panel.x + 60, "the move")
    assert raise_and_wait(moved, spot, timeout=3.0) is not None
    assert topmost_at(spot).id == moved.id  # the agent window covers the panel there
    assert raise_and_wait(panel, spot, timeout=3.0) is not None
    assert topmost_at(spot).id == panel.id  # an agent window kept on top would have stayed there
    # and GUI delivery still reaches every agent through its window (the covered one raised)
    roster = load_roster(app.home / "data" / "demo" / "agents.yaml")
    guard = PointerGuard()
    for agent in roster.agents:
        GuiDelivery(agent.transport, guard=guard).deliver(
            DeliveryRequest(agent_id=agent.id, text=f"hello {agent.id} on {size}"), threading.Event())
    for agent in roster.agents:
        wait_until(lambda a=agent: received(app, a.id) == [f"hello {a.id} on {size}"], f"{agent.id}'s message")


@pytest.mark.parametrize("size", SIZES)
def test_keyboard_moves_between_panels_and_the_palette_stops_nothing_by_accident(size, request, nested_runs,
                                                                                   app_factory):
    if not on_screen_of(size, request, nested_runs):
        return
    app = app_factory()
    focus_panel_window(app)
    shown = app.state()["on_screen"]
    # the demo's layout: on a short screen the history is a tab behind the composer
    assert shown == (["roster", "composer"] if size == "1366x768" else ["roster", "composer", "history"])
    seen = []
    for _ in shown:
        before = app.state()["current"]
        key("F6")
        seen.append(app.wait(lambda s, b=before: s["current"] and s["current"] != b, "F6 to move")["current"])
    assert sorted(seen) == sorted(shown)
    key("shift+F6")
    app.wait(lambda s: s["current"] == seen[-2], "Shift+F6 back")
    key("ctrl+Tab")
    app.wait(lambda s: s["current"] == seen[-1], "Ctrl+Tab forward")
    key("ctrl+3")  # Rules: hidden in the demo layout
    state = app.wait(lambda s: s["current"] == "rules" and "rules" in s["in_front"], "Ctrl+3 to Rules")
    assert fits(state)
    key("ctrl+k")
    state = app.wait(lambda s: s["palette"] is not None, "the palette")
    assert state["palette_current"] is None
    key("Return")  # a stray Enter
    type_text("view charts", delay_ms=40)  # typed after it: once the palette shows it, the Enter was handled
    app.wait(lambda s: (s["palette_current"] or "").startswith("View: Charts"), "View: Charts chosen")
    assert not app.state()["halted"]  # the Enter stopped nothing and left the palette open
    key("Return")
    state = app.wait(lambda s: s["current"] == "charts" and s["palette"] is None, "View: Charts run")
    assert fits(state) and not state["halted"]


def column_state(app, window):
    """(In the panel's process.) ``layout_state`` and how much of the roster and composer shows:
    the agents whose row (or tile) is whole in view, and whether Send and the message box are."""
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QRegion

    state = layout_state(app, window)
    roster, composer = window.panels["roster"], window.panels["composer"]
    view = roster.stack.currentWidget()
    seen = view.viewport().visibleRegion()
    model = view.model()
    whole = [r for r in range(model.rowCount())
             if seen.intersected(view.visualRect(model.index(r, 0))) == QRegion(view.visualRect(model.index(r, 0)))]
    scroll = composer.parentWidget().parentWidget()  # the composer's scroll area, through its viewport

    def in_view(widget) -> bool:
        top_left = widget.mapTo(scroll.viewport(), widget.rect().topLeft())
        return scroll.viewport().rect().contains(QRect(top_left, widget.size())) and widget.isVisible()

    state.update({"table": view is roster.table, "whole_agents": len(whole),
                  "send_whole": in_view(composer.send_button), "editor_whole": in_view(composer.editor),
                  "points": send_points(window), "chips": composer.chips.texts(),
                  "outcome": composer.chips.outcome.text(), "notice": composer.notice.text()})
    return state


@pytest.mark.parametrize("view", ["table", "fleet"])
@pytest.mark.parametrize("size", SIZES)
def test_the_roster_shows_every_agent_and_the_composer_stays_whole(size, view, request, nested_runs, tmp_path):
    """The first start's column: every demo agent in the roster (its table or its tiles), and the
    composer whole down to Send, with no scrolling; and still whole once a send's chips and outcome show."""
    if not on_screen_of(size, request, nested_runs):
        return
    home = tmp_path / "home"
    settings = home / "config"  # the panel's config folder (QUARTERDECK_CONFIG_DIR): a view chosen before
    settings.mkdir(parents=True)
    (settings / "quarterdeck-panel.conf").write_text(f"[General]\nsettings_version=1\n\n[roster]\nview={view}\n",
                                                     encoding="utf-8")
    with ProbedPanel(home, [column_state, layout_state, send_points], patience=30.0) as app:  # a loaded CI
        app.ready(lambda s: len(s.get("agents", [])) == 4, "the demo roster")
        state = app.wait(lambda s: s["whole_agents"] == 4, f"every agent whole in the roster's {view}")
        assert state["table"] == (view == "table")
        assert state["send_whole"] and state["editor_whole"], state
        assert fits(state), state
        if view == "table":
            return
        tiles = state["points"]["tiles"]
        click(tiles["Agent-1"])
        click(tiles["Agent-2"], "ctrl")
        click(state["points"]["editor"])
        type_text("Please pull main.")
        key("ctrl+Return")
        state = app.wait(lambda s: s["outcome"] == "2/2 submitted", "the send's outcome")
        assert state["chips"] == ["Agent-1 · submitted ✓", "Agent-2 · submitted ✓"], state
        assert state["notice"] == ""  # the outcome is said once, at the end of the chips
        assert state["send_whole"] and state["editor_whole"], state
        assert fits(state), state
        click(state["points"]["editor"])
        key("Escape")  # Stop all: the STOPPED banner takes a row above the panels
        app.wait(lambda s: s["halted"], "Stop all")
        app.wait(lambda s: s["send_whole"] and s["editor_whole"], "Send whole under the STOPPED banner")
        time.sleep(0.5)  # and it stays so: the column is sized once, not again and again
        state = app.state()
        assert state["send_whole"] and state["editor_whole"] and fits(state), state


@pytest.fixture
def app_factory(tmp_path):
    """``app_factory()`` starts the app (only where the test runs on this display)."""
    made: list[ProbedPanel] = []

    def start() -> ProbedPanel:
        """The panel with the demo swarm, started as ``quarterdeck`` is on a first start."""
        home = tmp_path / f"home{len(made)}"
        home.mkdir()
        made.append(ProbedPanel(home, [layout_state], patience=10.0))
        made[-1].ready(lambda s: len(s.get("agents", [])) == 4, "the demo roster")  # and its placement
        return made[-1]

    yield start
    for one in made:
        one.close()
