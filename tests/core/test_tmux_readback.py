"""The read-back after the submit key (core/transports/tmux/submit.py): its first look comes right after the
press, and a verdict still takes the same evidence at two looks in a row, at least 25 ms apart, so a frame
seen once (half drawn) is not taken for a submit.

The pane is a scripted sequence of screens (what ``capture-pane`` would show at each look); the rules
that read them are the real ones (verdict.py)."""
from __future__ import annotations

import threading
import time

import pytest

from quarterdeck.core.delivery.errors import SUBMITTED, TypedNotSubmitted
from quarterdeck.core.transports.tmux.profiles import profile_for
from quarterdeck.core.transports.tmux.submit import Typed, submit
from quarterdeck.core.transports.tmux.verdict import Screen, compact

TEXT = "fix the bug"
TYPED = Screen(("$ cat", TEXT), len(TEXT), 1)  # the message at the cursor, before the key
CLEARED = Screen(("> ", "", ""), 2, 0)  # the input emptied: no copy of the message left on the screen


class Pane:
    """Answers each ``screen`` with the next scripted screen (the last one repeats) and notes the time of
    each look and of each press."""

    def __init__(self, *after_press: Screen) -> None:
        self.after_press = list(after_press)
        self.looks: list[float] = []
        self.presses: list[float] = []
        self.before_press = 0  # reads before the first press

    def screen(self, pane: str, depth: int = 0) -> tuple[str, Screen]:
        if not self.presses:
            self.before_press += 1
            return TYPED.text(), TYPED
        self.looks.append(time.monotonic())
        shown = self.after_press[min(len(self.looks) - 1, len(self.after_press) - 1)]
        return shown.text(), shown

    def press(self, pane: str, keys: tuple[str, ...]) -> None:
        self.presses.append(time.monotonic())

    def screen_and_press(self, pane: str, keys: tuple[str, ...]) -> Screen:
        """The pane read right before the key, in the same tmux command (``TmuxClient.screen_and_press``)."""
        _, shown = self.screen(pane)
        self.press(pane, keys)
        return shown


class Delivery:
    kind = "tmux"

    def __init__(self, pane: Pane) -> None:
        self.tmux = pane


def send(pane: Pane, submitted_within: float = 1.0) -> tuple[str, str]:
    profile = profile_for("plain", {"submitted_within": submitted_within, "presses": 1})
    receipt = submit(Delivery(pane), "%1", "tmux pane s:0.0", ("Enter",), profile,  # type: ignore[arg-type]
                     Typed(compact(TEXT), 0.01, "text seen"), "text seen", False, threading.Event())
    return receipt.verdict, receipt.evidence


def test_the_first_look_is_right_after_the_key_and_the_confirming_one_at_least_25_ms_later():
    pane = Pane(CLEARED)
    assert send(pane) == (SUBMITTED, "input cleared after Enter")
    assert len(pane.looks) == 2
    assert pane.looks[0] - pane.presses[0] < 0.01  # no wait before it (10 ms came first before)
    assert pane.looks[1] - pane.looks[0] >= 0.025


def test_evidence_seen_at_one_look_only_is_no_verdict():
    # a frame with the input blank for one look (a redraw caught half way), then the message back at the cursor
    pane = Pane(CLEARED, TYPED, TYPED)
    with pytest.raises(TypedNotSubmitted):  # the message sat at the cursor to the end: typed, not submitted
        send(pane, submitted_within=0.3)
    assert len(pane.looks) >= 3


def test_while_nothing_tells_the_looks_slow_to_a_50_ms_pace_and_evidence_is_confirmed_25_ms_later():
    pane = Pane(TYPED, TYPED, TYPED, TYPED, CLEARED)
    assert send(pane) == (SUBMITTED, "input cleared after Enter")
    gaps = [b - a for a, b in zip(pane.looks, pane.looks[1:], strict=False)]
    assert len(gaps) == 5
    assert gaps[0] >= 0.01 and gaps[1] >= 0.025 and gaps[2] >= 0.05 and gaps[3] >= 0.05
    assert 0.025 <= gaps[4] < 0.05  # the confirming look does not wait for the 50 ms pace


def test_evidence_that_changes_between_looks_is_no_verdict_until_one_shows_twice():
    # the input cleared, then output appeared below where the message was: two different readings
    output = Screen(("$ cat", TEXT, "working on it", ""), 0, 3)
    pane = Pane(CLEARED, output, output)
    assert send(pane) == (SUBMITTED, "output below the message")
    assert len(pane.looks) == 3 and pane.looks[2] - pane.looks[1] >= 0.025


def test_the_pane_is_read_again_right_before_the_key():
    """Not the look that saw the text: that frame may be half drawn (a busy mark missing from it would
    seem to appear after the key)."""
    pane = Pane(CLEARED)
    assert send(pane) == (SUBMITTED, "input cleared after Enter")
    assert pane.before_press == 1
