"""Window identity without a display: which window is an agent's, and where its point lies in it."""
from __future__ import annotations

import re

import pytest
from msgspec.structs import replace

from quarterdeck.core.delivery.errors import NOT_TYPED, PermanentError, is_retryable, verdict_of
from quarterdeck.core.desktop.window_match import (
    PointOutsideWindow,
    Window,
    WindowAmbiguous,
    WindowCovered,
    WindowNotFound,
    anchor_point,
    bind_match,
    choose,
    corner,
    nearest_anchor,
)
from quarterdeck.core.models import GuiTransport, WindowMatch, WindowPoint
from quarterdeck.core.transports.gui.windows import Target, point_for, resolve_target

RECT = (100, 50, 800, 600)  # x, y, width, height: right edge 900, bottom edge 650


def win(wid: int, cls: str = "Chromium", title: str = "", pid: int | None = None, rect=RECT) -> Window:
    return Window(wid, (cls.lower(), cls), title, pid, *rect)


# -- anchors and offsets ----------------------------------------------------------------------

@pytest.mark.parametrize(("anchor", "expected"), [
    ("top-left", (100, 50)), ("top-right", (900, 50)), ("bottom-left", (100, 650)), ("bottom-right", (900, 650)),
])
def test_corners_are_the_edges_of_the_client_area(anchor, expected):
    assert corner(anchor, RECT) == expected


@pytest.mark.parametrize(("point", "anchor", "offset"), [
    ((110, 60), "top-left", (10, 10)),
    ((890, 60), "top-right", (-10, 10)),
    ((110, 640), "bottom-left", (10, -10)),
    ((890, 640), "bottom-right", (-10, -10)),
    ((500, 350), "top-left", (400, 300)),      # the exact centre: ties go to top and left
    ((501, 351), "bottom-right", (-399, -299)),
    ((100, 649), "bottom-left", (0, -1)),       # the last row of pixels
])
def test_a_captured_point_is_kept_from_its_nearest_corner_and_comes_back_exactly(point, anchor, offset):
    at = nearest_anchor(point, RECT)
    assert (at.anchor, at.offset) == (anchor, offset)
    assert anchor_point(at, RECT) == point


def test_a_bottom_anchored_point_keeps_its_distance_from_the_bottom_when_the_window_moves_or_grows():
    at = nearest_anchor((420, 610), RECT)  # a chat input 40 px above the bottom edge
    assert at == WindowPoint(anchor="bottom-left", offset=(320, -40))
    assert anchor_point(at, (300, 200, 800, 600)) == (620, 760)  # moved by (200, 150)
    assert anchor_point(at, (100, 50, 1000, 900)) == (420, 910)  # taller: still 40 px above the bottom
    right = nearest_anchor((880, 630), RECT)
    assert anchor_point(right, (100, 50, 500, 400)) == (580, 430)  # narrower and shorter


def test_point_for_uses_the_window_place_and_falls_back_to_the_screen_point():
    window = win(1, rect=(0, 0, 1000, 800))
    bound = GuiTransport(chat=(1, 2), onboarding=(3, 4), window=WindowMatch(class_="Chromium"),
                         chat_in_window=WindowPoint(anchor="bottom-right", offset=(-50, -20)))
    assert point_for(bound, window) == (950, 780)
    assert point_for(bound, window, "onboarding") == (3, 4)  # no place in the window: the screen point
    no_onboarding = replace(bound, onboarding=None)
    assert point_for(no_onboarding, window, "onboarding") == (950, 780)  # onboarding falls back to chat
    assert point_for(GuiTransport(chat=(7, 8)), window) == (7, 8)


# -- which window -------------------------------------------------------------------------------

def test_class_is_whole_and_any_case_and_title_is_a_substring_in_any_case():
    windows = [win(1, "Chromium", "api-service — Chat"), win(2, "Chromium", "web-client"),
               win(3, "ChromiumX", "API-SERVICE notes")]
    assert choose(WindowMatch(class_="chromium", title="API-service"), windows).id == 1
    assert choose(WindowMatch(class_="CHROMIUM", title="web"), windows).id == 2
    assert choose(WindowMatch(class_="chromium"), [windows[0], windows[2]]).id == 1  # instance name counts too
    assert choose(WindowMatch(title="notes"), windows).id == 3


