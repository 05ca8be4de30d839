"""The demo swarm process: N simulated agent chat windows and the roster that reaches them.

Run as ``python -m quarterdeck.gui.demo.swarm --agents N --dir WORKDIR`` (``quarterdeck.gui.demo.DemoSwarm`` does). It
tiles the windows, waits until the window manager has placed them (every frame unchanged for
``stable_ms``), then writes ``WORKDIR/agents.yaml``: one gui agent per window whose chat point is
the physical-pixel centre of its message box. The file appears whole (written atomically) and only
once the points are final, so a reader may take its existence as "ready". A window moved or
resized later rewrites it. Transcripts go to ``WORKDIR/transcripts/<id>.txt``.

The process quits on SIGTERM or SIGINT, when its parent dies, or when the last window is closed,
and then removes its roster: the points no longer lead anywhere.
"""
from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication

from quarterdeck.core.desktop.window_match import nearest_anchor
from quarterdeck.core.model_check import checked
from quarterdeck.core.models import Agent, GuiTransport, WindowMatch
from quarterdeck.core.roster.roster import Roster, save_roster
from quarterdeck.gui.collector import collect_on_the_gui_thread
from quarterdeck.gui.demo.chatwindow import ChatWindow
from quarterdeck.gui.demo.layout import Rect, tile, to_physical
from quarterdeck.gui.demo.lifeline import Lifeline
from quarterdeck.gui.demo.transcript import FileWorker

__all__ = ["ROLES", "Swarm", "main"]

ROLES = ("api", "ui", "tests", "docs", "infra", "data", "review", "release", "perf", "security",
         "mobile", "ops")
MAX_AGENTS = len(ROLES)
ROSTER_NAME = "agents.yaml"


