"""Screen detection and pointer capture on a real X display (scripts/with-xvfb.sh: 1920x1080)."""
from __future__ import annotations

import argparse

import pytest

from quarterdeck.cli import agents_cmd, roster_args
from quarterdeck.core.desktop.screens import ScreenRect, detect_screens
from quarterdeck.core.roster.problems import RosterError
from quarterdeck.core.roster.roster import load_roster

pytestmark = pytest.mark.x11


def test_detect_screens_reports_the_xvfb_monitor():
    screens = detect_screens()
    assert [(s.x, s.y, s.width, s.height) for s in screens] == [(0, 0, 1920, 1080)]
    assert str(screens[0]) == "1920x1080+0+0"


def test_detect_screens_on_an_unreachable_display_is_empty():
    assert detect_screens(":4095") == []


def test_roster_points_are_checked_against_the_detected_screen(tmp_path):
    path = tmp_path / "agents.yaml"
    path.write_text("agents:\n  - {id: Agent-1, transport: gui, chat: [1919, 1079]}\n"
                    "  - {id: Agent-2, transport: gui, chat: [2500, 300]}\n", encoding="utf-8")
    with pytest.raises(RosterError) as caught:
        load_roster(path)
    assert str(caught.value) == (f"{path}:3:41: error: Agent-2.chat: point (2500, 300) is on no screen "
                                 "(screens: 1920x1080+0+0)")
    path.write_text("agents:\n  - {id: Agent-1, transport: gui, chat: [1919, 1079]}\n", encoding="utf-8")
    assert load_roster(path).warnings == ()


def test_capture_cli_stores_the_real_pointer_position(tmp_path, capsys):
    pyautogui = roster_args.pointer_module()
    path = tmp_path / "agents.yaml"
    path.write_text("agents:\n  - {id: Agent-1, transport: gui, chat: [10, 10]}  # left pane\n"
                    "  - {id: Agent-2, transport: gui, chat: [20, 20]}\n", encoding="utf-8")
    pyautogui.moveTo(777, 555)
    parser = argparse.ArgumentParser(prog="quarterdeck")
    agents_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["agents", "capture", "Agent-2", "--countdown", "0", "--roster", str(path)])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert f"Agent-2.chat: (20, 20) -> (777, 555)  (saved to {path})" in out
    roster = load_roster(path, screens=[ScreenRect(0, 0, 1920, 1080)])
    assert roster.get("Agent-2").transport.chat == (777, 555)
    assert roster.get("Agent-1").transport.chat == (10, 10)
    assert "# left pane" in path.read_text(encoding="utf-8")
    assert len(list(tmp_path.glob("agents.yaml.bak-*"))) == 1
