"""Did an agent's transcript region change since the previous look? Pixels, helped by damage.

``Changes.judge`` answers for one agent's look, given what the X server says was drawn in the
region since the previous look (``drawn``, root coordinates; None when not known):

- no earlier look of this region (the first, after a gap, or the region moved or was resized):
  the region is grabbed as the new baseline; None, no answer;
- nothing drawn there: no change, and no grab (the baseline is grabbed again if it is stale);
- something drawn after a quiet spell, or nothing known: the region is grabbed and compared with
  the baseline (:func:`~quarterdeck.core.activity.watch.pixels.differs`, so a caret or an
  identical repaint is no change);
- something drawn while the previous look said changed: a change, without a grab (the baseline
  is then stale). A transcript being written is drawn in every second; only the first change of a
  streak needs its pixels compared, so a working agent costs no grabs.

Rectangles at most ``CARET_WIDTH`` px wide (a caret blinking in the region) are not drawing.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from quarterdeck.core.activity.watch.pixels import CARET, STEP, differs
from quarterdeck.core.activity.watch.region import Rect, intersects

if TYPE_CHECKING:
    from quarterdeck.core.activity.watch.pixels import Look

__all__ = ["CARET_WIDTH", "Changes", "Verdict"]

CARET_WIDTH = CARET * STEP  # px


@dataclass
class _Baseline:
    window: int
    region: Rect
    look: Look
    stale: bool = False  # changes were taken from damage since it was grabbed
    changing: bool = False  # the previous look said changed


@dataclass(frozen=True)
class Verdict:
    """``changed``: True / False, or None for a first look; ``look``: the baseline now (None when
    stale); ``grabbed``: whether this look read the pixels."""

    changed: bool | None
    look: Look | None
    grabbed: bool


class Changes:
    """Each agent's baseline look; see the module docstring."""

    def __init__(self) -> None:
        self._baselines: dict[str, _Baseline] = {}

    def forget(self, agent: str) -> None:
        self._baselines.pop(agent, None)

    def judge(self, agent: str, window: int, region: Rect, drawn: list[Rect] | None,
              grab: Callable[[], Look]) -> Verdict:
        base = self._baselines.get(agent)
        if base is None or (base.window, base.region) != (window, region):
            look = grab()
            self._baselines[agent] = _Baseline(window, region, look)
            return Verdict(None, look, True)
        painted = None if drawn is None else [r for r in drawn if r[2] > CARET_WIDTH and intersects(r, region)]
        if painted == []:
            base.changing = False
            if base.stale:
                base.look, base.stale = grab(), False
                return Verdict(False, base.look, True)
            return Verdict(False, base.look, False)
        if painted and base.changing:
            base.stale = True
            return Verdict(True, None, False)
        look = grab()
        changed = differs(base.look, look)
        base.look, base.stale, base.changing = look, False, changed
        return Verdict(changed, look, True)
