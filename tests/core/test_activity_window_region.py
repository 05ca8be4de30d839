"""The window watcher without an X server: region arithmetic, the caret rule, the seen-state rules."""
from __future__ import annotations

import numpy as np
import pytest

from quarterdeck.core.activity.events import SEEN_IDLE, SEEN_OFFLINE, SEEN_WORKING, WINDOW_WATCH
from quarterdeck.core.activity.watch import pixels
from quarterdeck.core.activity.watch.change import Changes, Verdict
from quarterdeck.core.activity.watch.region import (
    ABOVE_INPUT,
    MARGIN,
    NO_INPUT_BOTTOM,
    chat_point,
    clip,
    default_region,
    intersects,
    region_between,
    transcript_region,
)
from quarterdeck.core.activity.watch.window_sample import COVERED, GONE, SEEN, UNKNOWN, Sight
from quarterdeck.core.activity.watch.windows import WindowWatcher
from quarterdeck.core.models import Agent, GuiTransport, TmuxTransport, WindowMatch, WindowPoint

WINDOW = (100, 50, 1000, 800)  # x, y, width, height of the client area
MATCH = WindowMatch(class_="Cursor", title="api")


def gui(**settings):
    return GuiTransport(**{"chat": (600, 790), "window": MATCH, **settings})


# -- region arithmetic -------------------------------------------------------------------------

def test_the_default_region_runs_from_below_the_tab_strip_to_above_the_input():
    assert default_region(WINDOW, (600, 790)) == (100 + MARGIN, 50 + 64, 1000 - 2 * MARGIN, 790 - ABOVE_INPUT - 114)


def test_without_a_chat_point_on_the_window_the_region_ends_above_the_bottom_edge():
    assert default_region(WINDOW, None) == (108, 114, 984, 850 - NO_INPUT_BOTTOM - 114)
    assert chat_point(gui(chat=(5, 5)), WINDOW) is None  # the captured point is off this window
    assert transcript_region(gui(chat=(5, 5)), WINDOW) == default_region(WINDOW, None)


def test_the_chat_point_follows_the_window_from_its_corner():
    settings = gui(chat_in_window=WindowPoint(anchor="bottom-left", offset=(300, -40)))
    assert chat_point(settings, WINDOW) == (400, 810)
    moved = (700, 200, 1000, 800)
    assert chat_point(settings, moved) == (1000, 960)
    assert transcript_region(settings, moved) == (708, 264, 984, 960 - ABOVE_INPUT - 264)


def test_a_configured_region_lies_between_two_corner_points_and_follows_a_resize():
    corners = (WindowPoint(anchor="top-right", offset=(-400, 40)),
               WindowPoint(anchor="bottom-right", offset=(-8, -120)))
    settings = gui(transcript_in_window=corners)
    assert region_between(corners, WINDOW) == (700, 90, 392, 640)
    assert transcript_region(settings, (0, 0, 1400, 1000)) == (1000, 40, 392, 840)


def test_regions_are_clipped_to_the_window_and_the_screen():
    corners = (WindowPoint(anchor="top-left", offset=(-50, -50)), WindowPoint(anchor="bottom-right", offset=(50, 50)))
    assert region_between(corners, WINDOW) == WINDOW
    off_right = (1800, 0, 400, 600)
    assert transcript_region(gui(transcript_in_window=corners), off_right, (0, 0, 1920, 1080)) == (1800, 0, 120, 600)
    assert transcript_region(gui(transcript_in_window=corners), (2000, 0, 400, 600), (0, 0, 1920, 1080)) is None


def test_too_small_or_inverted_regions_are_not_watched():
    assert clip((0, 0, 15, 100)) is None and clip((0, 0, 100, 15)) is None
    assert clip((0, 0, 16, 16)) == (0, 0, 16, 16)
    assert default_region((0, 0, 400, 120), (200, 70)) is None  # input right under the tab strip
    backwards = (WindowPoint(anchor="bottom-right", offset=(0, 0)), WindowPoint(anchor="top-left", offset=(0, 0)))
    assert region_between(backwards, WINDOW) is None


def test_a_transcript_region_needs_a_window():
    with pytest.raises(ValueError, match="transcript_in_window needs 'window'"):
        GuiTransport(chat=(1, 1), transcript_in_window=(WindowPoint(anchor="top-left", offset=(0, 0)),
                                                         WindowPoint(anchor="bottom-right", offset=(0, 0))))


def test_intersects_shares_a_pixel_or_not():
    assert intersects((0, 0, 10, 10), (9, 9, 5, 5))
    assert not intersects((0, 0, 10, 10), (10, 0, 5, 5))
    assert not intersects((0, 0, 10, 10), (0, 10, 5, 5))


# -- looks and the caret rule ------------------------------------------------------------------

def zpixmap(image):
    """An (h, w, 4) uint8 image as the bytes of a 32-bit ZPixmap."""
    return np.ascontiguousarray(image, dtype=np.uint8).tobytes()


