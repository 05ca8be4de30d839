"""Capture binds the agent to the window under the pointer; the Targets overlay and the Target
column show window-bound agents by their window (no X needed: the window lookups are stand-ins)."""
from __future__ import annotations

import os

from msgspec.structs import replace
from PySide6.QtCore import QPoint, Qt

from quarterdeck.core.desktop.window_match import Window
from quarterdeck.core.models import Agent, GuiTransport, WindowMatch, WindowPoint
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.roster.status import AgentLive
from quarterdeck.core.transports.gui.windows import Placement, Preview
from quarterdeck.gui.roster import capture
from quarterdeck.gui.roster.agent_dialog import AgentDialog
from quarterdeck.gui.roster.model import TARGET, RosterModel
from quarterdeck.gui.roster.overlay import FRAME_COLOUR, MARK_COLOURS, PROBLEM_COLOUR, TargetOverlay
from quarterdeck.gui.roster.targets import target_text, targets_of

CHAT = Window(0x80000C, ("chromium-browser", "Chromium"), "chat-Agent-1", 4242, 100, 200, 600, 400)
BOUND = GuiTransport(chat=(620, 530), window=WindowMatch(class_="Chromium", title="api-service", id=0x80000C),
                     chat_in_window=WindowPoint(anchor="bottom-left", offset=(520, -70)))


def roster() -> Roster:
    return Roster((Agent(id="Agent-1", transport=GuiTransport(chat=(420, 980))),))


def capture_in(dialog: AgentDialog, qtbot, which: str = "chat") -> None:
    with qtbot.waitSignal(dialog.capture.sig_located, timeout=3000):
        dialog.capture_buttons[which].click()


def test_dialog_capture_binds_the_agent_to_the_window_under_the_pointer(qtbot, monkeypatch):
    monkeypatch.setattr(capture, "pointer_position", lambda: (620, 530))
    looked: list[tuple[int, int]] = []
    monkeypatch.setattr(capture, "window_under", lambda p: looked.append(p) or capture.Captured(
        p, Placement(CHAT, WindowPoint(anchor="bottom-left", offset=(520, -70)))))
    dialog = AgentDialog(roster(), roster().get("Agent-1"), capture_seconds=1)
    qtbot.addWidget(dialog)
    capture_in(dialog, qtbot)
    assert looked == [(620, 530)] and dialog.fields["chat"].text() == "620, 530"
    assert dialog.status_label.text() == ("Chat point captured in Chromium 'chat-Agent-1' · 520, -70 from its "
                                          "bottom-left corner (follows the window).")
    assert "Chromium 'chat-Agent-1' · bottom-left +520,-70" in dialog.window_label.text()
    with qtbot.waitSignal(dialog.sig_agent_submitted) as submitted:
        dialog.submit()
    transport = submitted.args[0].transport
    assert transport.chat == (620, 530)
    assert transport.window == WindowMatch(class_="Chromium", title="chat-Agent-1", pid=4242, id=0x80000C)
    assert transport.chat_in_window == WindowPoint(anchor="bottom-left", offset=(520, -70))


def test_a_point_typed_after_the_capture_is_a_screen_point_again(qtbot, monkeypatch):
    monkeypatch.setattr(capture, "pointer_position", lambda: (620, 530))
    monkeypatch.setattr(capture, "window_under", lambda p: capture.Captured(
        p, Placement(CHAT, WindowPoint(anchor="bottom-left", offset=(520, -70)))))
    dialog = AgentDialog(roster(), None, capture_seconds=1)
    qtbot.addWidget(dialog)
    dialog.fields["id"].setText("Agent-9")
    capture_in(dialog, qtbot)
    dialog.fields["chat"].setText("10, 20")
    agent = dialog.check()
    assert agent.transport.window is None and agent.transport.chat == (10, 20)


