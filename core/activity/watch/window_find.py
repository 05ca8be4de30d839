"""Finding every watched agent's window once a sample, reading each window as little as can be.

``WindowFinder.find(match, agent)`` gives the answer ``Desk.find`` gives (``window_match.choose``
over the open application windows: the recorded id first, else class and title, one window
only), but over many agents in one sample: the client list is read once a sample, a window's
WM_CLASS and pid once for its life (they do not change), its title at most once a sample and only
for windows of a class some agent asks for, and the geometry only of the window chosen, again
only after a top-level window was mapped, moved or restacked (``begin(restacked)``). Asking
``Desk.find`` for each of 8 agents among 8 windows of one class read every title 8 times
(~30 round trips an agent); this reads each once.

Call ``begin()`` at the start of each sample, with the desk's lock held for each ``find``.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from quarterdeck.core.desktop.window_match import Window, WindowNotFound, choose, class_matches
from quarterdeck.core.models import WindowMatch

try:
    from Xlib.error import XError
except ImportError:  # no python-xlib: there is no Desk either, so this is never raised
    XError = OSError

if TYPE_CHECKING:
    from quarterdeck.core.desktop.x11.desk import Desk

__all__ = ["WindowFinder"]


class WindowFinder:
    """See the module docstring."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self._ids: list[int] | None = None
        self._classes: dict[int, tuple[str, str]] = {}  # for the window's life
        self._pids: dict[int, int | None] = {}  # for the window's life
        self._titles: dict[int, str] = {}  # this sample's
        self._geometry: dict[int, Window] = {}  # until a top-level window moves (begin)

    def begin(self, restacked: bool = True) -> None:
        """A new sample; ``restacked`` False: no top-level window was mapped, unmapped, moved,
        resized or restacked since the previous one, so the geometry read then still holds."""
        self._ids = None
        self._titles = {}
        if restacked:
            self._geometry = {}

    def _client_ids(self) -> list[int]:
        if self._ids is None:
            self._ids = self.desk._client_ids()  # bottom to top
            alive = set(self._ids)
            for cache in (self._classes, self._pids):
                for wid in set(cache) - alive:
                    del cache[wid]
        return self._ids

    def _wm_class(self, wid: int) -> tuple[str, str]:
        if wid not in self._classes:
            self._classes[wid] = self.desk._wm_class(self.desk._window(wid))
        return self._classes[wid]

    def _pid(self, wid: int) -> int | None:
        if wid not in self._pids:
            self._pids[wid] = self.desk._pid(self.desk._window(wid))
        return self._pids[wid]

    def _title(self, wid: int) -> str:
        if wid not in self._titles:
            self._titles[wid] = self.desk._title(self.desk._window(wid))
        return self._titles[wid]

    def find(self, match: WindowMatch, agent: str = "the agent") -> Window:
        """The agent's window with its geometry read now; ``WindowNotFound``/``WindowAmbiguous``."""
        by_pid_only = match.class_ is None and match.title is None
        candidates: list[Window] = []
        for index, wid in enumerate(self._client_ids()):
            try:
                wm_class = self._wm_class(wid)
                if not (class_matches(match.class_, wm_class) or wid == match.id or by_pid_only):
                    continue
                pid = self._pid(wid) if match.pid is not None or by_pid_only else None
                if by_pid_only and pid != match.pid and wid != match.id:
                    continue
                candidates.append(Window(wid, wm_class, self._title(wid), pid, stacking=index))
            except XError:  # closed while we looked
                continue
        found = choose(match, candidates, agent)
        known = self._geometry.get(found.id)
        if known is not None:
            return replace(known, title=found.title, stacking=found.stacking)
        chosen = self.desk._complete(found)
        if chosen is None:
            raise WindowNotFound(f"{agent}'s window is not open: it closed while being looked at", retryable=True)
        self._geometry[found.id] = chosen
        return chosen
