"""The real panel as its own process, watched by a probe and driven as a person drives it.

Tests on a real display start ``quarterdeck`` (``quarterdeck.gui.app`` or ``quarterdeck.cli.main``) in a subprocess, so
the panel runs exactly as a person starts it, and move the real pointer and keys with xdotool.
To know where to click and what the panel shows, a small probe runs inside that process: every
50 ms it calls the test's own state function, ``state(app, window)`` on the visible main window,
and writes what it returns to a JSON file atomically; ``ProbedPanel.state()`` reads it.

This module holds what those tests share, so each of them says only what it looks at:

- ``probe_source(state, *helpers)``: the probe script. The functions run in the panel's process,
  not in the test's: each is self-contained (its own imports) and may call the probe's helpers
  ``rect``, ``glob`` and ``centre`` (import them from here for readers and linters) and the
  helpers passed with it;
- ``ProbedPanel``: starts the probed panel with a private HOME, config and data folder; ``ready``,
  ``state``, ``wait`` and ``close``; ``roster_file`` writes the roster it is given;
- ``xdotool``, ``click``, ``key``, ``type_text``, ``screen_size``, ``shot`` (checked by
  ``check_screen``: the screen's size, and the named rectangles drawn, not the desktop),
  ``window_of``, ``shots_folder`` and ``needs``.
"""
from __future__ import annotations

import inspect
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest
import yaml
from xterm_desk import wait_until

ROOT = Path(__file__).resolve().parents[2]


# --- the probe's helpers: they run inside the panel's process -----------------------------------

def rect(r) -> list[int]:
    """A QRect as ``[x, y, width, height]``."""
    return [r.x(), r.y(), r.width(), r.height()]


def glob(widget, r=None) -> list[int]:
    """``r`` (in ``widget``'s coordinates; default: the whole widget) on the screen."""
    from PySide6.QtCore import QRect

    r = widget.rect() if r is None else r
    return rect(QRect(widget.mapToGlobal(r.topLeft()), r.size()))


def centre(widget, r=None) -> list[int]:
    """The centre of ``r`` (default: the whole widget) on the screen, as ``[x, y]``."""
    point = widget.mapToGlobal((widget.rect() if r is None else r).center())
    return [point.x(), point.y()]


def send_points(window, *, in_view: bool = False) -> dict:
    """Where a person clicks to send: each agent's fleet tile (only those in view if ``in_view``),
    the message box and Send."""
    from quarterdeck.gui.roster.model import AGENT_ID_ROLE

    roster, composer = window.panels["roster"], window.panels["composer"]
    fleet, model = roster.fleet, roster.model
    tiles = {}
    for row in range(model.rowCount()):
        tile = fleet.visualRect(model.index(row, 0))
        if not in_view or fleet.viewport().rect().contains(tile):
            tiles[model.index(row, 0).data(AGENT_ID_ROLE)] = centre(fleet.viewport(), tile)
    return {"tiles": tiles, "editor": centre(composer.editor), "send": centre(composer.send_button)}


_PRELUDE = """\
import importlib, json, os, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
out, entry, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
"""

_LOOP = """
def dump():
    window = next((w for w in app.topLevelWidgets() if w.objectName() == "quarterdeck-main"), None)
    if window is None or not window.isVisible():
        return
    found = {state}(app, window)
    with open(out + ".tmp", "w") as f:
        json.dump(found, f)
    os.replace(out + ".tmp", out)

timer = QTimer()
timer.timeout.connect(dump)
timer.start(50)
sys.exit(importlib.import_module(entry).main(argv))
"""


def probe_source(state: Callable, *helpers: Callable) -> str:
    """The probe script: ``python -c SOURCE STATE_FILE ENTRY ARGS…`` runs ``ENTRY.main(ARGS)``
    (``quarterdeck.gui.app`` or ``quarterdeck.cli.main``) and writes ``state(app, window)`` to STATE_FILE
    every 50 ms."""
    parts = [textwrap.dedent(inspect.getsource(f)) for f in (rect, glob, centre, *helpers, state)]
    return _PRELUDE + "\n\n".join(parts) + _LOOP.replace("{state}", state.__name__)


