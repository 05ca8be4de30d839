"""Window identity on a real X display: real xterm windows under a window manager (jwm), no mocks.

Each xterm runs ``cat``, so its title stays what ``-title`` set; ``-class`` sets its WM_CLASS class
(the instance stays ``xterm``). Windows are moved, resized, covered, minimized and closed the way a
person would (xdotool, another process), and ``resolve_target`` must follow or refuse.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import time

import pytest
from msgspec.structs import replace
from xterm_desk import wait_until

from quarterdeck.core.desktop.window_match import PointOutsideWindow, WindowAmbiguous, WindowNotFound
from quarterdeck.core.models import GuiTransport, WindowMatch, WindowPoint
from quarterdeck.core.transports.gui.windows import (
    Target,
    find,
    list_windows,
    placement_at,
    point_for,
    preview,
    resolve_target,
    shared_desk,
    topmost_at,
    window_problems,
)

pytestmark = pytest.mark.x11


@pytest.fixture
def desk_windows():
    """``open_window(title, cls, x, y, cols=60, rows=12)`` starts an xterm and returns its window."""
    if shutil.which("xterm") is None or shutil.which("xdotool") is None:
        pytest.skip("missing tools: xterm, xdotool")
    procs: list[subprocess.Popen] = []
    stamp = f"{os.getpid()}-{time.monotonic_ns()}"

    def open_window(title: str, cls: str = "QdEditor", x: int = 100, y: int = 100, cols: int = 60, rows: int = 12):
        title = f"{title} [{stamp}]"
        proc = subprocess.Popen(["xterm", "-title", title, "-class", cls, "-geometry", f"{cols}x{rows}+{x}+{y}",
                                 "-e", "cat"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        procs.append(proc)

        def shown():
            return next((w for w in list_windows() if w.title == title and w.viewable and w.pid == proc.pid), None)
        return wait_until(shown, f"the window {title!r}")

    yield open_window
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def xdotool(*args: object) -> None:
    subprocess.run(["xdotool", *map(str, args)], check=True, timeout=10)


def settled(wid: int, predicate, what: str):
    """The window once ``predicate(window)`` holds (the window manager acts a moment later)."""
    return wait_until(lambda: (w := shared_desk().window(wid)) is not None and predicate(w) and w, what)


def bound(window, point, **match) -> GuiTransport:
    """Agent settings bound to ``window`` with ``point`` kept from its nearest corner, as capture does."""
    placed = placement_at(point)
    assert placed is not None and placed.window.id == window.id
    return GuiTransport(chat=tuple(point), window=WindowMatch(**match), chat_in_window=placed.at)


def test_windows_are_listed_with_class_title_pid_and_root_geometry(desk_windows):
    window = desk_windows("api-service — Chat", "QdEditor", 300, 200)
    assert window.wm_class == ("xterm", "QdEditor") and window.class_name == "QdEditor"
    info = subprocess.run(["xwininfo", "-id", str(window.id)], capture_output=True, text=True, check=True).stdout
    fields = dict(line.strip().split(": ", 1) for line in info.splitlines() if ": " in line)
    assert (window.x, window.y) == (int(fields["Absolute upper-left X"]), int(fields["Absolute upper-left Y"]))
    assert (window.width, window.height) == (int(fields["Width"]), int(fields["Height"]))
    left, top = window.x - window.frame[0], window.y - window.frame[1]
    assert left >= 0 and top > 0  # jwm's frame: a title bar above the client area
    assert topmost_at((window.x + 5, window.y + 5)).id == window.id
    assert topmost_at((window.x + 5, window.frame[1] + 1)) is None  # on the title bar: not the application's


def test_find_by_class_and_title_and_refuse_two_matches(desk_windows):
    api = desk_windows("api-service — Chat", "QdEditor", 100, 100)
    web = desk_windows("web-client — Chat", "QdEditor", 700, 100)
    notes = desk_windows("api-service notes", "QdNotes", 100, 500)
    assert find(WindowMatch(class_="qdeditor", title="API-SERVICE")).id == api.id
    assert find(WindowMatch(class_="QdEditor", title="web-client")).id == web.id
    assert find(WindowMatch(class_="QdNotes")).id == notes.id
    assert find(WindowMatch(class_="xterm", title="notes")).id == notes.id  # the instance name counts too
    both = GuiTransport(chat=(150, 150), window=WindowMatch(class_="QdEditor", title="— Chat"))
    with pytest.raises(WindowAmbiguous) as caught:
        resolve_target(both, agent="Agent-1")
    message = str(caught.value)
    assert message.startswith("two windows match Agent-1's window (class QdEditor, title '— Chat'): ")
    assert f"({api.id:#x})" in message and f"({web.id:#x})" in message
    assert message.endswith(": add a title to tell them apart")


def test_the_point_follows_a_moved_window_and_it_is_topmost_there(desk_windows):
    window = desk_windows("api-service — Chat", "QdEditor", 100, 100)
    point = (window.x + 40, window.y + window.height - 15)  # a chat input near the bottom
    settings = bound(window, point, class_="QdEditor", title="api-service")
    assert settings.chat_in_window == WindowPoint(anchor="bottom-left", offset=(40, -15))
    assert resolve_target(settings, agent="Agent-1") == Target(point, shared_desk().window(window.id))
    xdotool("windowmove", window.id, 900, 500)
    moved = settled(window.id, lambda w: (w.x, w.y) != (window.x, window.y), "the window to move")
    target = resolve_target(settings, agent="Agent-1")
    assert target.point == (moved.x + 40, moved.y + moved.height - 15) != point
    assert target.window.id == window.id and not target.raised
    assert topmost_at(target.point).id == window.id


def test_a_bottom_anchored_point_follows_a_resized_window(desk_windows):
    window = desk_windows("api-service — Chat", "QdEditor", 100, 100)
    point = (window.x + 60, window.y + window.height - 12)
    settings = bound(window, point, class_="QdEditor", title="api-service")
    xdotool("windowsize", window.id, window.width + 200, window.height + 150)
    grown = settled(window.id, lambda w: w.height > window.height, "the window to grow")
    target = resolve_target(settings, agent="Agent-1")
    assert target.point == (grown.x + 60, grown.y + grown.height - 12)
    assert target.point[1] > point[1] and topmost_at(target.point).id == window.id


def test_a_covered_window_is_raised_and_then_topmost_at_the_point(desk_windows):
    window = desk_windows("api-service — Chat", "QdEditor", 100, 100)
    point = (window.x + 50, window.y + window.height - 20)
    settings = bound(window, point, class_="QdEditor", title="api-service")
    cover = desk_windows("someone's notes", "QdNotes", 60, 60, cols=80, rows=20)  # opened later: on top
    assert topmost_at(point).id == cover.id
    seen = preview(settings, agent="Agent-1")  # what the Targets overlay shows: nothing is raised
    assert (seen.point, seen.window.id, seen.covered) == (point, window.id, True)
    assert seen.problem == f"Agent-1's window {seen.window.describe()} is covered at {point} by {cover.describe()}"
    assert window_problems(settings, "Agent-1") == [] and topmost_at(point).id == cover.id
    target = resolve_target(settings, agent="Agent-1")
    assert (target.point, target.window.id, target.raised) == (point, window.id, True)
    assert topmost_at(point).id == window.id
    assert target.evidence == f"window {target.window.describe()}, topmost at {point}, raised"


def test_a_minimized_window_is_shown_again(desk_windows):
    window = desk_windows("api-service — Chat", "QdEditor", 100, 100)
    point = (window.x + 50, window.y + 30)
    settings = bound(window, point, class_="QdEditor", title="api-service")
    xdotool("windowminimize", window.id)
    settled(window.id, lambda w: not w.viewable, "the window to be minimized")
    target = resolve_target(settings, agent="Agent-1")
    assert target.raised and target.window.viewable and topmost_at(point).id == window.id


def test_a_closed_window_is_refused_with_the_reason(desk_windows):
    window = desk_windows("api-service — Chat", "QdEditor", 100, 100)
    settings = bound(window, (window.x + 10, window.y + 10), class_="QdEditor", title="api-service", id=window.id)
    subprocess.run(["kill", str(window.pid)], check=True)
    wait_until(lambda: shared_desk().window(window.id) is None, "the window to close")
    with pytest.raises(WindowNotFound) as caught:
        resolve_target(settings, agent="Agent-1")
    assert str(caught.value).startswith("Agent-1's window (class QdEditor, title 'api-service') is not open; "
                                        f"the window recorded at capture ({window.id:#x}) is closed")
    assert window_problems(settings, "Agent-1") == [str(caught.value)]


def test_a_screen_point_without_a_window_is_returned_unchanged(desk_windows):
    window = desk_windows("api-service — Chat", "QdEditor", 100, 100)
    legacy = GuiTransport(chat=(window.x + 5, window.y + 5), onboarding=(3000, 3000))
    assert resolve_target(legacy, agent="Agent-1") == Target((window.x + 5, window.y + 5))
    assert resolve_target(legacy, "onboarding", agent="Agent-1") == Target((3000, 3000))  # not even checked


def test_a_screen_point_with_its_recorded_window_is_checked_against_it(desk_windows):
    mine = desk_windows("api-service — Chat", "QdEditor", 100, 100)
    other = desk_windows("web-client — Chat", "QdEditor", 900, 100)
    point = (mine.x + 30, mine.y + 30)
    recorded = GuiTransport(chat=point, window=WindowMatch(class_="QdEditor", title="api-service — Chat [",
                                                           pid=mine.pid, id=mine.id))
    assert resolve_target(recorded, agent="Agent-1") == Target(point, shared_desk().window(mine.id))
    # the two windows swap places: the other agent's window is now under Agent-1's screen point
    xdotool("windowmove", mine.id, other.frame[0], other.frame[1])
    xdotool("windowmove", other.id, mine.frame[0], mine.frame[1])
    settled(other.id, lambda w: w.contains(point), "the other window to move under the point")
    settled(mine.id, lambda w: not w.contains(point), "the agent's window to move away")
    with pytest.raises(PointOutsideWindow) as caught:
        resolve_target(recorded, agent="Agent-1")
    message = str(caught.value)
    assert message.startswith(f"Agent-1's chat point {point} is not on its window QdEditor ")
    assert f"({other.id:#x}) is there now): the window moved or shrank" in message
    # bound with its place in the window instead, the point follows the window to its new place
    placed = replace(recorded, chat_in_window=WindowPoint(anchor="top-left", offset=(30, 30)))
    target = resolve_target(placed, agent="Agent-1")
    assert target.window.id == mine.id and target.point == point_for(placed, target.window) != point
    assert topmost_at(target.point).id == mine.id


def test_resolving_is_quick(desk_windows):
    windows = [desk_windows(f"agent {n} — Chat", "QdEditor", 40 + 180 * (n % 5), 60 + 300 * (n // 5), cols=20,
                            rows=8) for n in range(10)]
    settings = bound(windows[7], (windows[7].x + 10, windows[7].y + 10), class_="QdEditor", title="agent 7 —")
    resolve_target(settings)
    started = time.perf_counter()
    for _ in range(50):
        resolve_target(settings)
    each = (time.perf_counter() - started) / 50
    print(f"resolve_target with {len(list_windows())} windows: {each * 1000:.2f} ms")
    assert each < 0.05  # generous: the goal (about 5 ms) is measured by bench/bench_window_resolve.py


def test_capture_records_the_window_and_the_point_from_its_corner(desk_windows, tmp_path, capsys):
    from quarterdeck.cli import agents_cmd
    from quarterdeck.core.roster.roster import load_roster

    window = desk_windows("api-service — Chat", "QdEditor", 200, 150)
    roster = tmp_path / "agents.yaml"
    roster.write_text("agents:\n  - {id: Agent-1, transport: gui, chat: [1, 1]}   # the captain's note\n",
                      encoding="utf-8")
    point = (window.x + window.width - 25, window.y + window.height - 10)
    xdotool("mousemove", *point)
    parser = argparse.ArgumentParser(prog="quarterdeck")
    agents_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["agents", "capture", "Agent-1", "--countdown", "0", "--title", "api-service",
                              "--roster", str(roster)])
    assert args.func(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Hover the mouse pointer over Agent-1's chat input."
    assert lines[1] == f"Agent-1.chat: (1, 1) -> {point}  (saved to {roster})"
    assert lines[2] == f"  window: {window.describe()}, {window.where()}, pid {window.pid}"
    assert lines[3] == "  chat point: -25, -10 from its bottom-right corner (follows the window)"
    assert lines[4] == "  found again by: QdEditor 'api-service'"
    transport = load_roster(roster, screens=()).get("Agent-1").transport
    assert transport.window == WindowMatch(class_="QdEditor", title="api-service", pid=window.pid, id=window.id)
    assert transport.chat_in_window == WindowPoint(anchor="bottom-right", offset=(-25, -10))
    assert "# the captain's note" in roster.read_text(encoding="utf-8")
    assert resolve_target(transport, agent="Agent-1").point == point
