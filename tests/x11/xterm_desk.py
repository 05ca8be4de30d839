"""Real xterm windows as stand-in chat panes, on the display scripts/with-xvfb.sh provides.

Each xterm runs ``cat > FILE``: the file receives exactly the bytes the terminal's line discipline
passes on (Enter and pasted newlines arrive as ``\\n``; the echo goes to the screen, not the file).
xterm pastes the CLIPBOARD selection with Shift+Insert when ``selectToClipboard`` is on.

Shared by the tests in this folder (through conftest.py) and by bench/bench_gui_delivery.py.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import polling

XTERM_PASTE = ("shift", "insert")
TOOLS = ("xterm", "xdotool", "xclip")
_GRID_X = (40, 520, 1000, 1480)
_GRID_Y = (60, 320, 580, 840)


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


wait_until = partial(polling.wait_until, every=0.02)  # the X11 tests' own pace of looking


@dataclass
class Xterm:
    name: str
    proc: subprocess.Popen
    out: Path
    x: int = 0
    y: int = 0
    width: int = 0
    height: int = 0

    @property
    def point(self) -> tuple[int, int]:
        """The middle of the terminal: a click there focuses it."""
        return self.x + self.width // 2, self.y + self.height // 2

    def read(self) -> bytes:
        return self.out.read_bytes()

    def wait_for(self, expected: bytes, timeout: float = 10.0) -> bytes:
        """The file's bytes once they equal or outgrow ``expected``, else when ``timeout`` is up."""
        deadline = time.monotonic() + timeout
        while True:
            data = self.read()
            if data == expected or len(data) >= len(expected) or time.monotonic() >= deadline:
                return data
            time.sleep(0.005)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None


def _geometry(window: str) -> dict[str, int]:
    out = subprocess.run(["xdotool", "getwindowgeometry", "--shell", window],
                         capture_output=True, text=True, check=True, timeout=10).stdout
    pairs = dict(line.split("=", 1) for line in out.split())
    return {key: int(pairs[key]) for key in ("X", "Y", "WIDTH", "HEIGHT")}


class XtermPool:
    """Starts xterms on a 4x4 grid (80x10 cells each) writing into ``folder``; ``close()`` ends them."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.started: list[Xterm] = []

    def start(self, count: int) -> list[Xterm]:
        batch = []
        for _ in range(count):
            index = len(self.started)
            name = f"qd-agent-{index}-{os.getpid()}"
            out = self.folder / f"agent-{index}.txt"
            x, y = _GRID_X[index % len(_GRID_X)], _GRID_Y[index // len(_GRID_X) % len(_GRID_Y)]
            proc = subprocess.Popen(
                ["xterm", "-xrm", "XTerm*selectToClipboard: true", "-title", name,
                 "-geometry", f"80x10+{x}+{y}", "-e", "sh", "-c", 'exec cat > "$0"', str(out)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env={**os.environ, "LC_ALL": "C.UTF-8"},
            )
            term = Xterm(name, proc, out)
            self.started.append(term)
            batch.append(term)
        for term in batch:
            found = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--name", term.name],
                                   capture_output=True, text=True, check=True, timeout=20)
            geometry = _geometry(found.stdout.split()[0])
            term.x, term.y, term.width, term.height = (geometry[k] for k in ("X", "Y", "WIDTH", "HEIGHT"))
            wait_until(term.out.exists, f"{term.name} to start cat")
        return batch

    def close(self) -> None:
        for term in self.started:
            if term.alive:
                term.proc.terminate()
        for term in self.started:
            try:
                term.proc.wait(10)
            except subprocess.TimeoutExpired:
                term.proc.kill()
                term.proc.wait()


def move_pointer(x: int, y: int) -> None:
    """Move the pointer from another process, as a person would."""
    subprocess.run(["xdotool", "mousemove", str(x), str(y)], check=True, timeout=10)


def user_copies(data: bytes, target: str | None = None) -> None:
    """Another application (a detached xclip) takes the clipboard with ``data``."""
    subprocess.run(["xclip", "-selection", "clipboard", "-i", *(["-t", target] if target else [])],
                   input=data, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=10)
    # xclip -i returns before its background half owns the clipboard: wait until it serves the copy
    wait_until(lambda: clipboard_bytes(target) == data, "xclip to own the clipboard", timeout=5)


def clipboard_bytes(target: str | None = None) -> bytes | None:
    """What pasting would give now (None: the clipboard is empty)."""
    done = subprocess.run(["xclip", "-selection", "clipboard", "-o", *(["-t", target] if target else [])],
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    return done.stdout if done.returncode == 0 else None