class Swarm(QObject):
    """The windows and their roster; ``show()`` starts waiting for placement."""

    sig_roster_written = Signal(object)  # the roster (quarterdeck.core.roster.roster.Roster) just queued for writing

    def __init__(self, count: int, workdir: Path, files: FileWorker, *, stable_ms: int = 200,
                 poll_ms: int = 50, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workdir = Path(workdir)
        self.roster_path = self.workdir / ROSTER_NAME
        self._files = files
        self._stable_polls = max(1, -(-stable_ms // poll_ms))
        self._still = 0
        self._last: tuple | None = None
        self._fitted = False
        self._written: tuple | None = None
        self._closed = False
        self.windows = [ChatWindow(f"Agent-{n}", f"demo: {ROLES[(n - 1) % len(ROLES)]}",
                                   self.workdir / "transcripts" / f"Agent-{n}.txt", files)
                        for n in range(1, count + 1)]
        screen = QApplication.primaryScreen()
        area = screen.availableGeometry()
        self.cells = tile(count, Rect(area.x(), area.y(), area.width(), area.height()))
        for window, cell in zip(self.windows, self.cells, strict=True):
            window.move(cell.x, cell.y)
            window.resize(cell.width, cell.height)
        self._poll = QTimer(self)
        self._poll.setInterval(poll_ms)
        self._poll.timeout.connect(self._on_poll_timeout)
        self._moved = QTimer(self)
        self._moved.setSingleShot(True)
        self._moved.setInterval(300)
        self._moved.timeout.connect(self._on_moved_timeout)

    @property
    def ready(self) -> bool:
        return self._written is not None

    def show(self) -> None:
        for window in self.windows:
            window.show()
        self._poll.start()

    def points(self) -> list[tuple[int, int]]:
        """Each window's message-box centre in physical screen pixels, as PyAutoGUI clicks."""
        result = []
        for window in self.windows:
            screen = window.screen()
            box = screen.geometry()
            centre = window.input_centre()
            result.append(to_physical((centre.x(), centre.y()), Rect(box.x(), box.y(), box.width(), box.height()),
                                      screen.devicePixelRatio()))
        return result

    def roster(self) -> Roster:
        """One gui agent per window, bound to it (its title), its input placed from the window's
        nearest corner: a delivery raises the window if the panel or anything else covers it."""
        agents = []
        for window, point in zip(self.windows, self.points(), strict=True):
            at = nearest_anchor(point, self._physical_rect(window))
            agents.append(Agent(id=window.agent_id, role=window.role, display_name=None, transport=GuiTransport(
                chat=point, onboarding=point, paste_keys=("ctrl", "v"), submit_keys=("enter",),
                urgent_submit_keys=("ctrl", "enter"), new_chat_keys=("ctrl", "t"),
                window=checked(WindowMatch, {"title": window.windowTitle()}),
                chat_in_window=at, onboarding_in_window=at)))
        return Roster(tuple(agents))

    @staticmethod
    def _physical_rect(window: ChatWindow) -> tuple[int, int, int, int]:
        screen = window.screen()
        box, ratio = screen.geometry(), screen.devicePixelRatio()
        where = Rect(box.x(), box.y(), box.width(), box.height())
        area = window.geometry()  # the client area, in global logical coordinates
        x, y = to_physical((area.x(), area.y()), where, ratio)
        right, bottom = to_physical((area.x() + area.width(), area.y() + area.height()), where, ratio)
        return x, y, right - x, bottom - y

    def close(self) -> None:
        """Stop watching, close the windows and remove the roster (queued after pending writes)."""
        self._closed = True
        self._poll.stop()
        self._moved.stop()
        for window in self.windows:
            window.close()
        self._files.call(functools.partial(self.roster_path.unlink, missing_ok=True))

    # -- placement --------------------------------------------------------------------------------

    def _snapshot(self) -> tuple:
        shown = []
        for window in self.windows:
            handle = window.windowHandle()
            centre = window.input_centre()
            shown.append((handle is not None and handle.isExposed(), window.frameGeometry().getRect(),
                          centre.x(), centre.y()))
        return tuple(shown)

    @Slot()
    def _on_poll_timeout(self) -> None:
        snapshot = self._snapshot()
        if snapshot != self._last or not all(exposed for exposed, *_ in snapshot):
            self._last, self._still = snapshot, 0
            return
        self._still += 1
        if self._still < self._stable_polls:
            return
        if not self._fitted:
            self._fitted = True
            if self._fit_frames():
                self._still = 0
                return
        self._poll.stop()
        self._write()
        for window in self.windows:
            window.sig_geometry_changed.connect(self._on_window_geometry_changed)

    def _fit_frames(self) -> bool:
        """Shrink windows whose frame (decorations included) spills out of their cell; True if any."""
        changed = False
        for window, cell in zip(self.windows, self.cells, strict=True):
            frame = window.frameGeometry()
            extra_w, extra_h = frame.width() - window.width(), frame.height() - window.height()
            if frame.width() > cell.width or frame.height() > cell.height:
                window.resize(max(cell.width - extra_w, window.minimumWidth()),
                              max(cell.height - extra_h, window.minimumHeight()))
                changed = True
        return changed

    def _write(self) -> None:
        roster = self.roster()
        points = tuple(agent.transport.chat for agent in roster.agents if isinstance(agent.transport, GuiTransport))
        if points == self._written:
            return
        self._written = points
        self._files.call(_SaveRoster(roster, self.roster_path))
        self.sig_roster_written.emit(roster)

    @Slot()
    def _on_window_geometry_changed(self) -> None:
        if not self._closed:
            self._moved.start()

    @Slot()
    def _on_moved_timeout(self) -> None:
        self._write()


class _SaveRoster:
    """A queued roster write (a named callable, so a failure names what failed)."""

    def __init__(self, roster: Roster, path: Path) -> None:
        self.roster, self.path = roster, path

    def __call__(self) -> None:
        save_roster(self.roster, self.path, backup=False)
        print(f"demo swarm: roster {self.path} written ({len(self.roster.agents)} agents)",
              file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m quarterdeck.gui.demo.swarm",
                                     description="Simulated agent chat windows for Quarterdeck's demo.")
    parser.add_argument("--agents", type=int, default=4, choices=range(1, MAX_AGENTS + 1), metavar="N",
                        help=f"how many chat windows (1 to {MAX_AGENTS}; default 4)")
    parser.add_argument("--dir", type=Path, required=True, metavar="WORKDIR",
                        help="where agents.yaml and transcripts/ are written")
    return parser


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    args = build_parser().parse_args(argv)
    workdir = args.dir.resolve()
    (workdir / ROSTER_NAME).unlink(missing_ok=True)
    for old in (workdir / "transcripts").glob("*.txt"):
        old.unlink()
    app = QApplication(sys.argv[:1])
    collect_on_the_gui_thread()  # its file thread must never collect the chat windows
    app.setApplicationName("Quarterdeck demo swarm")
    app.setStyle("Fusion")
    lifeline = Lifeline(os.getppid(), app.quit, app)
    files = FileWorker()
    swarm = Swarm(args.agents, workdir, files)

    def announce(roster: Roster) -> None:
        print(f"demo swarm: {len(roster.agents)} windows placed after "
              f"{(time.perf_counter() - started) * 1000:.0f} ms", file=sys.stderr, flush=True)

    swarm.sig_roster_written.connect(announce)
    swarm.show()
    try:
        code = app.exec()
    finally:
        swarm.close()
        files.drain()
        files.close()
        lifeline.close()
    for problem in files.errors:
        print(f"demo swarm: {problem}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
