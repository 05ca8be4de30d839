"""The composer driven as a person drives it, on a real display with the real pointer and keys
(xdotool): a blocked message gives visible feedback at once; a broadcast to two tmux panes and
two inbox folders (one of them unreachable) asks first, naming the unreachable one, then its
chips go live under the message box and end with the red outcome line.

The panel runs as its own process (``quarterdeck gui --roster``); a small probe inside it writes
the composer's state to a JSON file the test reads. ``QD_COMPOSER_SHOTS`` names a folder for
screenshots of the broadcast in progress and finished (default: the test's temporary folder).
"""
from __future__ import annotations

import os
import time
from contextlib import closing
from pathlib import Path

import pytest
from probed_panel import (
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
    type_text,
    xdotool,
)
from test_send_e2e import PrivateTmux
from xterm_desk import wait_until

pytestmark = [pytest.mark.x11, needs("xdotool", "tmux")]

TOKEN = "ghp_aJer8GFWcNzTFM2aCVpCUGMjVCy9y1kPAr82"


def tip_point(editor, index):
    """(In the panel's process.) Where on the screen the pointer hovers the character ``index``."""
    from PySide6.QtGui import QTextCursor

    if len(editor.toPlainText()) <= index:
        return None
    cursor = QTextCursor(editor.document())
    cursor.setPosition(index)
    middle = editor.viewport().mapToGlobal(editor.cursorRect(cursor).center())
    return [middle.x() + 3, middle.y()]


def composer_state(app, window):
    """(In the panel's process.) The composer: its text, checks, notice, chips, confirmation, focus."""
    from PySide6.QtWidgets import QMessageBox, QScrollArea, QToolTip

    composer = window.panels["composer"]
    confirm = next((w for w in app.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()), None)
    return {
        "agents": window.ctx.roster.ids(), "window": glob(window),
        # the composer fits its dock: no sideways scrolling (at 1366x768 too)
        "sideways": window.findChild(QScrollArea, "scroll-composer").horizontalScrollBar().isVisible(),
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


def shot_of(name: str, folder: Path, state: dict, *parts: str) -> Path:
    """The screen, with the message box, the checks and ``parts`` of ``state`` drawn. The window
    is named too, so the desktop's colour is read off the desktop, not off the panels around the
    composer (a white history table outweighs the desktop at 1920x1080)."""
    showing = {part: state[part] for part in ("window", "editor", "checks_rect", *parts)}
    return shot(folder / f"composer-{name}-{screen_size()}.png", showing)


@pytest.fixture
def desk(tmp_path):
    with closing(PrivateTmux()) as tmux:
        panes = {f"Tmux-{n}": tmux.cat_pane(tmp_path / f"tmux-{n}.txt") for n in (1, 2)}
        (tmp_path / "inbox-1").mkdir()
        (tmp_path / "inbox-2").write_text("not a folder")  # a target that is missing
        agents = [{"id": agent_id, "transport": "tmux", "target": target} for agent_id, target in panes.items()]
        agents += [{"id": f"Inbox-{n}", "transport": "inbox", "path": str(tmp_path / f"inbox-{n}")} for n in (1, 2)]
        roster = roster_file(tmp_path, agents)
        with ProbedPanel(tmp_path / "home", [composer_state, tip_point], ["--roster", str(roster)],
                         env={**os.environ, **tmux.env}) as panel:
            panel.ready(lambda s: len(s.get("agents", [])) == 4, "the panel with its roster")
            yield panel, tmp_path


def test_blocked_feedback_then_a_live_broadcast_to_tmux_and_inbox_agents(desk):
    panel, folder = desk
    shots = shots_folder("QD_COMPOSER_SHOTS", folder)
    click(panel.state()["editor"])
    panel.wait(lambda s: s["editor_focus"], "the message box focused by the click")
    type_text(f"Push with {TOKEN} please")
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
    shot_of("blocked", shots, state)
    assert state["confirm"] is None

    key("ctrl+a")
    type_text("Rebase on main and rerun the tests.")
    panel.wait(lambda s: s["text"] == "Rebase on main and rerun the tests." and s["score"] == "100 · PASS",
               "the clean text checked")
    key("ctrl+shift+Return")
    state = panel.wait(lambda s: s["confirm"] is not None, "the broadcast confirmation")
    assert "Inbox-2: inbox " in state["confirm"] and "exists but is not a folder" in state["confirm"]
    assert "3/4 reachable" in state["confirm"]
    shot_of("confirm", shots, state)
    key("alt+a")  # Send to all: Inbox-2 will fail
    state = panel.wait(lambda s: len(s["chips"]) == 4, "the chips of the broadcast", timeout=20)
    assert state["chips_visible"] and state["chips_rect"][1] < state["checks_rect"][1]
    assert state["chips_rect"][1] >= state["editor"][1] + state["editor"][3]  # right under the message box
    if state["bad"] is None:
        shot_of("in-progress", shots, state, "chips_rect")
    state = panel.wait(lambda s: s["bad"] is not None, "the outcome line", timeout=60)
    assert state["outcome"] == "3/4 submitted · 1 failed" and state["bad"] is True
    assert sorted(state["chips"]) == ["Inbox-1 · submitted ✓", "Inbox-2 · failed ✗", "Tmux-1 · submitted ✓",
                                      "Tmux-2 · submitted ✓"]
    assert "Queued for" not in state["notice"]
    shot_of("finished", shots, state, "chips_rect", "table")
    assert not state["sideways"]
    table = state["table"]  # Tab is not trapped in the progress table
    click([table[0], table[1] + 30, table[2], 20])
    panel.wait(lambda s: s["focus"] == "composer-progress", "the progress table focused by the click")
    key("Tab")
    state = panel.wait(lambda s: s["focus"] != "composer-progress", "Tab out of the progress table")
    for n in (1, 2):
        out = folder / f"tmux-{n}.txt"
        wait_until(lambda o=out: b"Rebase on main" in o.read_bytes(), f"Tmux-{n}'s text")
    assert len(list((folder / "inbox-1").glob("*.md"))) == 1


def test_the_same_on_a_1366x768_screen():
    """The test above on a small laptop screen: there the composer's options outgrew its dock once."""
    rerun_on_small_screen(__file__, "test_blocked_feedback_then_a_live_broadcast_to_tmux_and_inbox_agents")
