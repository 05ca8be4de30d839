"""The demo swarm offscreen: tiling, the roster it writes once placed, and the process handle
(start, ready, failure, SIGTERM, the parent's death). Real typing into it is in tests/x11."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from PySide6.QtCore import Qt

from quarterdeck.core.roster.roster import load_roster
from quarterdeck.gui.demo import DemoSwarm
from quarterdeck.gui.demo.layout import MIN_HEIGHT, MIN_WIDTH, Rect, free_area, tile, to_physical
from quarterdeck.gui.demo.swarm import Swarm, build_parser
from quarterdeck.gui.demo.transcript import FileWorker

FULL_HD = Rect(0, 0, 1920, 1040)
LAPTOP = Rect(0, 0, 1366, 740)  # 1366x768 less a panel bar


@pytest.mark.parametrize("screen", [FULL_HD, LAPTOP], ids=["1920", "1366"])
@pytest.mark.parametrize("count", range(1, 13))
def test_windows_stay_in_the_right_half_and_never_cover_the_panel(count, screen):
    cells = tile(count, screen)
    panel = free_area(count, screen)
    assert len(cells) == count and panel == Rect(0, 0, screen.width // 2, screen.height)
    for cell in cells:
        assert screen.x + screen.width // 2 <= cell.x and cell.right <= screen.right
        assert screen.y <= cell.y and cell.bottom <= screen.bottom
        assert cell.width >= MIN_WIDTH and cell.height >= MIN_HEIGHT
        assert not cell.overlaps(panel)


@pytest.mark.parametrize("count", range(1, 13))
def test_on_a_full_hd_screen_every_fleet_tiles_without_overlap(count):
    cells = tile(count, FULL_HD)
    assert not any(cell.overlaps(other) for i, cell in enumerate(cells) for other in cells[i + 1:])


def test_four_panes_tile_two_by_two_on_both_screens_and_many_cascade_on_a_laptop():
    assert {(cell.width, cell.height) for cell in tile(4, FULL_HD)} == {(464, 504)}  # 2 x 2, 8 px gaps
    assert {(cell.width, cell.height) for cell in tile(4, LAPTOP)} == {(325, 354)}
    assert len({(cell.x, cell.y) for cell in tile(4, LAPTOP)}) == 4
    many = tile(8, LAPTOP)  # no readable grid: a cascade, each window further in, all the same size
    assert [(c.x - many[0].x, c.y - many[0].y) for c in many] == [(32 * i, 32 * i) for i in range(8)]
    assert len({(c.width, c.height) for c in many}) == 1
    assert tile(0, FULL_HD) == [] and free_area(0, FULL_HD) is None
    assert Rect(0, 0, 10, 10).overlaps(Rect(9, 9, 5, 5)) and not Rect(0, 0, 10, 10).overlaps(Rect(10, 0, 5, 5))


def test_a_cascade_in_a_tiny_area_still_fits_inside_it():
    area = Rect(0, 0, 2 * (MIN_WIDTH + 40), MIN_HEIGHT + 60)
    cells = tile(12, area)
    assert all(area.width // 2 <= c.x and c.right <= area.right and c.bottom <= area.bottom for c in cells)


def test_the_chat_windows_are_not_kept_on_top(qtbot, tmp_path):
    files = FileWorker()
    swarm = Swarm(1, tmp_path, files)
    window = swarm.windows[0]
    qtbot.addWidget(window)
    assert not window.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    assert window.hint.wordWrap()
    swarm.close()
    assert files.drain()
    files.close()


def test_logical_points_scale_from_their_screen_origin():
    assert to_physical((100, 50), Rect(0, 0, 960, 540), 2.0) == (200, 100)
    assert to_physical((2020, 50), Rect(1920, 0, 960, 540), 2.0) == (2120, 100)
    assert to_physical((-500, 300), Rect(-1920, 0, 1920, 1080), 1.0) == (-500, 300)


def test_agent_count_is_checked():
    assert build_parser().parse_args(["--agents", "3", "--dir", "x"]).agents == 3
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--agents", "13", "--dir", "x"])


@pytest.fixture
def swarm(qtbot, tmp_path):
    files = FileWorker()
    made = Swarm(3, tmp_path, files, stable_ms=100, poll_ms=20)
    for window in made.windows:
        qtbot.addWidget(window)
    yield made
    made.close()
    assert files.drain()
    files.close()


def test_swarm_writes_its_roster_once_the_windows_are_placed(qtbot, swarm, tmp_path):
    assert not swarm.ready
    swarm.show()
    with qtbot.waitSignal(swarm.sig_roster_written, timeout=5000) as written:
        pass
    roster = written.args[0]
    qtbot.waitUntil(swarm.roster_path.exists)
    assert load_roster(swarm.roster_path, screens=[]).agents == roster.agents
    assert roster.ids() == ["Agent-1", "Agent-2", "Agent-3"]
    assert [a.role for a in roster.agents] == ["demo: api", "demo: ui", "demo: tests"]
    points = swarm.points()
    for agent, window, point in zip(roster.agents, swarm.windows, points, strict=True):
        settings = agent.transport
        assert settings.chat == settings.onboarding == point
        assert (settings.paste_keys, settings.submit_keys) == (("ctrl", "v"), ("enter",))
        assert (settings.urgent_submit_keys, settings.new_chat_keys) == (("ctrl", "enter"), ("ctrl", "t"))
        assert window.windowTitle() == f"{agent.id} · demo agent"
        local = window.input.mapFromGlobal(window.input_centre())
        assert window.input.rect().contains(local)
    frames = [Rect(*w.frameGeometry().getRect()) for w in swarm.windows]
    assert not any(a.overlaps(b) for i, a in enumerate(frames) for b in frames[i + 1:])
    assert swarm.ready


def test_moving_a_window_rewrites_the_roster_and_closing_removes_it(qtbot, swarm):
    swarm.show()
    qtbot.waitUntil(lambda: swarm.ready and swarm.roster_path.exists(), timeout=5000)
    before = swarm.roster().get("Agent-2").transport.chat
    with qtbot.waitSignal(swarm.sig_roster_written, timeout=3000) as written:
        swarm.windows[1].move(swarm.windows[1].x() - 60, swarm.windows[1].y() + 40)
    after = written.args[0].get("Agent-2").transport.chat
    assert after == (before[0] - 60, before[1] + 40)
    swarm.close()
    qtbot.waitUntil(lambda: not swarm.roster_path.exists())
    assert not any(w.isVisible() for w in swarm.windows)


def test_typing_into_a_swarm_window_reaches_its_transcript(qtbot, swarm, tmp_path):
    window = swarm.windows[0]
    window.input.setPlainText("hello")
    qtbot.keyClick(window.input, Qt.Key.Key_Return)
    transcript = tmp_path / "transcripts" / "Agent-1.txt"  # written by a background thread
    qtbot.waitUntil(lambda: transcript.exists() and transcript.read_text(encoding="utf-8").endswith("\nhello\n"),
                    timeout=10_000)


# -- the process and its handle ----------------------------------------------------------------


def test_handle_starts_the_process_and_returns_the_roster_once_ready(tmp_path):
    stale = tmp_path / "agents.yaml"
    stale.write_text("agents: []\n")
    started = time.monotonic()
    with DemoSwarm.start(2, tmp_path) as demo:
        assert time.monotonic() - started < 2.0  # start does not wait for the windows
        assert not stale.exists() and demo.count == 2 and demo.running
        assert "count=2" in repr(demo)
        path = demo.wait_ready(30)
        assert path == demo.roster_path
        assert load_roster(path, screens=[]).ids() == ["Agent-1", "Agent-2"]
        assert demo.transcript("Agent-1") == "" and demo.messages("Agent-2") == []
        assert demo.transcript("Agent-9") == ""
    assert demo.process.returncode == 0  # SIGTERM quits the Qt loop cleanly
    assert "SIGTERM, quitting" in demo.output_tail()
    assert not path.exists()
    demo.close()  # idempotent


def test_a_swarm_that_cannot_start_is_reported_with_its_output(tmp_path):
    demo = DemoSwarm.start(99, tmp_path)
    with pytest.raises(RuntimeError, match=r"exited \(code 2\)[\s\S]*--agents"):
        demo.wait_ready(30)
    demo.close()


def test_a_late_swarm_times_out_with_its_output(tmp_path):
    with DemoSwarm.start(1, tmp_path) as demo:
        with pytest.raises(RuntimeError, match=re.escape("not up after 0.01 s")):
            demo.wait_ready(0.01, poll=0.001)
    assert demo.output_tail()


def test_a_swarm_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path):
    demo = DemoSwarm.start(1, tmp_path)
    demo.wait_ready(30)
    os.kill(demo.process.pid, signal.SIGSTOP)  # a stopped process cannot act on SIGTERM
    demo.close(grace=0.2)
    assert demo.process.returncode == -signal.SIGKILL


def test_the_swarm_quits_when_its_parent_dies(tmp_path):
    script = textwrap.dedent(f"""
        import os, sys
        from quarterdeck.gui.demo import DemoSwarm
        demo = DemoSwarm.start(1, {str(tmp_path)!r})
        demo.wait_ready(30)
        print(demo.process.pid, flush=True)
        os._exit(0)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    log = tmp_path / "swarm.log"
    deadline = time.monotonic() + 10
    while "parent process gone" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "parent process gone, quitting" in log.read_text()
    deadline = time.monotonic() + 10
    while (tmp_path / "agents.yaml").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not (tmp_path / "agents.yaml").exists()


def test_lifeline_quits_on_sigterm_and_when_the_parent_is_gone(qtbot, qapp):
    from quarterdeck.gui.demo.lifeline import Lifeline

    quits: list[str] = []
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    lifeline = Lifeline(os.getpid(), lambda: quits.append("quit"), interval_ms=20)  # getppid() != our pid
    try:
        assert signal.getsignal(signal.SIGTERM) == lifeline._on_signal
        qtbot.waitUntil(lambda: quits == ["quit"])
        os.kill(os.getpid(), signal.SIGTERM)
        qtbot.waitUntil(lambda: quits == ["quit", "quit"])
    finally:
        lifeline.close()
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 only")
def test_a_swarm_without_a_display_fails_with_qts_reason(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["QT_QPA_PLATFORM"] = "xcb"
    with DemoSwarm.start(1, tmp_path, env=env) as demo:
        with pytest.raises(RuntimeError, match=r"exited \(code -?\d+\)[\s\S]*xcb"):
            demo.wait_ready(30)
