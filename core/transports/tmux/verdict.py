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
when Enter arrives, and echoes the newline, so the cursor moving down a row is the evidence there:
``new line after Enter``. Its screen need not end with the message (a ``read -p`` loop prints its
next prompt after the echo). Once the output has reached the bottom row every new line scrolls the
screen instead, so the cursor stays on the bottom row (``cat`` echoing the line back scrolls it by
two): there the rows scrolled up are counted by tmux's history (``#{history_size}`` grows by one
per row), and the evidence is the rows down to the old cursor's row showing that many rows higher,
with the cursor below them. Where the count allows that nothing scrolled, rows that only look
shifted (the same line again and again) are no evidence; where there is no count (no history
kept, an alternate screen) only a scroll by one row is recognised, by the rows alone.
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
    "scrolled",
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
    history: int = 0
    """Lines in the pane's history (``#{history_size}``): one more for each row the screen scrolls up."""
    history_limit: int = 0
    """The most lines that history keeps (``#{history_limit}``); 0 when it keeps none, in the
    alternate screen (where rows scrolled off are not kept) or when not known."""

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


def scrolled(before: Screen, after: Screen) -> tuple[int, ...] | None:
    """The numbers of rows, 0 up to ``before``'s cursor row, that the screen may have scrolled up from
    ``before`` to ``after`` as its history counts them; None without a count. A full history drops
    its oldest tenth (at least one line) when the next row comes, so the count is followed row by row,
    and with a small history limit more than one number can fit."""
    limit = before.history_limit
    if limit <= 0:
        return None
    size, fits = before.history, []
    for rows in range(max(before.cursor_y, 0) + 1):
        if size == after.history:
            fits.append(rows)
        if size >= limit:
            size -= min(max(1, limit // 10), size)
        size += 1
    return tuple(fits)


def _shifted(before: Screen, after: Screen, rows: int) -> bool:
    """``before``'s rows down to its cursor's row show ``rows`` rows higher in ``after``, the cursor below them."""
    y = before.cursor_y
    if not 0 < rows <= y < len(before.rows) or len(after.rows) <= y - rows or after.cursor_y <= y - rows:
        return False
    return ([row.rstrip() for row in after.rows[: y - rows + 1]]
            == [row.rstrip() for row in before.rows[rows: y + 1]])


def line_ended(before: Screen, after: Screen) -> bool:
    """The cursor went down a row since ``before``, or the screen scrolled up with the old cursor's row
    in it, intact, above the cursor now."""
    if after.cursor_y > before.cursor_y:
        return True
    counts = scrolled(before, after)
    if counts is None:  # no count: on the bottom row a newline scrolls by one, the old cursor row one row up
        return before.cursor_y == len(before.rows) - 1 and _shifted(before, after, 1)
    # Only where the count rules out that nothing scrolled: rows that repeat (the same line sent
    # again and again) look shifted on a screen that did not move.
    return 0 not in counts and any(_shifted(before, after, rows) for rows in counts)
