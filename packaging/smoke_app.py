"""Smoke-run a built one-folder Quarterdeck (``make app`` runs it on dist/quarterdeck).

A frozen app fails in ways the test suite cannot see: a module PyInstaller did not find, a Qt
plugin left out, data files in the wrong place. So every check here runs the built executable
itself, in a throw-away config/data/home folder:

* ``--version`` names the version in pyproject.toml;
* ``rules check`` finds the rule files inside the bundle, not in the source tree;
* the panel opens offscreen (no display) and quits on its own, exit code 0;
* with a display (``scripts/with-xvfb.sh``): the panel opens on X11 with its window class and its
  SVG icon (the Qt SVG plugins work), and the demo swarm started as ``quarterdeck -m
  quarterdeck.gui.demo.swarm`` receives a message that ``quarterdeck send`` types into it, which needs
  PyAutoGUI, python-xlib and the clipboard code to work frozen.

Usage: ``python packaging/smoke_app.py dist/quarterdeck``; exit code 1 if any check failed.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PANEL_TIMEOUT = 60.0


class SmokeError(Exception):
    """A check's finding, printed as the reason it failed."""


class Smoke:
    """The app under test and a private environment (no real home folder is touched)."""

    def __init__(self, app_dir: Path, work: Path) -> None:
        self.app_dir = app_dir.resolve()
        self.exe = self.app_dir / "quarterdeck"
        self.work = work
        home = work / "home"
        self.env = {key: value for key, value in os.environ.items()
                    if not key.startswith(("QUARTERDECK_", "QT_", "XDG_"))}
        self.env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
                        XDG_DATA_HOME=str(home / ".local/share"), XDG_CACHE_HOME=str(home / ".cache"),
                        QUARTERDECK_CONFIG_DIR=str(work / "config"),
                        QUARTERDECK_DATA_DIR=str(work / "data"))
        (work / "config").mkdir(parents=True, exist_ok=True)
        # an empty roster: a panel started without one would launch the demo swarm
        (work / "config" / "agents.yaml").write_text("agents: []\n", encoding="utf-8")

    def run(self, *args: str, env: dict[str, str] | None = None,
            timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run([str(self.exe), *args], cwd=self.work, env=env or self.env,
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise SmokeError(f"`quarterdeck {' '.join(args)}` still running after {timeout:g} s") from exc

    def ok(self, *args: str, env: dict[str, str] | None = None, timeout: float = 30.0) -> str:
        done = self.run(*args, env=env, timeout=timeout)
        if done.returncode != 0:
            raise SmokeError(f"`quarterdeck {' '.join(args)}` exited {done.returncode}:\n"
                             f"{done.stdout}{done.stderr}")
        return done.stdout

    def log_text(self) -> str:
        log = self.work / "data" / "logs" / "quarterdeck.log"
        return log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""


def check_version(smoke: Smoke) -> str:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        version = tomllib.load(handle)["project"]["version"]
    out = smoke.ok("--version").strip()
    if out != f"quarterdeck {version}":
        raise SmokeError(f"--version printed {out!r}, expected 'quarterdeck {version}'")
    return out


def check_rules(smoke: Smoke) -> str:
    out = smoke.ok("rules", "check")
    bundled = smoke.app_dir / "_internal" / "rules"
    if f"{bundled}/security.yaml" not in out:
        raise SmokeError(f"rules did not come from the bundle ({bundled}):\n{out}")
    return out.split(" (", 1)[0]


def check_panel_offscreen(smoke: Smoke) -> str:
    env = {k: v for k, v in smoke.env.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    started = time.monotonic()
    smoke.ok("gui", "--quit-after", "500", env=env, timeout=PANEL_TIMEOUT)
    if "panel up in" not in smoke.log_text():
        raise SmokeError(f"the panel exited 0 but never came up; log:\n{smoke.log_text()[-2000:]}")
    return f"opened and quit in {time.monotonic() - started:.1f} s"


def _x(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, timeout=10).stdout


def check_panel_x11(smoke: Smoke) -> str:
    panel = subprocess.Popen([str(smoke.exe), "gui", "--quit-after", "5000"], cwd=smoke.work,
                             env=smoke.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        windows: list[str] = []
        while not windows and time.monotonic() < deadline and panel.poll() is None:
            time.sleep(0.2)
            windows = _x("xdotool", "search", "--onlyvisible", "--name", "^Quarterdeck$").split()
        if not windows:
            raise SmokeError("no visible 'Quarterdeck' window appeared on the X display")
        props = _x("xprop", "-id", windows[0], "WM_CLASS", "_NET_WM_ICON")
        deadline = time.monotonic() + 10  # the icon property is set right after mapping
        while "_NET_WM_ICON(CARDINAL)" not in props and time.monotonic() < deadline and panel.poll() is None:
            time.sleep(0.1)
            props = _x("xprop", "-id", windows[0], "WM_CLASS", "_NET_WM_ICON")
        if '"Quarterdeck"' not in props.splitlines()[0]:
            raise SmokeError(f"unexpected window class: {props.splitlines()[0]}")
        if "_NET_WM_ICON(CARDINAL)" not in props:
            raise SmokeError("the window has no icon: the Qt SVG plugins did not load assets/quarterdeck.svg")
        code = panel.wait(PANEL_TIMEOUT)
    finally:
        if panel.poll() is None:
            panel.kill()
            panel.wait()
    if code != 0:
        raise SmokeError(f"the panel exited {code}:\n{panel.stdout.read() if panel.stdout else ''}")
    return "window class Quarterdeck, SVG icon set, exit 0"


def check_demo_delivery(smoke: Smoke) -> str:
    workdir = smoke.work / "demo"
    with (smoke.work / "swarm.log").open("wb") as log:
        swarm = subprocess.Popen([str(smoke.exe), "-m", "quarterdeck.gui.demo.swarm", "--agents", "2", "--dir",
                                  str(workdir)], cwd=smoke.work, env=smoke.env, stdout=log,
                                 stderr=subprocess.STDOUT)
    try:
        roster = workdir / "agents.yaml"
        deadline = time.monotonic() + 30
        while not roster.exists():
            if swarm.poll() is not None or time.monotonic() > deadline:
                raise SmokeError("the frozen demo swarm wrote no roster:\n"
                                 + (smoke.work / "swarm.log").read_text(errors="replace"))
            time.sleep(0.1)
        agent = json.loads(smoke.ok("agents", "list", "--json", "--roster", str(roster)))[0]["id"]
        text = f"Frozen smoke test {time.time():.0f}: please acknowledge."
        out = smoke.ok("send", "--roster", str(roster), "-a", agent, "-m", text, timeout=60)
        transcript = workdir / "transcripts" / f"{agent}.txt"
        deadline = time.monotonic() + 10
        while text not in (transcript.read_text(encoding="utf-8") if transcript.exists() else ""):
            if time.monotonic() > deadline:
                raise SmokeError(f"`send` said {out.strip()!r} but {agent}'s window never got the text")
            time.sleep(0.1)
    finally:
        swarm.terminate()
        try:
            swarm.wait(10)
        except subprocess.TimeoutExpired:
            swarm.kill()
            swarm.wait()
    return f"{agent} received the message typed by `quarterdeck send`"


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not (Path(argv[0]) / "quarterdeck").is_file():
        print("usage: smoke_app.py DIST_DIR  (the folder holding the quarterdeck executable)",
              file=sys.stderr)
        return 2
    checks: list[tuple[str, Callable[[Smoke], str]]] = [
        ("version", check_version), ("rules check", check_rules),
        ("panel offscreen", check_panel_offscreen)]
    if os.environ.get("DISPLAY") and shutil.which("xdotool") and shutil.which("xprop"):
        checks += [("panel on X11", check_panel_x11), ("demo swarm delivery", check_demo_delivery)]
    else:
        print("skip: X11 checks (no DISPLAY, xdotool or xprop; run under scripts/with-xvfb.sh)")
    failed = 0
    for name, check in checks:
        with tempfile.TemporaryDirectory(prefix="quarterdeck-smoke-") as work:
            started = time.monotonic()
            try:
                detail = check(Smoke(Path(argv[0]), Path(work)))
            except SmokeError as exc:
                failed += 1
                print(f"FAIL  {name}: {exc}")
                continue
            print(f"ok    {name} ({time.monotonic() - started:.1f} s): {detail}")
    print(f"{len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