def test_a_look_keeps_every_second_row_and_column_as_one_value_a_pixel():
    image = np.zeros((6, 8, 4), dtype=np.uint8)
    image[2, 4] = (1, 2, 3, 0)
    image[3, 5] = (9, 9, 9, 0)  # an odd row and column: not kept
    look = pixels.look_of(zpixmap(image), 8, 6)
    assert look.shape == (3, 4) and look.dtype == np.uint32
    assert np.count_nonzero(look) == 1 and look[1, 2] == int.from_bytes(bytes((1, 2, 3, 0)), "little")


def test_a_look_of_a_16_bit_screen_compares_bytes():
    data = bytes(range(40))  # 4 rows of 5 pixels, 2 bytes each
    assert pixels.look_of(data, 5, 4).shape == (2, 5)


def blank(height=100, width=200):
    return np.zeros((height, width), dtype=np.uint32)


def test_a_caret_wide_change_is_no_change_however_tall():
    before, after = blank(), blank()
    after[10:60, 40] = 0xFFFFFF  # one sampled column, 50 rows: a caret
    assert pixels.changed(before, after) == 0 and not pixels.differs(before, after)
    after[10:60, 41] = 0xFFFFFF  # two columns: still a caret
    assert pixels.changed(before, after) == 0


def test_narrow_changes_apart_are_not_a_caret():
    before, after = blank(), blank()
    after[20:27, 5:150:3] = 0xCCCCCC  # thin strokes across a line of text
    assert pixels.differs(before, after)
    after = blank()
    after[10:60, 40] = after[10:60, 42] = 1  # a caret is one run of columns, not two
    assert pixels.changed(before, after) == 100


def test_unchanged_looks_are_the_same():
    assert pixels.changed(blank(), blank()) == 0


def test_a_small_change_wider_than_a_caret_counts_from_min_changed():
    before, after = blank(), blank()
    after[0:2, 0:3] = 1  # 6 pixels, 3 columns wide
    assert pixels.changed(before, after) == 6 and not pixels.differs(before, after)
    after[2, 0:2] = 1
    assert pixels.changed(before, after) == pixels.MIN_CHANGED and pixels.differs(before, after)


def test_looks_of_different_sizes_differ():
    assert pixels.differs(blank(10, 10), blank(10, 12))


# -- the seen-state rules ----------------------------------------------------------------------

class FakeLooker:
    """Plays back what the window looked like, one sight per sample."""

    def __init__(self):
        self.sights = []

    def begin(self):
        pass

    def look(self, agent):
        return self.sights.pop(0)


def seen(changed=False):
    return Sight(SEEN, region=(0, 0, 80, 80), changed=changed)


FIRST, SAME, CHANGED = seen(None), seen(False), seen(True)


def watcher_with(*sights, quiet_after=5.0):
    agent = Agent(id="Agent-1", transport=gui())
    watcher = WindowWatcher([agent], quiet_after=quiet_after, desk=object())
    watcher.looker = FakeLooker()
    watcher.looker.sights = list(sights)
    return watcher


def play(watcher, times):
    return [(t, e.kind) for t in times for e in watcher.sample(t)]


def test_a_first_look_says_nothing_then_quiet_after_says_idle():
    watcher = watcher_with(FIRST, *[SAME] * 6)
    assert play(watcher, range(7)) == [(5, SEEN_IDLE)]


def test_a_change_says_working_once_and_quiet_after_the_last_change_says_idle():
    watcher = watcher_with(FIRST, CHANGED, CHANGED, CHANGED, *[SAME] * 6)
    assert play(watcher, range(10)) == [(1, SEEN_WORKING), (8, SEEN_IDLE)]


def test_events_carry_the_source_and_the_names():
    watcher = watcher_with(FIRST, CHANGED, *[SAME] * 5, Sight(GONE, why="closed"), quiet_after=2.0)
    events = [e for t in range(8) for e in watcher.sample(1000.0 + t)]
    assert [(e.kind, e.name, e.source, e.agent_id, e.at) for e in events] == [
        (SEEN_WORKING, "transcript changing", WINDOW_WATCH, "Agent-1", 1001.0),
        (SEEN_IDLE, "transcript quiet 2 s", WINDOW_WATCH, "Agent-1", 1003.0),
        (SEEN_OFFLINE, "window gone", WINDOW_WATCH, "Agent-1", 1007.0)]


def test_a_covered_window_reports_nothing_and_needs_fresh_evidence_after(caplog):
    caplog.set_level("DEBUG", logger="quarterdeck.core.activity.watch")
    covered = Sight(COVERED, why="window 0x42 is stacked above it")
    watcher = watcher_with(FIRST, CHANGED, *[covered] * 8, FIRST, *[SAME] * 5)
    assert play(watcher, range(16)) == [(1, SEEN_WORKING), (15, SEEN_IDLE)]
    assert caplog.text.count("stacked above it") == 1, "a gap's reason is logged once"


