"""Desktop notifications drawn by a real notification daemon (dunst) on the real display.

A private session bus carries dunst (started by the test with its own config: notices top right,
a left click invokes the notice's action). An agent's Claude Code hook (``run_hook``, the same
code ``quarterdeck hook`` runs) says it waits for a permission; the panel's activity feed sees it,
the notifier puts up "Agent-3 needs you" with the agent's own words, the screenshot shows it
where dunst draws, and a left click on it (xdotool) comes back as ActionInvoked: the agent's tmux
pane is brought forward (its xterm, attached to the pane's tmux session, becomes the active
window) and the panel selects it. ``QD_NOTIFY_SHOTS`` names a folder for the screenshot
(default: the test's temporary folder).
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from notify_bus import BACKGROUND, PrivateBus, missing_tools
from probed_panel import check_screen, glob, screen_pixels, shots_folder, window_rect
from test_send_e2e import PrivateTmux
from xterm_desk import wait_until

from quarterdeck.core.activity.hook import run_hook
from quarterdeck.core.activity.notify_dbus import DesktopNotifications
from quarterdeck.core.models import Agent, DryRunTransport, TmuxTransport
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.session import Session

pytestmark = pytest.mark.x11


@pytest.fixture
def dunst_bus(tmp_path, monkeypatch):
    missing = missing_tools("dunst", "xdotool", "xterm", "tmux", "import")
    if missing:
        pytest.skip(f"missing tools: {', '.join(missing)}")
    bus = PrivateBus(tmp_path / "bus")
    monkeypatch.delenv("QUARTERDECK_NOTIFICATIONS", raising=False)  # on, whatever the suite says
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    bus.start_dunst()
    yield bus
    bus.close()


def xdotool(*args: object) -> str:
    return subprocess.run(["xdotool", *map(str, args)], capture_output=True, text=True, check=True,
                          timeout=10).stdout.strip()


def dunst_rect() -> list[int]:
    """The rectangle of dunst's notification window (mapped while it shows a notice)."""
    found = wait_until(lambda: subprocess.run(["xdotool", "search", "--onlyvisible", "--class", "dunst"],
                                              capture_output=True, text=True, timeout=10).stdout.split(),
                       "dunst's window")
    return window_rect(found[-1])


def hear(data_dir: Path, agent: str, payload: dict) -> None:
    """The agent's Claude Code hook, as ``quarterdeck hook claude-code --agent AGENT`` runs it."""
    run_hook("claude-code", agent, json.dumps({"session_id": "s1", "cwd": "/w", **payload}), data_dir)


def permission(data_dir: Path, agent: str, text: str) -> None:
    hear(data_dir, agent, {"hook_event_name": "Notification", "message": text,
                           "notification_type": "permission_prompt"})


def answered(data_dir: Path, agent: str) -> None:
    hear(data_dir, agent, {"hook_event_name": "PostToolUse", "tool_name": "Bash", "tool_input": {}})


def windows_of(pid: int) -> list[str]:
    """The visible windows of process ``pid`` (none yet: empty)."""
    return subprocess.run(["xdotool", "search", "--onlyvisible", "--pid", str(pid)], capture_output=True,
                          text=True, timeout=10).stdout.split()


@pytest.fixture
def attached_xterm(tmp_path, monkeypatch):
    """A tmux pane (Agent-3's) shown in an xterm attached to its session; another xterm on top
    holds the focus. Yields (pane target, the attached xterm's window id)."""
    tmux = PrivateTmux()
    monkeypatch.setenv("TMUX_TMPDIR", str(tmux.folder))
    monkeypatch.delenv("TMUX", raising=False)
    terms: list[subprocess.Popen] = []
    try:
        target = tmux.cat_pane(tmp_path / "pane-out")
        terms.append(subprocess.Popen(["xterm", "-geometry", "80x20+40+300", "-e", "tmux", "attach", "-t",
                                       tmux.session], env=tmux.env))
        wait_until(lambda: tmux.tmux("list-clients"), "the xterm's tmux client")
        attached = wait_until(lambda: windows_of(terms[0].pid), "the attached xterm")[-1]
        terms.append(subprocess.Popen(["xterm", "-geometry", "80x20+60+320", "-e", "cat"]))
        other = wait_until(lambda: windows_of(terms[1].pid), "the other xterm")[-1]
        xdotool("windowactivate", "--sync", other)
        wait_until(lambda: xdotool("getactivewindow") == other, "the other xterm active")
        yield target, int(attached)
    finally:
        for term in terms:
            term.terminate()
            term.wait(10)
        tmux.close()


