"""The window watcher on real Chromium windows: a chat transcript that an "agent" writes to.

Each window shows pages/transcript.html in its own Chromium (own profile, so it goes where it is
asked): Enter in its input makes the page write a line every 300 ms for 10 lines, then stop. The
watcher samples twice a second with ``quiet_after`` = 2 s so the tests stay short; the real service
samples once a second with 5 s.
"""
from __future__ import annotations

import logging
import time

import numpy as np
import pytest
from chromium_desk import _xdotool
from chromium_desk import missing_tools as missing_chromium_tools
from transcript_desk import INPUT_FROM_BOTTOM, close_all, open_transcript

from quarterdeck.core.activity.events import SEEN_IDLE, SEEN_OFFLINE, SEEN_WORKING, WINDOW_WATCH
from quarterdeck.core.activity.watch.pixels import differs
from quarterdeck.core.activity.watch.window_sample import COVERED, SEEN, WindowLooker
from quarterdeck.core.activity.watch.windows import WindowWatcher
from quarterdeck.core.models import Agent, GuiTransport, WindowMatch, WindowPoint

pytestmark = pytest.mark.x11

QUIET = 2.0
EVERY = 0.5  # s between samples
WRITES_FOR = 3.0  # s: 10 lines, 300 ms apart


@pytest.fixture
def transcripts(tmp_path):
    """``transcripts(name, rect)`` opens a transcript window; all are closed afterwards."""
    missing = missing_chromium_tools()
    if missing:
        pytest.skip(f"missing tools: {', '.join(missing)}")
    opened = []

    def open_one(name, rect=(60, 60, 900, 700)):
        window = open_transcript(tmp_path, name, rect)
        opened.append(window)
        return window

    yield open_one
    close_all(opened)