def test_unknown_sights_report_nothing():
    watcher = watcher_with(*[Sight(UNKNOWN, why="two windows match")] * 8)
    assert play(watcher, range(8)) == []


def test_a_moved_or_resized_region_starts_afresh():
    watcher = watcher_with(FIRST, CHANGED, FIRST, *[SAME] * 5)
    assert play(watcher, range(8)) == [(1, SEEN_WORKING), (7, SEEN_IDLE)]


def test_a_window_that_comes_back_after_offline_needs_evidence():
    watcher = watcher_with(FIRST, Sight(GONE), Sight(GONE), FIRST, SAME, CHANGED, SAME)
    assert play(watcher, range(7)) == [(1, SEEN_OFFLINE), (5, SEEN_WORKING)]


def test_agents_without_a_window_are_not_watched():
    agents = [Agent(id="Agent-1", transport=GuiTransport(chat=(1, 1))),
              Agent(id="Agent-2", transport=TmuxTransport(target="s:0.1")),
              Agent(id="Agent-3", transport=gui())]
    assert [a.id for a in WindowWatcher(agents, desk=object()).agents] == ["Agent-3"]


# -- changes: pixels where damage does not settle it -------------------------------------------

class Screen:
    """The region's pixels now, and how often they were grabbed."""

    def __init__(self):
        self.look = blank()
        self.grabs = 0

    def grab(self):
        self.grabs += 1
        return self.look.copy()

    def write(self, row):
        self.look[row:row + 5, 10:150] = 0xCCCCCC


REGION = (100, 100, 400, 200)
LINE = (110, 150, 300, 16)  # root coordinates, inside REGION
CARET_RECT = (120, 250, 1, 16)


def test_a_first_look_grabs_and_has_no_answer():
    changes, screen = Changes(), Screen()
    verdict = changes.judge("A", 1, REGION, [], screen.grab)
    assert (verdict.changed, verdict.grabbed, screen.grabs) == (None, True, 1)
    assert isinstance(verdict, Verdict) and np.array_equal(verdict.look, screen.look)


def test_nothing_drawn_is_no_change_without_a_grab():
    changes, screen = Changes(), Screen()
    changes.judge("A", 1, REGION, None, screen.grab)
    verdict = changes.judge("A", 1, REGION, [CARET_RECT, (900, 900, 50, 50)], screen.grab)  # a caret, elsewhere
    assert (verdict.changed, verdict.grabbed, screen.grabs) == (False, False, 1)


def test_the_first_drawing_is_checked_by_its_pixels():
    changes, screen = Changes(), Screen()
    changes.judge("A", 1, REGION, None, screen.grab)
    repaint = changes.judge("A", 1, REGION, [LINE], screen.grab)  # drawn, but the same pixels
    assert (repaint.changed, repaint.grabbed) == (False, True)
    screen.write(40)
    written = changes.judge("A", 1, REGION, [LINE], screen.grab)
    assert (written.changed, written.grabbed) == (True, True)


def test_drawing_goes_on_as_change_without_grabs_then_the_baseline_is_grabbed_again():
    changes, screen = Changes(), Screen()
    changes.judge("A", 1, REGION, None, screen.grab)
    screen.write(10)
    assert changes.judge("A", 1, REGION, [LINE], screen.grab).changed is True
    grabs = screen.grabs
    for row in (20, 30, 40):
        screen.write(row)
        verdict = changes.judge("A", 1, REGION, [LINE], screen.grab)
        assert (verdict.changed, verdict.grabbed, verdict.look) == (True, False, None)
    assert screen.grabs == grabs
    quiet = changes.judge("A", 1, REGION, [], screen.grab)
    assert (quiet.changed, quiet.grabbed) == (False, True) and np.array_equal(quiet.look, screen.look)
    assert changes.judge("A", 1, REGION, [LINE], screen.grab).changed is False, "a repaint after the streak"


def test_without_damage_every_look_compares_pixels():
    changes, screen = Changes(), Screen()
    changes.judge("A", 1, REGION, None, screen.grab)
    assert changes.judge("A", 1, REGION, None, screen.grab).changed is False
    screen.write(0)
    assert changes.judge("A", 1, REGION, None, screen.grab).changed is True
    screen.write(50)
    assert changes.judge("A", 1, REGION, None, screen.grab).changed is True
    assert screen.grabs == 4


def test_another_region_or_window_starts_a_new_baseline():
    changes, screen = Changes(), Screen()
    changes.judge("A", 1, REGION, None, screen.grab)
    assert changes.judge("A", 1, (101, 100, 400, 200), [], screen.grab).changed is None
    assert changes.judge("A", 2, (101, 100, 400, 200), [], screen.grab).changed is None
    changes.forget("A")
    assert changes.judge("A", 2, (101, 100, 400, 200), [], screen.grab).changed is None
