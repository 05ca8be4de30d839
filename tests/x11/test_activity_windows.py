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
from quarterdeck.core.activity.watch.pixels import differs, grab
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


@pytest.fixture
def closing():
    """``closing(watcher_or_looker)`` closes its X connection after the test."""
    made = []

    def keep(thing):
        made.append(thing)
        return thing

    yield keep
    for thing in made:
        thing.close()


def agent_for(window, transcript_in_window=None):
    width = window.geometry[2]
    return Agent(id=window.name, transport=GuiTransport(
        chat=window.input_point, window=WindowMatch(class_="Chromium", title=window.title),
        chat_in_window=WindowPoint(anchor="bottom-left", offset=(width // 2, -INPUT_FROM_BOTTOM)),
        transcript_in_window=transcript_in_window))


def look(looker, agent):
    looker.begin()  # a sample of its own: stacking read afresh
    return looker.look(agent)


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


def test_working_while_the_transcript_is_written_idle_once_it_is_quiet(transcripts, closing):
    window = transcripts("Agent-1")
    window.click_input()  # the input has the focus: its caret blinks all along
    run = Run(closing(WindowWatcher([agent_for(window)], quiet_after=QUIET)))
    started = time.time()
    run.watch(QUIET + 2)
    assert run.kinds() == [SEEN_IDLE], "a first look says nothing; quiet_after without a change says idle"
    assert QUIET <= run.events[0].at - started <= QUIET + 2 * EVERY + 1.5
    assert run.events[0].name == "transcript quiet 2 s" and run.events[0].source == WINDOW_WATCH

    window.ask("write")
    asked = time.time()
    run.watch(WRITES_FOR + QUIET + 3, until=lambda e: e.kind == SEEN_IDLE)
    working, idle = run.events[1:]
    assert (working.kind, working.name, idle.kind) == (SEEN_WORKING, "transcript changing", SEEN_IDLE)
    assert working.at - asked <= 1.0, "a change is seen within one second"
    stopped = asked + WRITES_FOR
    assert QUIET - 0.5 <= idle.at - stopped <= QUIET + 2 * EVERY + 1.0, (idle.at - stopped)


def test_a_blinking_caret_in_the_region_is_not_work(transcripts, closing):
    window = transcripts("Agent-1")
    window.click_input()
    # the whole window, input and caret included; a look keeps every 2nd column, so one of two
    # regions a pixel apart has the caret's column in it
    agents = [agent_for(window, transcript_in_window=(WindowPoint(anchor="top-left", offset=(dx, 0)),
                                                      WindowPoint(anchor="bottom-right", offset=(0, 0))))
              for dx in (0, 1)]
    looker = closing(WindowLooker())
    regions = [look(looker, agent).region for agent in agents]
    assert regions[0] == window.geometry
    root = looker.desk().root  # the regions are in root coordinates, and nothing covers the window
    firsts = [grab(root, region) for region in regions]
    blinks = 0
    for _ in range(12):
        time.sleep(0.27)
        for region, first in zip(regions, firsts, strict=True):
            now = grab(root, region)
            if not np.array_equal(first, now):
                blinks += 1
                assert not differs(first, now), "the caret alone changed the look"
    assert blinks >= 3, "the caret should have blinked in the look"
    assert look(looker, agents[1]).changed is False  # Chromium repaints the page once after the focus
    time.sleep(1.2)
    sight = look(looker, agents[1])  # drawn since: the caret only, 1 px wide, twice or more
    assert (sight.status, sight.changed, sight.grabbed) == (SEEN, False, False)

    run = Run(closing(WindowWatcher(agents[:1], quiet_after=QUIET)))
    run.watch(QUIET + 2.5)
    assert run.kinds() == [SEEN_IDLE]


def test_a_closed_window_is_offline(transcripts, closing):
    window = transcripts("Agent-1")
    window.click_input()  # its caret blinks below the region
    agent = agent_for(window)
    run = Run(closing(WindowWatcher([agent], quiet_after=QUIET)))
    run.watch(QUIET + 1.5)
    assert look(run.watcher.looker, agent).grabbed is False, "nothing was drawn in the region: no new grab"
    run.watcher.close()  # the next sample opens a new connection and starts afresh
    run.watch(1.5)
    assert run.kinds() == [SEEN_IDLE]
    window.close()
    run.watch(1.5)
    assert run.kinds() == [SEEN_IDLE, SEEN_OFFLINE]
    assert run.events[-1].name == "window gone"


def test_the_watcher_follows_a_moved_window(transcripts, closing):
    window = transcripts("Agent-1", (40, 40, 800, 600))
    agent = agent_for(window)
    watcher = closing(WindowWatcher([agent], quiet_after=QUIET))
    run = Run(watcher)
    run.watch(QUIET + 1.5)
    before = look(watcher.looker, agent).region
    window.move(700, 300)
    run.watch(QUIET + 1)
    assert run.kinds() == [SEEN_IDLE], "moving the window is not work"
    after = look(watcher.looker, agent).region
    assert (after[0] - before[0], after[1] - before[1]) == (660, 260) and after[2:] == before[2:]

    window.ask("after the move")
    run.watch(WRITES_FOR + QUIET + 3, until=lambda e: e.kind == SEEN_IDLE)
    assert run.kinds() == [SEEN_IDLE, SEEN_WORKING, SEEN_IDLE]


def test_two_windows_only_the_one_written_to_is_working(transcripts, closing):
    one = transcripts("Agent-1", (0, 40, 900, 700))
    two = transcripts("Agent-2", (960, 40, 900, 700))
    run = Run(closing(WindowWatcher([agent_for(one), agent_for(two)], quiet_after=QUIET)))
    run.watch(QUIET + 1.5)
    assert sorted((e.agent_id, e.kind) for e in run.events) == [("Agent-1", SEEN_IDLE), ("Agent-2", SEEN_IDLE)]
    two.ask("only me")
    run.watch(WRITES_FOR + QUIET + 3, until=lambda e: e.agent_id == "Agent-2" and e.kind == SEEN_IDLE)
    assert run.kinds("Agent-1") == [SEEN_IDLE]
    assert run.kinds("Agent-2") == [SEEN_IDLE, SEEN_WORKING, SEEN_IDLE]


def test_a_covered_or_minimised_window_reports_nothing(transcripts, closing, caplog):
    caplog.set_level(logging.DEBUG, logger="quarterdeck.core.activity.watch")
    watched = transcripts("Agent-1", (40, 40, 900, 700))
    cover = transcripts("Cover", (300, 200, 500, 300))  # over the middle of Agent-1's transcript
    agent = agent_for(watched)
    looker = closing(WindowLooker())
    _xdotool("windowactivate", "--sync", str(cover.window))
    assert look(looker, agent).status == COVERED

    run = Run(closing(WindowWatcher([agent], quiet_after=QUIET)))
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
    assert look(looker, agent).status == COVERED
    run.watch(1.5)
    assert run.kinds() == [SEEN_WORKING, SEEN_IDLE]
    assert "not viewable" in caplog.text
