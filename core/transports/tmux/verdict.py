"""Reading a pane's screen: is the message still in the agent's input, and what says it left?

Pure functions over what tmux shows (the visible rows and the cursor), so they can be reasoned
about and tested without a pane. Text is compared *compacted*: whitespace and box-drawing
characters removed, so wrapped rows, padding and an input box's borders do not matter.

The input is the text just before the cursor: the cursor's row up to the cursor and the rows
above it, blank rows skipped. Right after the paste that text ends with the message. After the
submit key, once it no longer does and the message shows only above the cursor's row:
``output below the message`` when rows of output sit between the message and the cursor,
``prompt returned empty`` when the cursor sits after a bare prompt, else ``input cleared after
Enter``. While it still does, the message is still in the input, even with the cursor on a blank
row below it: an input box that took the Enter as a newline looks just like that.

A terminal in line (canonical) mode, as ``cat`` and a shell ``read`` loop leave it, has its input
in the kernel, which echoes what is typed: the kernel ends the line and hands it to the program
when Enter arrives, and echoes the newline, so the cursor moving down a row (or the screen
scrolling up by one) is the evidence there: ``new line after Enter``. Its screen need not end
with the message (a ``read -p`` loop prints its next prompt after the echo).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from msgspec import Struct

__all__ = [
    "InputState",
    "Screen",
    "busy_appeared",
    "compact",
    "haystack",
    "line_ended",
    "read_input",
    "submit_evidence",
    "tail_needle",
]

_TAIL_LINES = 3
_TAIL_CHARS = 300

INPUT_CLEARED = "input cleared after Enter"
PROMPT_EMPTY = "prompt returned empty"
OUTPUT_BELOW = "output below the message"
BUSY = "busy indicator appeared"
LINE_ENDED = "new line after Enter"


def _squash(line: str) -> str:
    return " ".join(line.split())


def tail_needle(text: str) -> str:
    """The part of ``text`` looked for in the pane: its last non-blank lines, whitespace collapsed."""
    lines = [s for s in (_squash(line) for line in text.splitlines()) if s]
    return " ".join(lines[-_TAIL_LINES:])[-_TAIL_CHARS:]


def haystack(capture: str) -> str:
    """A capture's non-blank lines, whitespace collapsed, joined by single spaces."""
    return " ".join(s for s in (_squash(line) for line in capture.splitlines()) if s)


def _is_frame(char: str) -> bool:
    # Box drawing (U+2500-257F) and block elements (U+2580-259F): input boxes, prompt bars.
    return "\u2500" <= char <= "\u259f"


def compact(text: str) -> str:
    """``text`` without whitespace or box-drawing characters."""
    return "".join(ch for ch in text if not ch.isspace() and not _is_frame(ch))


def _cells(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _prefix(row: str, cells: int) -> str:
    """The part of ``row`` in its first ``cells`` terminal columns."""
    used = 0
    for index, char in enumerate(row):
        used += _cells(char)
        if used > cells:
            return row[:index]
    return row


class Screen(Struct, frozen=True):
    """A pane's visible rows and its cursor (column, row), as ``capture-pane``/``#{cursor_x}`` give them."""

    rows: tuple[str, ...]
    cursor_x: int
    cursor_y: int

    def upto_cursor(self) -> list[str]:
        """The rows above the cursor's row, then that row up to the cursor."""
        y = min(max(self.cursor_y, 0), len(self.rows))
        rows = list(self.rows[:y])
        rows.append(_prefix(self.rows[y], self.cursor_x) if y < len(self.rows) else "")
        return rows

    def text(self) -> str:
        return "\n".join(self.rows)


class InputState(Struct, frozen=True):
    """Where the message stands relative to the cursor."""

    at_cursor: bool
    """The text before the cursor (blank rows skipped) ends with the message."""
    blank_rows: int
    """Blank rows between the end of that text and the cursor (the cursor's row counts if blank)."""

    @property
    def right_at_cursor(self) -> bool:
        """The message ends where the cursor is, not even a blank row between."""
        return self.at_cursor and self.blank_rows == 0


def read_input(screen: Screen, marker: str) -> InputState:
    """How ``marker`` (compacted) stands relative to the cursor of ``screen``."""
    rows = screen.upto_cursor()
    blank = 0
    while rows and not compact(rows[-1]):
        rows.pop()
        blank += 1
    return InputState(bool(marker) and compact("".join(rows)).endswith(marker), blank)


def _last_end_row(rows: Sequence[str], marker: str) -> int | None:
    """The row where the last occurrence of ``marker`` in ``rows`` ends, or None."""
    total = compact("".join(rows)).count(marker)
    if not total:
        return None
    for end in range(len(rows)):
        if compact("".join(rows[: end + 1])).count(marker) == total:
            return end
    return None


def submit_evidence(screen: Screen, marker: str) -> str | None:
    """What shows the message left the input it sat in, at the cursor, before the submit key; None
    while it still ends right above the cursor (an input box may have taken the Enter as a
    newline) or the screen does not tell."""
    if read_input(screen, marker).at_cursor:
        return None
    end = _last_end_row(screen.rows, marker)
    if end is None:
        return INPUT_CLEARED
    if end >= screen.cursor_y:
        return None  # the message is still on or below the cursor's row: no evidence
    rows = screen.upto_cursor()
    if any(compact(row) for row in rows[end + 1: -1]):
        return OUTPUT_BELOW
    if compact(rows[-1]):
        return PROMPT_EMPTY
    return INPUT_CLEARED


def busy_appeared(patterns: Sequence[str], before: Screen, after: Screen) -> bool:
    """One of the agent's busy indicators shows now and did not before the submit key."""
    for pattern in patterns:
        regex = re.compile(pattern)
        if regex.search(after.text()) and not regex.search(before.text()):
            return True
    return False


def line_ended(before: Screen, after: Screen) -> bool:
    """The cursor went down a row since ``before`` or, on the last row, the screen scrolled up."""
    if after.cursor_y > before.cursor_y:
        return True
    y = before.cursor_y
    if after.cursor_y != y or y == 0 or y >= len(before.rows) or y > len(after.rows):
        return False
    # On the bottom row a newline scrolls: the old cursor row is now one row up.
    return (y == len(before.rows) - 1 and after.rows[y - 1].rstrip() == before.rows[y].rstrip()
            and after.rows[: y - 1] == before.rows[1:y])
