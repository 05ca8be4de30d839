"""'Wait until the agent is idle', driven as a person drives it on a real display (xdotool): the
captain ticks the box, types a time to live and a message, and broadcasts to a tmux agent whose
hooks say it is working. The chip says it waits and why, the pane gets nothing; once the agent's
Stop hook is recorded the message arrives in the pane and the chip says submitted.

``QD_COMPOSER_SHOTS`` names a folder for the screenshots (default: the test's temporary folder).
"""
from __future__ import annotations

import os
import time
from contextlib import closing

import pytest
from probed_panel import ProbedPanel, centre, click, glob, key, needs, roster_file, shot, shots_folder, type_text
from test_send_e2e import PrivateTmux

from quarterdeck.core.activity.events import CLAUDE_CODE, PROMPT_SUBMITTED, TURN_ENDED, ActivityEvent
from quarterdeck.core.activity.record import record

pytestmark = [pytest.mark.x11, needs("xdotool", "tmux")]

TEXT = "When your turn is over: rebase on main."


def when_idle_state(app, window):
    """(In the panel's process.) The composer's when-idle box, text, chips and notice."""
    composer = window.panels["composer"]
    box = composer.when_idle
    return {
        "agents": window.ctx.roster.ids(),
        "check": centre(box.check), "checked": box.check.isChecked(), "ttl": centre(box.ttl),
        "ttl_text": box.ttl.currentText(), "ttl_enabled": box.ttl.isEnabled(), "box": glob(box),
        "editor": glob(composer.editor), "editor_focus": composer.editor.hasFocus(),
        "text": composer.editor.toPlainText(), "notice": composer.notice.text(),
        "chips": composer.chips.texts(), "chips_rect": glob(composer.chips),
        "rows": [row.text() for row in composer.progress.progress.rows],
        "outcome": composer.chips.outcome.text(), "window": glob(window),
        "queue": window.queue_label.text(),
    }


def test_a_broadcast_that_waits_for_a_working_agent_arrives_once_it_is_idle(tmp_path):
    shots = shots_folder("QD_COMPOSER_SHOTS", tmp_path)
    out = tmp_path / "tmux-1.txt"
    data = tmp_path / "home" / "data"

    def hook(kind: str) -> None:
        name = {PROMPT_SUBMITTED: "UserPromptSubmit", TURN_ENDED: "Stop"}[kind]
        record(data, ActivityEvent(agent_id="Tmux-1", source=CLAUDE_CODE, kind=kind, name=name, at=time.time()))

    with closing(PrivateTmux()) as tmux:
        roster = roster_file(tmp_path, [{"id": "Tmux-1", "transport": "tmux", "target": tmux.cat_pane(out)}])
        hook(PROMPT_SUBMITTED)  # the agent is mid-turn before the panel starts
        with ProbedPanel(tmp_path / "home", [when_idle_state], ["--roster", str(roster)],
                         env={**os.environ, **tmux.env}) as panel:
            state = panel.ready(lambda s: s.get("agents") == ["Tmux-1"], "the panel with its roster")
            assert not state["checked"] and not state["ttl_enabled"] and state["ttl_text"] == "30m"
            click(state["check"])
            state = panel.wait(lambda s: s["checked"] and s["ttl_enabled"], "the box ticked by the click")
            click(state["ttl"])
            key("ctrl+a")
            type_text("10m")
            panel.wait(lambda s: s["ttl_text"] == "10m", "the time to live typed")
            click(state["editor"])
            panel.wait(lambda s: s["editor_focus"], "the message box focused")
            type_text(TEXT)
            panel.wait(lambda s: s["text"] == TEXT, "the message typed")
            key("ctrl+shift+Return")  # one agent: the broadcast goes without asking
            state = panel.wait(lambda s: s["chips"] == ["Tmux-1 · waiting"], "the chip saying it waits", timeout=20)
            state = panel.wait(lambda s: "1 waiting for idle" in s["queue"], "the status bar counting it")
            assert state["rows"] == ["waiting: Tmux-1 is working (a prompt was submitted)"]
            shot(shots / "composer-when-idle-waiting.png",
                 {"window": state["window"], "box": state["box"], "chips": state["chips_rect"]})
            time.sleep(1.0)
            assert out.read_text() == "", "a message was typed into a working agent"

            hook(TURN_ENDED)
            state = panel.wait(lambda s: s["chips"] == ["Tmux-1 · submitted ✓"], "the chip after the Stop hook",
                               timeout=30)
            assert state["outcome"] == "1/1 submitted"
            shot(shots / "composer-when-idle-arrived.png", {"window": state["window"], "chips": state["chips_rect"]})
    assert TEXT in out.read_text()