def test_no_match_says_the_window_is_not_open_and_lists_that_class():
    windows = [win(1, "Chromium", "web-client"), win(2, "XTerm", "api-service")]
    with pytest.raises(WindowNotFound) as caught:
        choose(WindowMatch(class_="Chromium", title="api-service"), windows, "Agent-1")
    assert str(caught.value) == ("Agent-1's window (class Chromium, title 'api-service') is not open; "
                                 "open Chromium windows: Chromium 'web-client' (0x1)")
    error = caught.value
    assert isinstance(error, PermanentError) and not is_retryable(error)
    assert verdict_of(error) == NOT_TYPED and error.evidence.startswith("refused before the click: Agent-1's")


def test_two_matches_are_refused_unless_the_recorded_window_or_pid_tells_them_apart():
    windows = [win(1, title="api-service — Chat", pid=10), win(2, title="api-service — Docs", pid=20)]
    with pytest.raises(WindowAmbiguous) as caught:
        choose(WindowMatch(class_="Chromium", title="api-service"), windows, "Agent-1")
    assert str(caught.value).startswith("two windows match Agent-1's window (class Chromium, title "
                                        "'api-service'): Chromium 'api-service — Chat' (0x1), ")
    assert str(caught.value).endswith(": add a title to tell them apart")
    assert choose(WindowMatch(class_="Chromium", title="api-service", id=2), windows).id == 2
    assert choose(WindowMatch(class_="Chromium", title="api-service", pid=20), windows).id == 2


def test_the_recorded_window_stays_the_agents_while_open_even_when_its_title_changes():
    match = WindowMatch(class_="Chromium", title="main.py — api-service", id=7)
    assert choose(match, [win(7, title="other.py — api-service"), win(8, title="web")]).id == 7
    # ... but not when another window now shows the title (the project moved to another window)
    with pytest.raises(WindowAmbiguous, match=re.escape("recorded window Chromium 'web' (0x7) no longer matches")):
        choose(match, [win(7, title="web"), win(8, title="main.py — api-service")], "Agent-1")
    # ... and not when the id now belongs to another application
    with pytest.raises(WindowNotFound, match=re.escape("the window recorded at capture (0x7) is closed")):
        choose(match, [win(7, cls="XTerm", title="main.py — api-service")])
    # once it is gone, class and title find the window again (the app restarted)
    assert choose(match, [win(9, title="main.py — api-service — Cursor")]).id == 9


def test_a_window_named_by_pid_alone_must_be_the_only_one_of_that_process():
    match = WindowMatch(pid=42)
    assert choose(match, [win(1, pid=42), win(2, pid=43)]).id == 1
    with pytest.raises(WindowAmbiguous):
        choose(match, [win(1, pid=42), win(2, pid=42)])


def test_capture_records_class_id_pid_and_keeps_a_shortened_title_that_still_fits():
    window = win(0x80000C, "Chromium", "main.py — api-service — Cursor", pid=4242)
    assert bind_match(window) == WindowMatch(class_="Chromium", title="main.py — api-service — Cursor",
                                             pid=4242, id=0x80000C)
    kept = bind_match(window, WindowMatch(class_="chromium", title="api-service", id=5))
    assert (kept.class_, kept.title, kept.id) == ("chromium", "api-service", 0x80000C)
    replaced = bind_match(window, WindowMatch(class_="Code", title="api-service"))
    assert (replaced.class_, replaced.title) == ("Chromium", "main.py — api-service — Cursor")
    assert bind_match(window, title="API-SERVICE").title == "API-SERVICE"
    with pytest.raises(ValueError, match="'web' is not part of the window's title"):
        bind_match(window, title="web")


def test_a_covered_window_is_worth_retrying_and_a_misplaced_point_is_not():
    assert is_retryable(WindowCovered("covered")) and not is_retryable(PointOutsideWindow("outside"))


# -- resolve_target without a window -----------------------------------------------------------

def test_an_agent_without_a_window_gets_its_screen_point_without_any_display(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    legacy = GuiTransport(chat=(-1269, 481), onboarding=(-1265, 171))
    assert resolve_target(legacy, agent="Agent-1") == Target((-1269, 481))
    assert resolve_target(legacy, "onboarding").point == (-1265, 171)
    assert resolve_target(GuiTransport(chat=(5, 6)), "onboarding").point == (5, 6)
    assert Target((5, 6)).evidence == "screen point (5, 6); no window recorded"
    with pytest.raises(ValueError, match="'chat' or 'onboarding'"):
        resolve_target(legacy, "submit")


def test_an_agent_bound_to_a_window_is_refused_where_windows_cannot_be_checked(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    bound = GuiTransport(chat=(1, 2), window=WindowMatch(class_="Cursor"))
    with pytest.raises(PermanentError, match=r"^Agent-1 is bound to a window, which cannot be checked here: "
                                             r"no X display \(DISPLAY is not set\)$"):
        resolve_target(bound, agent="Agent-1")