def agent_for(window, transcript_in_window=None):
    width = window.geometry[2]
    return Agent(id=window.name, transport=GuiTransport(
        chat=window.input_point, window=WindowMatch(class_="Chromium", title=window.title),
        chat_in_window=WindowPoint(anchor="bottom-left", offset=(width // 2, -INPUT_FROM_BOTTOM)),
        transcript_in_window=transcript_in_window))


class Run:
    """Samples a watcher on the wall clock and keeps every event with its time."""

    def __init__(self, watcher):
        self.watcher = watcher
        self.events = []

    def watch(self, seconds, until=None):
        end = time.time() + seconds
        while time.time() < end:
            new = self.watcher.sample(time.time())
            self.events.extend(new)
            if until is not None and any(until(e) for e in new):
                return new
            time.sleep(EVERY)
        return []

    def kinds(self, agent_id=None):
        return [e.kind for e in self.events if agent_id is None or e.agent_id == agent_id]


def test_working_while_the_transcript_is_written_idle_once_it_is_quiet(transcripts):
    window = transcripts("Agent-1")
    window.click_input()  # the input has the focus: its caret blinks all along
    run = Run(WindowWatcher([agent_for(window)], quiet_after=QUIET))
    started = time.time()
    run.watch(QUIET + 2)
    assert run.kinds() == [SEEN_IDLE], "a first look says nothing; quiet_after without a change says idle"
    assert QUIET <= run.events[0].at - started <= QUIET + 2 * EVERY + 0.5
    assert run.events[0].name == "transcript quiet 2 s" and run.events[0].source == WINDOW_WATCH

    window.ask("write")
    asked = time.time()
    run.watch(WRITES_FOR + QUIET + 3, until=lambda e: e.kind == SEEN_IDLE)
    working, idle = run.events[1:]
    assert (working.kind, working.name, idle.kind) == (SEEN_WORKING, "transcript changing", SEEN_IDLE)
    assert working.at - asked <= 1.0, "a change is seen within one second"
    stopped = asked + WRITES_FOR
    assert QUIET - 0.5 <= idle.at - stopped <= QUIET + 2 * EVERY + 1.0, (idle.at - stopped)


def test_a_blinking_caret_in_the_region_is_not_work(transcripts):
    window = transcripts("Agent-1")
    window.click_input()
    # the whole window, input and caret included; the look keeps every 2nd column, so one of two
    # regions a pixel apart has the caret's column in it
    agents = [agent_for(window, transcript_in_window=(WindowPoint(anchor="top-left", offset=(dx, 0)),
                                                      WindowPoint(anchor="bottom-right", offset=(0, 0))))
              for dx in (0, 1)]
    looker = WindowLooker()
    firsts = [looker.look(agent) for agent in agents]
    assert [s.status for s in firsts] == [SEEN, SEEN] and firsts[0].region == window.geometry
    blinks = 0
    for _ in range(12):
        time.sleep(0.27)
        for agent, first in zip(agents, firsts, strict=True):
            sight = looker.look(agent)
            if not np.array_equal(first.look, sight.look):
                blinks += 1
                assert not differs(first.look, sight.look), "the caret alone changed the look"
    assert blinks >= 3, "the caret should have blinked in the look"

    run = Run(WindowWatcher(agents[:1], quiet_after=QUIET))
    run.watch(QUIET + 2.5)
    assert run.kinds() == [SEEN_IDLE]


def test_a_closed_window_is_offline(transcripts):
    window = transcripts("Agent-1")
    run = Run(WindowWatcher([agent_for(window)], quiet_after=QUIET))
    run.watch(QUIET + 1.5)
    window.close()
    run.watch(1.5)
    assert run.kinds() == [SEEN_IDLE, SEEN_OFFLINE]
    assert run.events[-1].name == "window gone"


def test_the_watcher_follows_a_moved_window(transcripts):
    window = transcripts("Agent-1", (40, 40, 800, 600))
    agent = agent_for(window)
    watcher = WindowWatcher([agent], quiet_after=QUIET)
    run = Run(watcher)
    run.watch(QUIET + 1.5)
    before = watcher.looker.look(agent).region
    window.move(700, 300)
    run.watch(QUIET + 1)
    assert run.kinds() == [SEEN_IDLE], "moving the window is not work"
    after = watcher.looker.look(agent).region
    assert (after[0] - before[0], after[1] - before[1]) == (660, 260) and after[2:] == before[2:]

    window.ask("after the move")
    run.watch(WRITES_FOR + QUIET + 3, until=lambda e: e.kind == SEEN_IDLE)
    assert run.kinds() == [SEEN_IDLE, SEEN_WORKING, SEEN_IDLE]


def test_two_windows_only_the_one_written_to_is_working(transcripts):
    one = transcripts("Agent-1", (0, 40, 900, 700))
    two = transcripts("Agent-2", (960, 40, 900, 700))
    run = Run(WindowWatcher([agent_for(one), agent_for(two)], quiet_after=QUIET))
    run.watch(QUIET + 1.5)
    assert sorted((e.agent_id, e.kind) for e in run.events) == [("Agent-1", SEEN_IDLE), ("Agent-2", SEEN_IDLE)]
    two.ask("only me")
    run.watch(WRITES_FOR + QUIET + 3, until=lambda e: e.agent_id == "Agent-2" and e.kind == SEEN_IDLE)
    assert run.kinds("Agent-1") == [SEEN_IDLE]
    assert run.kinds("Agent-2") == [SEEN_IDLE, SEEN_WORKING, SEEN_IDLE]


def test_a_covered_or_minimised_window_reports_nothing(transcripts, caplog):
    caplog.set_level(logging.DEBUG, logger="quarterdeck.core.activity.watch")
    watched = transcripts("Agent-1", (40, 40, 900, 700))
    cover = transcripts("Cover", (300, 200, 500, 300))  # over the middle of Agent-1's transcript
    agent = agent_for(watched)
    looker = WindowLooker()
    _xdotool("windowactivate", "--sync", str(cover.window))
    assert looker.look(agent).status == COVERED

    run = Run(WindowWatcher([agent], quiet_after=QUIET))
    watched.ask("while covered")  # the click raises Agent-1's window over the cover
    run.watch(1.5, until=lambda e: e.kind == SEEN_WORKING)
    assert run.kinds() == [SEEN_WORKING]
    _xdotool("windowactivate", "--sync", str(cover.window))  # covered again while it writes and stops
    run.watch(WRITES_FOR + QUIET + 1)
    assert run.kinds() == [SEEN_WORKING], "nothing is reported while the transcript is covered"
    assert "covered" in caplog.text

    _xdotool("windowminimize", "--sync", str(cover.window))
    run.watch(QUIET + 2, until=lambda e: e.kind == SEEN_IDLE)
    assert run.kinds() == [SEEN_WORKING, SEEN_IDLE], "uncovered: quiet_after of fresh evidence says idle"

    _xdotool("windowminimize", "--sync", str(watched.window))
    assert looker.look(agent).status == COVERED
    run.watch(1.5)
    assert run.kinds() == [SEEN_WORKING, SEEN_IDLE]
    assert "not viewable" in caplog.text
