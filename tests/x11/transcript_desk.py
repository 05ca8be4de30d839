"""Real Chromium windows showing a chat transcript (pages/transcript.html), for the window watcher.

Each window is its own Chromium browser with its own fresh profile: a second window of one profile
ignores ``--window-position``, so windows that must sit side by side get a browser each.
``TranscriptWindow.ask()`` clicks into the page's input and presses Enter: the page's "agent" then
writes a line every ``every`` ms for ``lines`` lines and stops. Shared by tests/x11 and bench/.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from chromium_desk import FLAGS, _geometry, _search, _title_pattern, _xdotool, move_window
from xterm_desk import wait_until

PAGE = Path(__file__).with_name("pages") / "transcript.html"
_FLAGS = (*(f for f in FLAGS if f != "--force-renderer-accessibility"), "--disable-renderer-accessibility")
INPUT_FROM_BOTTOM = 32  # px from the window's bottom edge to the middle of the page's input


@dataclass
class TranscriptWindow:
    name: str
    window: int
    proc: subprocess.Popen = field(repr=False)
    profile: Path = field(repr=False)

    @property
    def title(self) -> str:
        return f"transcript-{self.name}"

    @property
    def geometry(self) -> tuple[int, int, int, int]:
        return _geometry(self.window)

    @property
    def input_point(self) -> tuple[int, int]:
        x, y, width, height = self.geometry
        return x + width // 2, y + height - INPUT_FROM_BOTTOM

    @property
    def is_open(self) -> bool:
        return self.window in _search(_title_pattern(self.title))

    def click_input(self) -> None:
        x, y = self.input_point
        _xdotool("mousemove", str(x), str(y), "click", "1")

    def ask(self, prompt: str = "go") -> None:
        """Type a prompt into the page's input and press Enter: the page's agent starts writing."""
        self.click_input()
        _xdotool("type", "--delay", "12", "--", prompt)
        _xdotool("key", "Return")

    def move(self, x: int, y: int) -> None:
        """Move the window (``xdotool windowmove``) until its own area's corner is at (x, y)."""
        move_window(self.window, self.title, x, y)

    def close(self) -> None:
        """End this window's browser and wait until the window is gone."""
        _stop(self.proc)
        wait_until(lambda: not self.is_open, f"{self.title} to close")
        shutil.rmtree(self.profile, ignore_errors=True)


def open_transcript(folder: Path, name: str, rect: tuple[int, int, int, int], *, lines: int = 10,
                    every: int = 300) -> TranscriptWindow:
    """A Chromium app window showing the transcript page for ``name`` at ``rect`` (x, y, w, h of
    the window's own area), returned once it is mapped there and the page has drawn."""
    profile = Path(folder) / f"chromium-{name}"
    profile.mkdir(parents=True, exist_ok=True)
    url = PAGE.as_uri() + "?" + urlencode({"name": name, "lines": lines, "every": every})
    x, y, width, height = rect
    log = open(profile.with_suffix(".log"), "ab")
    proc = subprocess.Popen(
        ["chromium", *_FLAGS, f"--user-data-dir={profile}", f"--window-position={x},{y}",
         f"--window-size={width},{height}", f"--app={url}"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    log.close()
    title = f"transcript-{name}"
    ids = wait_until(lambda: _search(_title_pattern(title)), f"a window titled {title!r}", timeout=30)
    chat = TranscriptWindow(name, ids[0], proc, profile)
    if chat.geometry != rect:  # the window manager placed it elsewhere: put it where asked
        _xdotool("windowsize", str(chat.window), str(width), str(height))
        wait_until(lambda: chat.geometry[2:] == (width, height), f"{title} to take its size", timeout=5)
        chat.move(x, y)
    time.sleep(1.0)  # the first paint after mapping and moving (Chromium paints asynchronously)
    return chat


def _stop(proc: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(5)
            return
        except subprocess.TimeoutExpired:
            continue


def close_all(windows: list[TranscriptWindow]) -> None:
    for window in windows:
        if window.proc.poll() is None:
            _stop(window.proc)
        shutil.rmtree(window.profile, ignore_errors=True)