class ProbedPanel:
    """The panel in its own process (``ENTRY.main(argv)``) with a private HOME (``home``, created:
    its config, ``.config``, and ``data`` unless ``data_dir`` says otherwise). ``probe`` is the
    state function, then the helpers it calls; ``state()`` is what it last returned ({} before the
    window is up). Waits last ``patience`` seconds unless told otherwise. ``app.log`` in ``home``
    holds the panel's output."""

    def __init__(self, home: Path, probe: Sequence[Callable], argv: Sequence[str] = (), *,
                 entry: str = "quarterdeck.gui.app", env: Mapping[str, str] | None = None, data_dir: Path | None = None,
                 patience: float = 15.0) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.home = home
        self.data_dir = data_dir or home / "data"
        self.state_file = home / "state.json"
        self.patience = patience
        env = {k: v for k, v in (os.environ if env is None else env).items() if k != "QT_QPA_PLATFORM"}
        env.update({"HOME": str(home), "QUARTERDECK_CONFIG_DIR": str(home / "config"),
                    "QUARTERDECK_DATA_DIR": str(self.data_dir), "XDG_CONFIG_HOME": str(home / ".config"),
                    "PYTHONPATH": str(ROOT), "LC_ALL": "C.UTF-8"})
        self.log = open(home / "app.log", "wb")
        self.proc = subprocess.Popen([sys.executable, "-c", probe_source(*probe), str(self.state_file), entry,
                                      *argv], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def __enter__(self) -> ProbedPanel:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def ready(self, check: Callable[[dict], object], what: str, *, settle: float = 0.8,
              timeout: float = 60.0) -> dict:
        """Wait (the first start is slow) until ``check(state)``, then ``settle`` seconds more for
        the window's last placement; the state after that."""
        self.wait(check, what, timeout=timeout)
        time.sleep(settle)
        return self.state()

    def state(self) -> dict:
        assert self.proc.poll() is None, (self.home / "app.log").read_text(errors="replace")[-3000:]
        try:
            return json.loads(self.state_file.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def wait(self, check: Callable[[dict], object], what: str, timeout: float | None = None) -> dict:
        """The first state for which ``check`` is true (a TimeoutError naming ``what`` otherwise)."""
        return wait_until(lambda: (s := self.state()) and check(s) and s,
                          what, timeout=self.patience if timeout is None else timeout)

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def roster_file(folder: Path, agents: Sequence[Mapping]) -> Path:
    """``folder/agents.yaml`` listing ``agents`` (each a mapping as in the file: id, transport…)."""
    path = folder / "agents.yaml"
    path.write_text(yaml.safe_dump({"agents": [dict(agent) for agent in agents]}), encoding="utf-8")
    return path


# --- a person at the real pointer and keys --------------------------------------------------------

def needs(*tools: str):
    """A mark that skips the test where one of ``tools`` is not installed."""
    missing = [tool for tool in tools if shutil.which(tool) is None]
    return pytest.mark.skipif(bool(missing), reason=f"missing tools: {', '.join(missing)}")


def xdotool(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True, timeout=30)


def click(where: Sequence[int], *modifiers: str) -> None:
    """A left click at a point ``[x, y]`` or in the middle of a rectangle ``[x, y, width, height]``,
    holding ``modifiers`` (``"ctrl"``, ``"shift"``…) meanwhile."""
    x, y = (where[0] + where[2] // 2, where[1] + where[3] // 2) if len(where) == 4 else where
    for modifier in modifiers:
        xdotool("keydown", modifier)
    xdotool("mousemove", str(x), str(y))
    time.sleep(0.15)
    xdotool("click", "1")
    for modifier in reversed(modifiers):
        xdotool("keyup", modifier)
    time.sleep(0.25)


def key(*keys: str) -> None:
    xdotool("key", "--clearmodifiers", *keys)
    time.sleep(0.15)


def type_text(text: str, delay_ms: int = 15) -> None:
    xdotool("type", "--delay", str(delay_ms), "--", text)


def screen_size() -> str:
    """The display's size, ``"1920x1080"``."""
    out = subprocess.run(["xdpyinfo"], capture_output=True, text=True, check=True, timeout=10).stdout
    return next(line.split()[1] for line in out.splitlines() if "dimensions:" in line)


def shots_folder(variable: str, default: Path) -> Path:
    """Where a test saves its screenshots: the folder the environment ``variable`` names, else ``default``."""
    return Path(os.environ.get(variable) or default)


def shot(path: Path, showing: Mapping[str, Sequence[int]], timeout: float = 10.0) -> Path:
    """The whole screen as a PNG at ``path`` once ``check_screen(path, showing)`` passes: taken
    again until the window has painted (its last failure is raised after ``timeout`` seconds)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    while True:
        subprocess.run(["import", "-window", "root", str(path)], check=True, timeout=30)
        try:
            check_screen(path, showing)
            return path
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
        time.sleep(0.2)


def window_rect(window_id: str) -> list[int]:
    """Where an X window is on the screen, ``[x, y, width, height]`` (``xdotool getwindowgeometry``)."""
    out = subprocess.run(["xdotool", "getwindowgeometry", "--shell", window_id], capture_output=True, text=True,
                         check=True, timeout=10).stdout
    values = dict(line.split("=", 1) for line in out.split())
    return [int(values[k]) for k in ("X", "Y", "WIDTH", "HEIGHT")]


def window_of(pid: int, name: str | None = None) -> list[int]:
    """The rectangle of the visible window of process ``pid`` (named ``name``; the last one found)."""
    named = ["--name", name] if name else []
    found = subprocess.run(["xdotool", "search", "--onlyvisible", "--pid", str(pid), *named],
                           capture_output=True, text=True, check=True, timeout=10).stdout.split()
    return window_rect(found[-1])


def check_screen(path: Path, showing: Mapping[str, Sequence[int]]) -> None:
    """Assert that the screenshot at ``path`` is the whole screen and shows ``showing``.

    ``showing`` names rectangles ``[x, y, width, height]`` on the screen (the panel's window, a
    banner, a dialog…); each must be drawn: mostly not the desktop's colour (the commonest colour
    outside all of them) and in several colours (text, frames, icons). Tolerant on purpose: no
    reference image, any theme, any font."""
    pixels = screen_pixels(path)
    height, width = pixels.shape
    assert f"{width}x{height}" == screen_size(), f"{path.name}: {width}x{height} is not the screen"
    assert showing, "say what the screenshot must show"
    outside = np.ones(pixels.shape, dtype=bool)
    boxes = {}
    for name, (x, y, w, h) in showing.items():
        left, top, right, bottom = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
        assert right - left >= 10 and bottom - top >= 10, f"{path.name}: {name} {[x, y, w, h]} is not on the screen"
        boxes[name] = (slice(top, bottom), slice(left, right))
        outside[boxes[name]] = False
    desktop = None
    if outside.sum() >= 0.01 * outside.size:
        colours, counts = np.unique(pixels[outside], return_counts=True)
        desktop = colours[counts.argmax()]
    for name, box in boxes.items():
        region = pixels[box]
        distinct = len(np.unique(region))
        assert distinct >= 4, f"{path.name}: {name} is blank ({distinct} colours)"
        if desktop is not None:
            share = float((region == desktop).mean())
            assert share < 0.5, f"{path.name}: {name} is {share:.0%} the desktop's colour #{int(desktop):06x}"


def screen_pixels(path: Path) -> np.ndarray:
    """The PNG at ``path`` as rows of 0xRRGGBB values."""
    from PySide6.QtGui import QImage

    image = QImage(str(path))
    assert not image.isNull(), f"{path} is not an image"
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    per_row = image.bytesPerLine() // 4
    rows = np.frombuffer(image.constBits(), dtype=np.uint32, count=per_row * image.height())
    return rows.reshape(image.height(), per_row)[:, :image.width()] & 0xFFFFFF


def rerun_on_small_screen(test_file: str, test_name: str, size: str = "1366x768") -> None:
    """Run ``test_name`` of ``test_file`` again on a private display of ``size`` (a small laptop
    screen), skipping when this display already is that size (the test ran on it)."""
    if screen_size() == size:
        pytest.skip(f"this display is {size}: the test ran on it")
    env = {k: v for k, v in os.environ.items() if k not in ("QUARTERDECK_USE_DISPLAY", "QT_QPA_PLATFORM")}
    env["QUARTERDECK_SCREEN"] = f"{size}x24"
    done = subprocess.run([str(ROOT / "scripts" / "with-xvfb.sh"), sys.executable, "-m", "pytest", "-p",
                           "no:cacheprovider", "-q", f"{test_file}::{test_name}"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0 and "1 passed" in done.stdout, (done.stdout + done.stderr)[-6000:]
