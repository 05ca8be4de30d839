"""Steps 2 and 3 of a tmux delivery, once the text showed: press the submit key, read the input
back until it tells whether the message left it (or say why it cannot tell).

Also the blind case: a line-mode terminal with echo off, where nothing pasted ever shows.
``t`` is the ``TmuxDelivery`` (its ``tmux`` client and ``kind``).
"""
from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from msgspec import Struct

from quarterdeck.core.delivery.contract import UNVERIFIED, Receipt
from quarterdeck.core.delivery.errors import SUBMITTED, TypedNotSubmitted
from quarterdeck.core.transports.tmux.profiles import SubmitProfile
from quarterdeck.core.transports.tmux.verdict import (
    BUSY,
    LINE_ENDED,
    InputState,
    Screen,
    busy_appeared,
    line_ended,
    read_input,
    submit_evidence,
)

if TYPE_CHECKING:
    from quarterdeck.core.transports.tmux.transport import TmuxDelivery

_POLL = 0.05
# The read-back after a press: the first look at once (tmux has handed the key over when the press
# returns, and a line-mode program or a quick TUI has answered by the time the look is read), then
# while nothing tells, 10 ms, 25 ms, then every _POLL. The verdict needs the same evidence at two
# looks in a row, and the look that confirms evidence comes _CONFIRM after the one that first
# showed it: a half-drawn frame does not last that long.
_FIRST_LOOKS = (0.0, 0.01, 0.025)
_CONFIRM = 0.025


class Typed(Struct, frozen=True):
    """How the pasted text showed up: the compacted text that stands for it, when, and what was seen."""

    marker: str  # compacted text that stands for the message in the input
    seconds: float
    what: str


def submit(
    t: TmuxDelivery, pane: str, where: str, keys: tuple[str, ...], profile: SubmitProfile, typed: Typed,
    seen: str, line_mode: bool, stop: threading.Event,
) -> Receipt:
    # The pane read again right before the first press, in the same tmux command (not the look that saw
    # the text: that frame may be half drawn, and a busy mark missing from it would seem to appear after
    # the key). What it shows is what the read-back compares with, and how many presses are allowed.
    pressed = time.monotonic()
    screen = t.tmux.screen_and_press(pane, keys)
    state = read_input(screen, typed.marker)
    # Pressed again only while the message visibly sits at the cursor; in line mode the kernel
    # ends the line on the first Enter, so a second one would only send an empty line.
    presses = profile.presses if state.at_cursor and not line_mode else 1
    for press in range(1, presses + 1):
        if press > 1:
            pressed = time.monotonic()
            t.tmux.press(pane, keys)
        outcome, evidence = _watch(t, pane, state, screen, typed.marker, profile, line_mode, stop)
        took = time.monotonic() - pressed
        if outcome == "submitted":
            times = "" if press == 1 else f" (press {press} of {profile.presses})"
            return Receipt(t.kind, SUBMITTED, evidence,
                           f"{where}, {profile.kind} profile: {seen}; {evidence} {took:.2f} s "
                           f"after the submit key{times}")
        if outcome == "stopped":
            return Receipt(t.kind, UNVERIFIED, "stopped before the submit could be checked",
                           f"{where}: {seen}; submit key pressed {press} time(s); stop-all came "
                           "before the input could be read back")
        if outcome == "unknown":
            why = ("no new line showed after Enter" if line_mode else
                   "the cursor is not at the message, so the input could not be read"
                   if not state.at_cursor else "the input could not be read after the submit key")
            return Receipt(t.kind, UNVERIFIED, why,
                           f"{where}, {profile.kind} profile: {seen}; submit key pressed {press} time(s); {why}")
    raise TypedNotSubmitted(
        f"TYPED, NOT SUBMITTED: the message is still in the input of {where} after {presses} "
        f"press(es) of {' '.join(keys)} ({profile.kind} profile); it will not be pasted again: "
        "submit or clear it in the pane by hand",
        evidence=f"still in the input after {presses} press(es) of the submit key")

def _watch(
    t: TmuxDelivery, pane: str, before: InputState, before_screen: Screen, marker: str,
    profile: SubmitProfile, line_mode: bool, stop: threading.Event,
) -> tuple[str, str]:
    """After a press: ("submitted", evidence), ("still", "") when the message sat at the cursor
    all along, ("unknown", "") when the screen does not tell, or ("stopped", "")."""
    deadline = time.monotonic() + profile.submitted_within
    last: str | None = None
    looks = 0
    while True:
        if last is not None:
            wait = _CONFIRM
        else:
            wait = _FIRST_LOOKS[looks] if looks < len(_FIRST_LOOKS) else _POLL
            looks += 1
        if stop.wait(wait):
            return "stopped", ""
        _, screen = t.tmux.screen(pane)
        evidence = None
        if line_mode and line_ended(before_screen, screen):
            evidence = LINE_ENDED
        elif before.at_cursor:
            evidence = submit_evidence(screen, marker)
        if evidence is None and busy_appeared(profile.busy, before_screen, screen):
            evidence = BUSY
        if evidence is not None and evidence == last:  # the same twice: not a half-drawn frame
            return "submitted", evidence
        last = evidence
        if time.monotonic() >= deadline:
            still = read_input(screen, marker).at_cursor and not line_mode
            return ("still", "") if still else ("unknown", "")

def blind(
    t: TmuxDelivery, pane: str, where: str, keys: tuple[str, ...], profile: SubmitProfile, stop: threading.Event
) -> Receipt:
    """A line-mode terminal with echo off (``stty -echo``, ``read -s``): the kernel holds the
    pasted text but none of it shows. Press the submit key once, give the program the profile's
    time to answer; whatever it does, tmux cannot tell whether the line arrived."""
    t.tmux.press(pane, keys)
    if stop.wait(profile.submitted_within):
        return Receipt(t.kind, UNVERIFIED, "stopped; the pane does not echo",
                       f"sent to {where} with the submit key; terminal echo is off there, and "
                       "stop-all came while waiting")
    return Receipt(t.kind, UNVERIFIED, "terminal echo is off in the pane",
                   f"sent to {where} with the submit key; terminal echo is off there, so whether "
                   "the line arrived cannot be seen")
