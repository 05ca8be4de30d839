"""The demo swarm on a real display: its roster leads GUI delivery (click, Ctrl+V, Enter through
the X server) into each simulated chat window, and every message arrives exactly once, intact."""
from __future__ import annotations

import os
import shutil
import subprocess
import threading

import pytest
from xterm_desk import clipboard_bytes, user_copies, wait_until

from quarterdeck.core.delivery.contract import DeliveryRequest
from quarterdeck.core.roster.roster import load_roster
from quarterdeck.core.transports.gui.guard import PointerGuard
from quarterdeck.core.transports.gui.transport import GuiDelivery
from quarterdeck.gui.demo import DemoSwarm
from quarterdeck.gui.demo.transcript import Entry

MESSAGE = (
    "[C2A] Captain → {agent} | é ß — 你好 🚀\n"
    "run: echo \"$HOME\" && rm -rf * ; `id` | tee 'out' > /dev/null\n"
    "\ttabbed line with 100% {{braces}} [brackets] (parens) <angles> &amp; \\backslash ~tilde #hash\n"
    "\n"
    "last line after a blank one"
)


@pytest.fixture
def swarm(tmp_path, empty_clipboard):
    """Three demo agents on the display (not offscreen: the test session's platform is dropped)."""
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    demo = DemoSwarm.start(3, tmp_path / "demo", env=env)
    try:
        roster = load_roster(demo.wait_ready(30))
        yield demo, roster
    finally:
        demo.close()


def screen_width() -> int:
    out = subprocess.run(["xdpyinfo"], capture_output=True, text=True, check=True, timeout=10).stdout
    return int(out.split("dimensions:", 1)[1].split("x", 1)[0])


def deliver(agent, text: str, guard: PointerGuard, **fields) -> None:
    GuiDelivery(agent.transport, guard=guard).deliver(
        DeliveryRequest(agent_id=agent.id, text=text, **fields), threading.Event())


MARK = "marker: nothing after this"


def received(demo: DemoSwarm, agent, count: int) -> list[Entry]:
    """``agent``'s records once ``count`` messages are in, and nothing more: a marker delivered
    after them arrives after anything they sent (a duplicate submission would land before it)."""
    wait_until(lambda: len(demo.messages(agent.id)) >= count, f"{count} message(s) for {agent.id}")
    deliver(agent, MARK, PointerGuard())
    entries = wait_until(lambda: (e := demo.entries(agent.id)) and e[-1].text == MARK and e,
                         f"the marker after {agent.id}'s messages")
    return entries[:-1]


def texts(entries: list[Entry]) -> list[str]:
    return [entry.text for entry in entries if entry.kind == "message"]


@pytest.mark.x11
def test_roster_points_are_on_screen_and_lead_to_each_window(swarm):
    _demo, roster = swarm
    assert roster.ids() == ["Agent-1", "Agent-2", "Agent-3"]
    assert roster.warnings == ()  # the points were checked against the real screens
    points = [agent.transport.chat for agent in roster.agents]
    width = screen_width()
    assert len(set(points)) == 3 and all(width // 2 <= x < width for x, _ in points)  # beside the panel
    for agent in roster.agents:
        assert GuiDelivery(agent.transport).check() is None


@pytest.mark.x11
def test_every_agent_receives_the_multiline_unicode_message_byte_for_byte_once(swarm):
    demo, roster = swarm
    user_copies("the user's draft ✓".encode())
    guard = PointerGuard()
    for agent in roster.agents:
        deliver(agent, MESSAGE.format(agent=agent.id), guard)
    for agent in roster.agents:
        expected = MESSAGE.format(agent=agent.id)
        assert texts(received(demo, agent, 1)) == [expected]
        raw = demo.transcript(agent.id).encode("utf-8")
        before_mark = raw[:raw.rindex(b"--- message ")]
        assert before_mark.endswith(b" \xc2\xb7 normal ---\n" + expected.encode("utf-8") + b"\n")
        assert before_mark.count(b"--- message ") == 1
    assert clipboard_bytes() == "the user's draft ✓".encode()


@pytest.mark.x11
def test_urgent_back_to_back_and_onboarding_deliveries(swarm):
    demo, roster = swarm
    first, second, _ = roster.agents
    guard = PointerGuard()
    deliver(first, "urgent one", guard, priority="urgent")
    deliver(first, "then normal\nwith two lines", guard)
    deliver(second, "fresh start", guard, onboarding=True)
    records = received(demo, first, 2)
    assert texts(records) == ["urgent one", "then normal\nwith two lines"]
    assert [e.urgent for e in records] == [True, False]
    assert [(e.kind, e.text) for e in received(demo, second, 1)] == [("new chat", ""), ("message", "fresh start")]


@pytest.mark.x11
@pytest.mark.skipif(shutil.which("xdotool") is None, reason="missing tools: xdotool")
def test_a_window_moved_by_the_user_gets_its_new_point_in_the_roster(swarm):
    demo, roster = swarm
    old = roster.get("Agent-3").transport.chat
    found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^Agent-3 · demo agent$"],
                           capture_output=True, text=True, check=True, timeout=10)
    subprocess.run(["xdotool", "windowmove", found.stdout.split()[0], "100", "120"], check=True, timeout=10)
    moved = wait_until(lambda: _moved_point(demo, old), "the roster to follow the moved window")
    assert moved[0] < 960
    moved_agent = load_roster(demo.roster_path).get("Agent-3")
    deliver(moved_agent, "at the new place", PointerGuard())
    assert texts(received(demo, moved_agent, 1)) == ["at the new place"]


def _moved_point(demo: DemoSwarm, old: tuple[int, int]) -> tuple[int, int] | None:
    try:
        point = load_roster(demo.roster_path).get("Agent-3").transport.chat
    except FileNotFoundError:
        return None
    return point if point != old else None


@pytest.mark.x11
@pytest.mark.skipif(shutil.which("xdotool") is None, reason="missing tools: xdotool")
def test_the_chat_windows_are_not_kept_on_top_and_a_covered_one_is_raised_and_typed_into(swarm, xterms):
    from quarterdeck.core.transports.gui.windows import find, raise_and_wait, topmost_at

    demo, roster = swarm
    agent = roster.get("Agent-2")
    window = find(agent.transport.window)
    state = subprocess.run(["xprop", "-id", str(window.id), "_NET_WM_STATE"], capture_output=True, text=True,
                           check=True, timeout=10).stdout
    assert "ABOVE" not in state, state  # an ordinary window: the panel, its dialogs, the palette can cover it
    term, = xterms(1)
    cover = find(cover_match(term))
    point = agent.transport.chat
    subprocess.run(["xdotool", "windowmove", str(cover.id), str(point[0] - 60), str(point[1] - 40)],
                   check=True, timeout=10)
    assert raise_and_wait(find(cover_match(term)), point, timeout=3.0) is not None
    assert topmost_at(point).id == cover.id  # the xterm covers the agent's message box
    deliver(agent, "through a covering window", PointerGuard())
    assert texts(received(demo, agent, 1)) == ["through a covering window"]
    assert b"through a covering window" not in term.read()


def cover_match(term):
    from quarterdeck.core.models import WindowMatch

    return WindowMatch(title=term.name)
