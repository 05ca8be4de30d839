"""Evidence for a GUI delivery: the agent's input read back before the paste, after it, and after
the submit keys.

``InputWatch`` follows one input for one delivery through the accessibility bus
(``quarterdeck.core.desktop.atspi``), and decides what the delivery may claim:

- ``draft()`` after the click: text already in the input is a person's draft, never to be
  submitted with ours (the delivery pauses, nothing is typed);
- ``typed(text)`` after the paste: the input must hold the pasted text (``NotTyped`` when it is
  empty: safe to try again; ``TypedNotSubmitted`` when it holds something else: pasting again
  would pile text up);
- ``submitted()`` after the submit keys: the input must be empty again. ``False`` means the text
  stayed (the caller presses the keys once more, then gives up loudly); ``None`` means the input
  could no longer be read, so no claim either way.

Without an accessibility bus, or for a window whose application exposes no tree (xterm, an app
started without accessibility), ``watch_input`` returns None with the reason: that delivery ends
``unverified`` and says why.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from typing import TYPE_CHECKING

from quarterdeck.core.delivery.errors import NotTyped, TypedNotSubmitted

if TYPE_CHECKING:  # jeepney (the reader's bus) is imported only when a reader is made
    from quarterdeck.core.desktop.atspi import AccessibilityReader, InputHandle

__all__ = ["READ_BACK", "InputWatch", "shared_reader", "watch_input"]

log = logging.getLogger(__name__)

READ_BACK = "input read back by accessibility"
_NO_APP = "no accessible application belongs to process"  # the reader's reason when a process has no tree
_RECONNECT_AFTER = 10.0  # s between attempts to reach an accessibility bus that was not there

_reader: AccessibilityReader | None = None
_reader_tried = 0.0
_reader_lock = threading.Lock()


def shared_reader() -> AccessibilityReader | None:
    """The process's accessibility reader, or None while there is no bus (asked again at most
    every ``_RECONNECT_AFTER`` seconds, so a bus started later is found)."""
    global _reader, _reader_tried
    with _reader_lock:
        if _reader is not None:
            return _reader
        now = time.monotonic()
        if _reader_tried and now - _reader_tried < _RECONNECT_AFTER:
            return None
        _reader_tried = now
        try:
            from quarterdeck.core.desktop.atspi import accessibility_reader

            _reader = accessibility_reader()
        except Exception as exc:  # jeepney missing, a bus that answers nonsense: no evidence, no crash
            log.info("no accessibility read-back: %s", exc)
            _reader = None
        return _reader


def _squash(text: str) -> str:
    from quarterdeck.core.desktop.atspi_text import normalize

    return " ".join(normalize(text).split())


def _excerpt(text: str, limit: int = 40) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class InputWatch:
    """One agent input, read back over accessibility (see the module docstring)."""

    def __init__(self, reader: AccessibilityReader, handle: InputHandle, agent: str, first: str, *,
                 typed_within: float = 1.0, submitted_within: float = 1.0) -> None:
        self.reader = reader
        self.handle = handle
        self.agent = agent
        self.first = first  # the text found when the input was first read (after the click)
        self.typed_within = typed_within
        self.submitted_within = submitted_within

    def draft(self) -> str:
        """What the input held right after the click ("" when empty)."""
        return self.first if _squash(self.first) else ""

    def typed(self, text: str) -> None:
        """Return once the input holds ``text``; raise ``NotTyped`` / ``TypedNotSubmitted``."""
        want = _squash(text)
        seen = self.reader.read_until(self.handle, lambda now: _squash(now) == want, self.typed_within)
        if seen is None:
            raise NotTyped(f"{self.agent}'s input could not be read after the paste "
                           f"({self.reader.reason or 'it lost the focus'}); nothing submitted",
                           evidence=READ_BACK)
        got = _squash(seen)
        if got == want:
            return
        if not got:
            raise NotTyped(f"nothing reached {self.agent}'s input within {self.typed_within:g} s of the paste "
                           "(the pane refused it or was not ready); nothing submitted", evidence=READ_BACK)
        raise TypedNotSubmitted(
            f"{self.agent}'s input holds other text than the message after the paste "
            f"(“{_excerpt(seen)}”); not submitted: look at the pane before sending again", evidence=READ_BACK)

    def submitted(self) -> bool | None:
        """True once the input is empty after the submit keys, False if the text stays there, None
        when it can no longer be read (the chat replaced or unfocused the input)."""
        seen = self.reader.read_until(self.handle, lambda now: not _squash(now), self.submitted_within)
        if seen is None:
            return None
        return not _squash(seen)


def watch_input(agent: str, pid: int | None, title: str | None = None, *, timeout: float = 0.3,
                reader: AccessibilityReader | None = None) -> tuple[InputWatch | None, str]:
    """(a watch on the focused input of process ``pid``, "") or (None, why there is none).

    ``title``: the agent's window title, when known; the focused input must be in that window
    (an application with several windows reports the input of its active one)."""
    if pid is None:
        return None, "the window under the click names no process"
    reader = reader if reader is not None else shared_reader()
    if reader is None:
        return None, "no accessibility bus on this desktop"
    deadline = time.monotonic() + timeout
    while True:  # the click's focus reaches the accessibility tree a few ms after the window has it
        state = reader.focused_input(pid, timeout=max(0.05, deadline - time.monotonic()))
        fits = state is not None and (not title or not state.window_title
                                      or title in state.window_title or state.window_title in title)
        if fits or time.monotonic() >= deadline or _NO_APP in (reader.reason or ""):
            break  # found; or out of time; or the process exposes no tree at all (no use waiting)
        time.sleep(0.01)
    if state is None:
        return None, reader.reason or "no focused input found by accessibility"
    if not fits:
        return None, (f"the focused input is in the window {state.window_title!r}, not the agent's "
                      f"{title!r}")
    return InputWatch(reader, state.handle, agent, state.text), ""