def test_without_a_window_under_the_pointer_only_the_screen_point_is_kept_and_said(qtbot, monkeypatch):
    monkeypatch.setattr(capture, "pointer_position", lambda: (5, 7))
    from quarterdeck.core.transports.gui import windows

    monkeypatch.setattr(windows, "placement_at", lambda p: None)
    dialog = AgentDialog(roster(), roster().get("Agent-1"), capture_seconds=1)
    qtbot.addWidget(dialog)
    capture_in(dialog, qtbot)
    assert dialog.status_label.text().startswith("Chat point captured at 5, 7 as a screen point only: no "
                                                 "application window under the pointer")
    agent = dialog.check()
    assert agent.transport.chat == (5, 7) and agent.transport.window is None
    assert dialog.window_label.text().startswith("Window: none")


def test_lookup_failures_are_reasons_not_exceptions(monkeypatch):
    from quarterdeck.core.transports.gui import windows

    def broken(_point):
        raise windows.WindowsUnavailable("no X display (DISPLAY is not set)")

    monkeypatch.setattr(windows, "placement_at", broken)
    seen = capture.window_under((1, 2))
    assert seen.placement is None and "no X display" in seen.why
    monkeypatch.setattr(windows, "placement_at", lambda p: Placement(
        Window(7, ("q", "Quarterdeck"), "Quarterdeck", os.getpid(), 0, 0, 50, 50),
        WindowPoint(anchor="top-left", offset=(1, 2))))
    assert "Quarterdeck itself" in capture.window_under((1, 2)).why


def test_target_column_names_the_window_and_the_corner(qapp):
    agent = Agent(id="Agent-1", transport=BOUND)
    assert target_text(agent) == "Chromium 'api-service' · bottom-left +520,-70"
    unplaced = Agent(id="Agent-2", transport=GuiTransport(chat=(420, 980), window=WindowMatch(class_="Cursor")))
    assert target_text(unplaced) == "Cursor · screen 420, 980"
    model = RosterModel(Roster((agent, unplaced)), lambda _id: AgentLive(), lambda _id: {})
    assert model.index(0, TARGET).data() == "Chromium 'api-service' · bottom-left +520,-70"
    assert "follows the window" in model.index(0, TARGET).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(1, TARGET).data() == "Cursor · screen 420, 980"


def test_overlay_outlines_the_window_and_marks_the_point_computed_from_it(qapp, qtbot, monkeypatch):
    moved = Window(CHAT.id, CHAT.wm_class, CHAT.title, CHAT.pid, 150, 100, 600, 400)  # on the 800x800 screen
    looks = {"Agent-1": Preview((670, 430), moved),
             "Agent-2": Preview((420, 300), None, "Agent-2's window is not open", covered=False)}
    monkeypatch.setattr("quarterdeck.gui.roster.targets._look", lambda _t, _w, agent: looks[agent])
    bound = Roster((Agent(id="Agent-1", transport=BOUND), Agent(id="Agent-2", transport=replace(
        BOUND, chat=(420, 300)))))
    assert [(t.agent_id, t.point, t.frame, t.problem) for t in targets_of(bound)] == [
        ("Agent-1", (670, 430), (150, 100, 600, 400), ""),
        ("Agent-2", (420, 300), None, "Agent-2's window is not open")]
    overlay = TargetOverlay()
    overlay.show_targets(bound)
    window = overlay.windows[0]
    try:
        assert [(t.agent_id, (r.x(), r.y(), r.width(), r.height())) for t, r in window.frames] == [
            ("Agent-1", (150, 100, 600, 400))]
        shape = window.shape_region()
        assert shape.contains(QPoint(150, 250)) and not shape.contains(QPoint(400, 250))  # outline only
        image = window.grab().toImage()
        assert FRAME_COLOUR in [image.pixelColor(149, y) for y in range(240, 260)]  # the dashed outline
        assert image.pixelColor(670 + 15, 430) == MARK_COLOURS["chat"]  # the crosshair at the computed point
        assert image.pixelColor(420 + 15, 300) == PROBLEM_COLOUR  # a refused target is red
        assert overlay._refresh.isActive()  # window-bound targets follow their windows
        looks["Agent-2"] = Preview((420, 300), None, "Agent-2's window is covered", covered=True)
        with qtbot.waitSignal(overlay.sig_targets_read):  # read off the UI thread, then shown
            overlay._on_refresh_timeout()
        assert [t.problem for t in overlay._targets][1] == "Agent-2's window is covered"
    finally:
        overlay.hide_targets()
