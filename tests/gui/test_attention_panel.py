"""The Attention panel: who waits for the captain (longest first, the stuck ones dimmer below), its
count on the toolbar, the dock and the View menu, its shortcut, and Enter going to the agent."""
from __future__ import annotations

import time
from datetime import UTC, datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest

from quarterdeck.core.activity.events import (
    NEEDS_YOU,
    PROMPT_SUBMITTED,
    SEEN_RATE_LIMITED,
    TMUX_WATCH,
    TURN_ENDED,
    ActivityEvent,
)
from quarterdeck.core.activity.record import record
from quarterdeck.core.activity.tracks import reduce
from quarterdeck.core.models import Agent, DryRunTransport
from quarterdeck.core.roster.roster import Roster
from quarterdeck.gui.activity.panel import DIM, MESSAGE, WAITING, WAITS, AttentionPanel, attention_rows
from quarterdeck.gui.app import load_panels
from quarterdeck.gui.mainwindow import MainWindow

IDS = tuple(f"Agent-{n}" for n in range(1, 7))


def roster() -> Roster:
    return Roster(tuple(Agent(id=i, transport=DryRunTransport()) for i in IDS))


def hook(agent: str, kind: str, name: str, at: float, **fields) -> ActivityEvent:
    return ActivityEvent(agent_id=agent, source="claude-code", kind=kind, name=name, at=at, **fields)


def fleet_events(now: float) -> list[ActivityEvent]:
    """Agent-4 waits longest, then Agent-2; Agent-6 is rate-limited (2 min), Agent-5 stalled
    (working, silent 11 min: stalled for 1 min); Agent-1 works, Agent-3 is idle; Ghost is not on
    the roster."""
    resets = datetime.fromtimestamp(now + 1800, UTC).isoformat()
    return [hook("Agent-1", PROMPT_SUBMITTED, "UserPromptSubmit", now - 30),
            hook("Agent-2", NEEDS_YOU, "Notification", now - 60, waits_for="question", text="Which port?"),
            hook("Agent-3", TURN_ENDED, "Stop", now - 10),
            hook("Agent-4", NEEDS_YOU, "PermissionRequest", now - 300, waits_for="permission", detail="Bash",
                 text="Allow rm -rf build/?"),
            hook("Agent-5", PROMPT_SUBMITTED, "UserPromptSubmit", now - 660),
            ActivityEvent("Agent-6", TMUX_WATCH, SEEN_RATE_LIMITED, "usage limit in pane", now - 120, detail=resets,
                          text="5-hour limit reached"),
            hook("Ghost", NEEDS_YOU, "Notification", now - 900, waits_for="permission")]


def test_needs_you_first_longest_waiting_first_then_the_stuck_ones():
    now = time.time()
    rows = attention_rows(reduce(fleet_events(now), IDS, now=now), list(IDS))
    assert [(group, a.agent_id, a.state) for group, a in rows] == [
        ("needs", "Agent-4", "needs-you"), ("needs", "Agent-2", "needs-you"),
        ("stuck", "Agent-6", "rate-limited"), ("stuck", "Agent-5", "stalled")]  # limited 2 min, stalled 1 min


def test_the_panel_lists_them_with_what_they_wait_for_and_counts_on_the_toolbar(make_ctx, qtbot):
    ctx = make_ctx(roster=roster())
    window = MainWindow(ctx, load_panels())
    qtbot.addWidget(window)
    window.resize(1366, 740)
    window.show()
    panel = window.panels["attention"]
    assert isinstance(panel, AttentionPanel) and list(window.panels)[-1] == "attention"
    assert window.navigator.show_actions["attention"].shortcuts()[-1] == QKeySequence("Ctrl+Shift+A")
    assert window.attention_action.text() == "Attention" and panel.empty.isVisibleTo(panel)
    now = time.time()
    for event in fleet_events(now):
        record(ctx.store.path.parent, event)
    qtbot.waitUntil(lambda: len(panel.listed()) == 4, timeout=3000)
    assert panel.listed() == [("needs", "Agent-4"), ("needs", "Agent-2"), ("stuck", "Agent-6"), ("stuck", "Agent-5")]
    first = panel.groups["needs"].child(0)
    assert [first.text(c) for c in (WAITS, MESSAGE)] == ["permission (Bash)", "“Allow rm -rf build/?”"]
    assert first.text(WAITING) in ("5 min", "4 min")
    assert first.toolTip(0).startswith("it waits for permission (Bash) · PermissionRequest hook")
    stuck = panel.groups["stuck"]
    assert stuck.child(1).foreground(0).color() == DIM and stuck.child(0).text(WAITS).startswith(
        "its rate limit to reset (")
    assert stuck.child(0).text(MESSAGE) == "“5-hour limit reached”"
    assert panel.count == 2 and not panel.empty.isVisibleTo(panel)
    assert window.attention_action.text() == "Attention · 2"
    assert window.docks["attention"].windowTitle() == "Attention (2)"
    assert window.navigator.show_actions["attention"].text() == "Attention (2)"
    # answered: Agent-4 gets to work; the count follows
    record(ctx.store.path.parent, hook("Agent-4", PROMPT_SUBMITTED, "UserPromptSubmit", time.time()))
    qtbot.waitUntil(lambda: window.attention_action.text() == "Attention · 1", timeout=3000)
    assert panel.listed()[0] == ("needs", "Agent-2")


def test_the_shortcut_opens_the_panel_and_enter_goes_to_the_agent(make_ctx, qtbot):
    ctx = make_ctx(roster=roster())
    window = MainWindow(ctx, load_panels())
    qtbot.addWidget(window)
    window.resize(1366, 740)
    window.show()
    qtbot.waitExposed(window)
    panel = window.panels["attention"]
    record(ctx.store.path.parent, hook("Agent-2", NEEDS_YOU, "Notification", time.time(), waits_for="question"))
    qtbot.waitUntil(lambda: panel.listed() == [("needs", "Agent-2")], timeout=3000)
    window.activateWindow()
    QTest.keyClick(window, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: panel.tree.hasFocus())
    assert panel.selected_id() == "Agent-2" and panel.go_button.isEnabled()
    said: list[str] = []
    ctx.sig_status.connect(said.append)
    QTest.keyClick(panel.tree, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "no window or pane" in panel.status.text(), timeout=3000)
    assert panel.status.text() == "Agent-2 is reached through a dry run: it has no window or pane to bring forward"
    assert said[-1] == panel.status.text() and not panel.attach.isVisibleTo(panel)


def test_the_attach_command_is_shown_and_copied(make_ctx, qtbot):
    from PySide6.QtGui import QGuiApplication

    ctx = make_ctx(roster=roster())
    panel = AttentionPanel(ctx)
    qtbot.addWidget(panel)
    panel.show()
    assert not panel.attach.isVisibleTo(panel) and panel.status.text().startswith("Enter or Go to agent")
    panel.foot.show_attach("tmux attach -t swarm")
    assert panel.attach.isVisibleTo(panel) and panel.foot.copy_button.isVisibleTo(panel)
    qtbot.mouseClick(panel.foot.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "tmux attach -t swarm"
    assert panel.status.text() == "Copied: tmux attach -t swarm"