@pytest.fixture
def make_ctx(tmp_path, qapp):
    """``make_ctx("Agent-3", ...)``: a started panel context whose outbox is in tmp_path/data; an
    id given as (id, tmux target) is a tmux agent, a plain id a dry-run one."""
    from quarterdeck.gui.context import AppContext

    made = []

    def make(*agents):
        roster = Roster(tuple(Agent(id=a[0], transport=TmuxTransport(target=a[1])) if isinstance(a, tuple)
                              else Agent(id=a, transport=DryRunTransport()) for a in agents))
        ctx = AppContext(Session.open(roster=roster, data_dir=tmp_path / "data", stagger=0.0), roster_path=None)
        made.append(ctx)
        ctx.start()
        return ctx

    yield make
    for ctx in made:
        ctx.shutdown()


@pytest.fixture
def ctx(make_ctx, attached_xterm):
    return make_ctx(("Agent-3", attached_xterm[0]), "Agent-4")


def test_a_waiting_agent_is_shown_and_a_click_brings_it_forward(dunst_bus, attached_xterm, ctx, qtbot, tmp_path):
    from quarterdeck.core.activity.bring import bring_forward
    from quarterdeck.gui.activity.feed import feed_for
    from quarterdeck.gui.activity.notifications import Notifications

    asked: list[str] = []

    def bring(agent: Agent) -> str:
        asked.append(agent.id)
        return bring_forward(agent)

    data = tmp_path / "data"
    notifications = Notifications(ctx, ctx, bring=bring)
    feed = feed_for(ctx)
    feed.sig_activities.connect(notifications.on_activities)
    before = shots_folder("QD_NOTIFY_SHOTS", tmp_path) / "notify-before.png"
    subprocess.run(["import", "-window", "root", str(before)], check=True, timeout=30)
    assert dunst_bus.displayed() == 0

    permission(data, "Agent-3", "Claude needs your permission to use Bash(rm -rf build)")
    qtbot.waitUntil(lambda: notifications.shown == 1, timeout=10000)
    qtbot.waitUntil(lambda: dunst_bus.displayed() == 1, timeout=10000)
    assert notifications.notifier.status.startswith("desktop notifications by dunst")
    x, y, w, h = dunst_rect()
    shot = before.with_name("notify-shown.png")
    subprocess.run(["import", "-window", "root", str(shot)], check=True, timeout=30)
    check_screen(shot, {"the notice": [x, y, w, h]})  # drawn: text on it, not the desktop
    pixels, earlier = screen_pixels(shot), screen_pixels(before)
    assert x + w > pixels.shape[1] - 40 and y < 120, (x, y, w, h)  # top right, where the config puts it
    share = float(np.mean(pixels[y + 4:y + h - 4, x + 4:x + w - 4] == BACKGROUND))
    assert share > 0.6, f"the notice's background covers {share:.0%} of its window"
    assert not (earlier[y:y + h, x:x + w] == BACKGROUND).any()  # not there before

    # a second request while it still waits: no second notice
    looks = feed.looks
    permission(data, "Agent-3", "Claude needs your permission to use Edit")
    qtbot.waitUntil(lambda: feed.looks > looks + 2, timeout=10000)
    assert notifications.shown == 1 and dunst_bus.displayed() == 1

    # the captain clicks it: the agent's pane and its terminal come forward
    xdotool("mousemove", x + w // 2, y + h // 2)
    time.sleep(0.2)
    xdotool("click", 1)
    brought = []
    notifications.sig_brought.connect(lambda agent, line: brought.append((agent, line)))
    qtbot.waitUntil(lambda: bool(brought), timeout=10000)
    assert asked == ["Agent-3"]
    assert brought[0][0] == "Agent-3" and "selected, shown in the client" in brought[0][1], brought
    qtbot.waitUntil(lambda: xdotool("getactivewindow") == str(attached_xterm[1]), timeout=10000)
    qtbot.waitUntil(lambda: dunst_bus.displayed() == 0, timeout=10000)
    notifications.shutdown()


def notify_cli(*args: str, env: dict[str, str] | None = None) -> str:
    """``quarterdeck notify ARGS`` in a process of its own (as the captain types it)."""
    done = subprocess.run([str(Path(sys.executable).with_name("quarterdeck")), "notify", *args],
                          capture_output=True, text=True, timeout=60, check=True, env={**os.environ, **(env or {})})
    return done.stdout


def test_answered_or_removed_withdraws_and_do_not_disturb_holds(dunst_bus, ctx, qtbot, tmp_path, caplog):
    from quarterdeck.gui.activity.feed import feed_for
    from quarterdeck.gui.activity.notifications import Notifications

    caplog.set_level(logging.INFO, logger="quarterdeck.gui.activity.notifications")
    data = tmp_path / "data"
    notifications = Notifications(ctx, ctx, bring=lambda agent: agent.id)
    feed_for(ctx).sig_activities.connect(notifications.on_activities)
    permission(data, "Agent-4", "Claude needs your permission to use Bash(make)")
    qtbot.waitUntil(lambda: dunst_bus.displayed() == 1, timeout=10000)
    answered(data, "Agent-4")  # answered in the terminal: the notice is taken back
    qtbot.waitUntil(lambda: dunst_bus.displayed() == 0, timeout=10000)

    assert notify_cli("dnd", "on") == "do not disturb: on\n"  # from the command line, another process
    permission(data, "Agent-4", "Claude needs your permission to use Bash(make install)")
    qtbot.waitUntil(lambda: "no notification for Agent-4: do not disturb" in caplog.text, timeout=10000)
    assert notifications.prefs.dnd and notifications.shown == 1 and dunst_bus.displayed() == 0
    assert notify_cli("dnd", "off") == "do not disturb: off\n"
    answered(data, "Agent-4")
    permission(data, "Agent-4", "Claude needs your permission to use Bash(make check)")
    qtbot.waitUntil(lambda: notifications.shown == 2, timeout=10000)
    qtbot.waitUntil(lambda: dunst_bus.displayed() == 1, timeout=10000)
    ctx.set_roster(Roster(tuple(a for a in ctx.roster.agents if a.id != "Agent-4")))  # removed: taken back
    qtbot.waitUntil(lambda: dunst_bus.displayed() == 0, timeout=10000)
    qtbot.wait(1500)  # the feed's next looks (one may have begun before the removal): not shown again
    assert notifications.shown == 2 and dunst_bus.displayed() == 0
    notifications.shutdown()


def test_one_notice_per_agent_and_a_daemon_that_goes_away(dunst_bus, caplog):
    statuses: list[str] = []
    notifier = DesktopNotifications(on_status=statuses.append)
    try:
        notifier.show("Agent-3", "Agent-3 needs you", "permission: Bash(rm -rf build) && <done>")
        notifier.show("Agent-3", "Agent-3 needs you", "question: which branch?")
        notifier.show("Agent-5", "Agent-5 needs you", "permission: Edit(core/x.py)")
        assert notifier.wait_idle(10)
        wait_until(lambda: dunst_bus.displayed() == 2, "two notices, the first replaced")
        dunst_bus.dunst.terminate()
        dunst_bus.dunst.wait(10)
        for _ in range(3):
            notifier.show("Agent-3", "Agent-3 needs you", "permission: Bash")
        start = time.monotonic()
        assert notifier.wait_idle(20)
        assert time.monotonic() - start < 10
    finally:
        notifier.close()
    assert len(statuses) == 2 and statuses[0].startswith("desktop notifications by dunst"), statuses
    assert statuses[1] == "no desktop notifications: no notification service on the session bus"
    said = [r.getMessage() for r in caplog.records if r.name.endswith("notify_dbus") and r.levelname == "WARNING"]
    assert said == ["no desktop notifications: no notification service on the session bus"]


def test_no_daemon_is_said_once_in_the_status_bar(tmp_path, monkeypatch, make_ctx, qtbot, caplog):
    from quarterdeck.gui.activity.feed import feed_for
    from quarterdeck.gui.activity.notifications import Notifications

    if missing_tools():
        pytest.skip("missing tools: dbus-daemon")
    bus = PrivateBus(tmp_path / "bus")  # a session bus with no notification service on it
    monkeypatch.delenv("QUARTERDECK_NOTIFICATIONS", raising=False)  # on, whatever the suite says
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    try:
        ctx = make_ctx("Agent-3")
        lines: list[str] = []
        ctx.sig_status.connect(lines.append)
        notifications = Notifications(ctx, ctx)
        feed_for(ctx).sig_activities.connect(notifications.on_activities)
        start = time.monotonic()
        for n in range(3):
            permission(tmp_path / "data", "Agent-3", f"Claude needs your permission to use Bash({n})")
            if n < 2:
                answered(tmp_path / "data", "Agent-3")
            qtbot.wait(400)
        qtbot.waitUntil(lambda: notifications.notifier.available is False, timeout=10000)
        assert notifications.notifier.wait_idle(10) and time.monotonic() - start < 15
        notifications.shutdown()
    finally:
        bus.close()
    said = "no desktop notifications: no notification service on the session bus"
    assert lines.count(said) == 1, lines
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [said]


# --- the real panel, driven as a person drives it ---------------------------------------------------

def notify_state(app, window):
    """(In the panel's process.) Notifications installed; the Do not disturb button, the roster's
    tiles, the context menu's Mute entry when the menu is open, the status bar."""
    from PySide6.QtWidgets import QMenu

    from quarterdeck.gui.activity.notifications import install
    from quarterdeck.gui.roster.model import AGENT_ID_ROLE

    notes = install(window)  # once (a window that has them already keeps its own)
    dnd = next(a for a in window.toolbar.actions() if a.objectName() == "notify-dnd")
    roster = window.panels["roster"]
    tiles = {}
    for row in range(roster.model.rowCount()):
        index = roster.model.index(row, 0)
        tiles[index.data(AGENT_ID_ROLE)] = glob(roster.fleet.viewport(), roster.fleet.visualRect(index))
    menu = next((w for w in app.topLevelWidgets() if isinstance(w, QMenu) and w.isVisible()
                 and w.objectName() == "roster-context-menu"), None)
    mute = next((a for a in menu.actions() if a.objectName() == "roster-mute"), None) if menu else None
    return {"dnd": glob(window.toolbar.widgetForAction(dnd)), "dnd_on": dnd.isChecked(), "tiles": tiles,
            "mute": glob(menu, menu.actionGeometry(mute)) if mute else None,
            "mute_checked": mute.isChecked() if mute else None, "muted": sorted(notes.prefs.muted),
            "shown": notes.shown, "selected": roster.selected_id(), "status": window.statusBar().currentMessage()}


def right_click(where) -> None:
    x, y, w, h = where
    xdotool("mousemove", x + w // 2, y + h // 2)
    time.sleep(0.15)
    xdotool("click", 3)
    time.sleep(0.3)


def test_the_panels_switches_and_a_click_on_a_notice(dunst_bus, tmp_path):
    """The toolbar's Do not disturb and the roster's Mute, clicked; the command line sees both.
    A notice for an unmuted agent, clicked, selects that agent and says what bringing it did."""
    from probed_panel import ProbedPanel, click, roster_file, shot

    home = tmp_path / "home"
    home.mkdir()
    roster = roster_file(home, [{"id": f"Agent-{n}", "transport": "dryrun"} for n in (1, 2)])
    with ProbedPanel(home, [notify_state], ["--roster", str(roster)]) as panel:
        state = panel.ready(lambda s: len(s["tiles"]) == 2 and s["dnd"][2] > 0, "the panel with its toolbar")
        env = {"QUARTERDECK_CONFIG_DIR": str(home / "config")}
        click(state["dnd"])
        panel.wait(lambda s: s["dnd_on"], "Do not disturb on")
        assert notify_cli("dnd", env=env) == "do not disturb: on\n"
        click(state["dnd"])
        panel.wait(lambda s: not s["dnd_on"], "Do not disturb off")
        notify_cli("dnd", "on", env=env)  # and from the command line: the button follows
        panel.wait(lambda s: s["dnd_on"], "the button showing the command line's change")
        notify_cli("dnd", "off", env=env)
        panel.wait(lambda s: not s["dnd_on"], "the button off again")

        right_click(state["tiles"]["Agent-2"])
        menu = panel.wait(lambda s: s["mute"] is not None, "the context menu with Mute")
        assert menu["mute_checked"] is False and menu["selected"] == "Agent-2"
        shots = shots_folder("QD_NOTIFY_SHOTS", tmp_path)
        menu_shot = shots / "notify-mute-menu.png"
        subprocess.run(["import", "-window", "root", str(menu_shot)], check=True, timeout=30)
        x, y, w, h = menu["mute"]
        assert len(np.unique(screen_pixels(menu_shot)[y:y + h, x:x + w])) >= 4  # the entry's text is drawn
        click(menu["mute"])
        panel.wait(lambda s: s["muted"] == ["Agent-2"], "Agent-2 muted")
        assert json.loads(notify_cli("status", "--json", env=env))["muted"] == ["Agent-2"]
        right_click(state["tiles"]["Agent-2"])
        assert panel.wait(lambda s: s["mute"] is not None, "the menu again")["mute_checked"] is True
        xdotool("key", "Escape")

        data = panel.data_dir
        permission(data, "Agent-2", "Claude needs your permission to use Bash(ls)")  # muted: held
        permission(data, "Agent-1", "Claude needs your permission to use Bash(make)")
        panel.wait(lambda s: s["shown"] == 1, "one notice, for Agent-1")
        wait_until(lambda: dunst_bus.displayed() == 1, "dunst showing Agent-1's notice")
        shot(shots / "notify-panel.png", {"the notice": dunst_rect(), "Do not disturb": menu["dnd"]})
        click(dunst_rect())
        done = panel.wait(lambda s: s["selected"] == "Agent-1" and "Agent-1" in s["status"],
                          "Agent-1 selected and the status saying what bringing it did")
        assert done["status"] == "Agent-1 is reached through a dry run: it has no window or pane to bring forward"
        wait_until(lambda: dunst_bus.displayed() == 0, "the clicked notice gone")
