"""Who has the mouse: the human-presence guard shared by every GUI delivery in this process.

Quarterdeck remembers where it last left the pointer. When the pointer is somewhere else before
the next delivery, a person has moved it since, and typing now would steal their keyboard focus
(or land in whatever they clicked): ``verify`` raises ``HumanActivity`` instead. When nothing was
typed yet the dispatcher turns it into ``Paused``: the delivery goes back to the queue, GUI
delivery pauses (no attempt counted, the breaker untouched) and the captain is told; when they
resume, ``forget()`` accepts the pointer wherever it is. Text already pasted but not submitted
is not retried (pasting again would double it): that delivery fails with the reason.

The guard also spaces clicks: two clicks on about the same spot within a double-click interval
select a word (or, in xterm, text that replaces the clipboard) instead of placing the caret.
"""
from __future__ import annotations

import threading
import time

from quarterdeck.core.delivery.errors import HumanActivity, RetryableError

__all__ = ["SHARED_GUARD", "DraftInInput", "PointerGuard"]

Point = tuple[int, int]


class DraftInInput(HumanActivity):
    """The agent's input already holds text a person typed: submitting ours would send theirs too.

    Handled like a person at the mouse: nothing was typed, the delivery goes back to the queue and
    GUI delivery pauses until the captain resumes (after sending or clearing the draft)."""

    def __init__(self, agent: str, draft: str, point: Point) -> None:
        flat = " ".join(draft.split())
        shown = flat if len(flat) <= 40 else flat[:39] + "…"
        RetryableError.__init__(
            self, f"{agent}'s input holds a draft (“{shown}”, {len(draft)} characters), nothing typed: "
                  "send or clear the draft, then resume")
        self.expected = self.actual = point
        self.pasted = False
        self.draft = draft


class PointerGuard:
    """Where and when Quarterdeck last clicked; thread-safe.

    ``tolerance`` is how far (in pixels, per axis) the pointer may drift and still count as
    untouched; ``click_gap`` and ``near`` define a repeated click on the same spot.
    """

    def __init__(self, *, tolerance: int = 2, click_gap: float = 0.3, near: int = 64) -> None:
        self.tolerance = tolerance
        self.click_gap = click_gap
        self.near = near
        self._lock = threading.Lock()
        self._placed: Point | None = None
        self._clicked: tuple[Point, float] | None = None

    @property
    def placed(self) -> Point | None:
        """Where Quarterdeck last left the pointer; None before its first click or after ``forget``."""
        with self._lock:
            return self._placed

    def _close(self, a: Point, b: Point, limit: int) -> bool:
        return abs(a[0] - b[0]) <= limit and abs(a[1] - b[1]) <= limit

    def same_place(self, a: Point, b: Point) -> bool:
        """True when ``a`` and ``b`` are the same place within ``tolerance``."""
        return self._close(a, b, self.tolerance)

    def verify(self, actual: Point, *, pasted: bool = False) -> None:
        """Raise ``HumanActivity`` if the pointer is not where Quarterdeck left it."""
        with self._lock:
            expected = self._placed
        if expected is not None and not self._close(expected, actual, self.tolerance):
            raise HumanActivity(expected, actual, pasted=pasted)

    def wait_before_click(self, point: Point, now: float | None = None) -> float:
        """Seconds to wait before clicking ``point`` so it cannot join the previous click."""
        now = time.monotonic() if now is None else now
        with self._lock:
            last = self._clicked
        if last is None or not self._close(last[0], point, self.near):
            return 0.0
        return max(0.0, last[1] + self.click_gap - now)

    def clicked(self, point: Point, at: float | None = None) -> None:
        """Record a click by Quarterdeck at ``point`` (where the pointer now rests)."""
        with self._lock:
            self._placed = point
            self._clicked = (point, time.monotonic() if at is None else at)

    def forget(self) -> None:
        """Accept the pointer wherever it is now (after the captain resumes GUI delivery)."""
        with self._lock:
            self._placed = None


SHARED_GUARD = PointerGuard()
"""The guard every ``GuiDelivery`` uses unless given its own: there is one pointer per desktop."""
