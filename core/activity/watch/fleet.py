"""The watchers a roster needs: one for all its tmux panes, one for all its windows.

A tmux agent is watched with the patterns of its kind: the roster's ``agent:`` when set, else the
kind its pane's current command names, else (the CLIs that run under ``node``: Codex, Gemini CLI)
the kind a process in the pane names in its command line (Linux ``/proc``). It is read once, when
the watchers are built, so a CLI started in the pane later is watched as ``plain`` until the
roster changes or says its kind. A gui agent is
watched when it is bound to its window (``window:`` in the roster) and there is an X display.
Disabled agents are not watched.
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

from quarterdeck.core.activity.watch.panes import TmuxPaneWatcher, WatchedPane
from quarterdeck.core.activity.watch.service import Watcher
from quarterdeck.core.models import GuiTransport, TmuxTransport
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.transports.tmux.profiles import detect_kind

log = logging.getLogger(__name__)

PLAIN = "plain"


def _children(proc: Path) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for stat in proc.glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        found.setdefault(ppid, []).append(int(stat.parent.name))
    return found


def process_kind(pid: int, proc: Path = Path("/proc")) -> str | None:
    """The agent kind that ``pid`` or a process under it names in its command line (``node
    .../codex.js`` is Codex), nearest first; None when none does or there is no ``/proc``."""
    if not proc.is_dir():
        return None
    children = _children(proc)
    queue = [pid]
    while queue:
        current = queue.pop(0)
        try:
            argv = (proc / str(current) / "cmdline").read_bytes().split(b"\0")
        except OSError:
            argv = []
        for arg in argv[:2]:
            name = Path(arg.decode("utf-8", "replace")).name.removesuffix(".js").removesuffix(".mjs")
            kind = detect_kind(name)
            if kind is not None:
                return kind
        queue.extend(children.get(current, []))
    return None


def pane_kind(target: str, socket: str | None = None, binary: str = "tmux") -> str:
    """The agent kind a pane runs (see the module docstring), ``plain`` when none or tmux can't say."""
    exe = shutil.which(binary)
    if exe is None:
        return PLAIN
    cmd = [exe, *((["-S", socket] if "/" in socket else ["-L", socket]) if socket else []),
           "display-message", "-p", "-t", target, "#{pane_current_command}\t#{pane_pid}"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=2.0, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return PLAIN
    if done.returncode != 0:
        return PLAIN
    command, _, pid = done.stdout.strip().partition("\t")
    return detect_kind(command) or (process_kind(int(pid)) if pid.isdigit() else None) or PLAIN


def watchers_for(roster: Roster, *, socket: str | None = None, tmux_binary: str = "tmux") -> list[Watcher]:
    panes: list[WatchedPane] = []
    windows = []
    for agent in roster.agents:
        if not agent.enabled:
            continue
        transport = agent.transport
        if isinstance(transport, TmuxTransport):
            kind = transport.agent or pane_kind(transport.target, socket, tmux_binary)
            panes.append(WatchedPane(agent.id, transport.target, kind))
        elif isinstance(transport, GuiTransport) and transport.window is not None:
            windows.append(agent)
    watchers: list[Watcher] = []
    if panes:
        watchers.append(TmuxPaneWatcher(panes, socket=socket, binary=tmux_binary))
    if windows and os.environ.get("DISPLAY"):
        from quarterdeck.core.activity.watch.windows import WindowWatcher

        watchers.append(WindowWatcher(windows))
    elif windows:
        log.info("no X display: %d gui agent(s) are not watched", len(windows))
    return watchers
