"""The watchers a roster needs: one for all its tmux panes, one for all its windows.

A tmux agent is watched with the patterns of its kind: the roster's ``agent:`` when set, else the
kind its pane's current command names (read once, when the watchers are built, so a CLI started in
the pane later is watched as ``plain`` until the roster changes or says its kind). A gui agent is
watched when it is bound to its window (``window:`` in the roster) and there is an X display.
Disabled agents are not watched.
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess

from quarterdeck.core.activity.watch.panes import TmuxPaneWatcher, WatchedPane
from quarterdeck.core.activity.watch.service import Watcher
from quarterdeck.core.models import GuiTransport, TmuxTransport
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.transports.tmux.profiles import detect_kind

log = logging.getLogger(__name__)

PLAIN = "plain"


def pane_kind(target: str, socket: str | None = None, binary: str = "tmux") -> str:
    """The agent kind a pane's current command names, ``plain`` when it names none or tmux can't say."""
    exe = shutil.which(binary)
    if exe is None:
        return PLAIN
    cmd = [exe, *((["-S", socket] if "/" in socket else ["-L", socket]) if socket else []),
           "display-message", "-p", "-t", target, "#{pane_current_command}"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=2.0, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return PLAIN
    return (detect_kind(done.stdout) if done.returncode == 0 else None) or PLAIN


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
