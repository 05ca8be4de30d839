"""The panel's capture on a real display: the roster dialog's Capture binds the agent to the real
xterm window under the pointer (the pointer read from Qt is swapped for the X pointer's position)."""
from __future__ import annotations

import subprocess

import pytest
from xterm_desk import move_pointer

from quarterdeck.core.models import Agent, GuiTransport, WindowMatch
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.transports.gui.windows import find
from quarterdeck.gui.roster import capture
from quarterdeck.gui.roster.agent_dialog import AgentDialog
from quarterdeck.gui.roster.targets import target_text


def x_pointer() -> tuple[int, int]:
    out = subprocess.run(["xdotool", "getmouselocation", "--shell"], capture_output=True, text=True,
                         check=True, timeout=10).stdout
    pairs = dict(line.split("=", 1) for line in out.split())
    return int(pairs["X"]), int(pairs["Y"])


@pytest.mark.x11
def test_dialog_capture_binds_the_agent_to_the_real_window_under_the_pointer(qtbot, xterms, monkeypatch):
    term, = xterms(1)
    monkeypatch.setattr(capture, "pointer_position", x_pointer)
    roster = Roster((Agent(id="Agent-1", transport=GuiTransport(chat=(1, 1))),))
    dialog = AgentDialog(roster, roster.get("Agent-1"), capture_seconds=1)
    qtbot.addWidget(dialog)
    rect = find(WindowMatch(title=term.name)).rect  # the client area, without the window manager's frame
    point = (rect[0] + 30, rect[1] + rect[3] - 20)
    move_pointer(*point)
    with qtbot.waitSignal(dialog.capture.sig_located, timeout=4000) as located:
        dialog.capture_buttons["chat"].click()
    assert located.args[0].placement is not None, located.args[0].why
    assert dialog.status_label.text() == (f"Chat point captured in XTerm '{term.name}' · 30, -20 from its "
                                          "bottom-left corner (follows the window).")
    agent = dialog.check()
    window = agent.transport.window
    assert agent.transport.chat == point and window.class_ == "XTerm" and window.title == term.name
    assert window.pid == term.proc.pid and window.id
    assert target_text(agent) == f"XTerm '{term.name}' · bottom-left +30,-20"
    move_pointer(2, 2)  # the bare desktop: only the screen point is kept, and the dialog says so
    with qtbot.waitSignal(dialog.capture.sig_located, timeout=4000):
        dialog.capture_buttons["chat"].click()
    assert "as a screen point only: no application window under the pointer" in dialog.status_label.text()
    assert dialog.check().transport.chat_in_window is None
