"""Whether each agent can be reached right now: its points on a screen, its tmux session running,
its inbox folder writable. Each check returns human-readable problems; an empty list means ok.

Only the session of a tmux target is checked (``swarm`` of ``swarm:0.1``), matched exactly, on
the default tmux server of the current user.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from quarterdeck.core.desktop.screens import ScreenRect, describe_screens, point_on_screens
from quarterdeck.core.models import Agent


def point_problems(agent: Agent, screens: Sequence[ScreenRect]) -> list[str]:
    """Off-screen points of a gui agent, each with the command that recaptures it (none without screens)."""
    found: list[str] = []
    if agent.transport.kind != "gui" or not screens:
        return found
    for which in ("chat", "onboarding"):
        point = getattr(agent.transport, which)
        if point is not None and not point_on_screens(point, screens):
            flag = " --onboarding" if which == "onboarding" else ""
            found.append(f"{which}: point ({point[0]}, {point[1]}) is on no screen "
                         f"(screens: {describe_screens(screens)}); recapture it with "
                         f"`quarterdeck agents capture {agent.id}{flag}`")
    return found


def tmux_problem(target: str, timeout: float = 5.0) -> str | None:
    """Why the session of a tmux target cannot be reached, or None when it exists."""
    session = target.split(":", 1)[0]
    if not session:
        return f"tmux target {target!r} names no session"
    tmux = shutil.which("tmux")
    if tmux is None:
        return "tmux is not installed"
    exact = session if session[0] in "$@%" else f"={session}"
    try:
        result = subprocess.run([tmux, "has-session", "-t", exact], capture_output=True, text=True,
                                timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"tmux did not answer: {exc}"
    if result.returncode != 0:
        detail = result.stderr.strip() or f"exit status {result.returncode}"
        return f"tmux session {session!r} not found ({detail})"
    return None


def inbox_problem(folder: Path) -> str | None:
    """Why messages cannot be written into an inbox folder, or None. A missing folder whose parent
    is a writable folder is no problem: the first delivery makes it (as the inbox transport does)."""
    folder = Path(folder)
    try:
        if folder.is_dir():
            return None if os.access(folder, os.W_OK | os.X_OK) else f"inbox folder {folder} is not writable"
        if os.path.lexists(folder):  # a file, or a link to nothing: the delivery cannot make the folder
            return f"inbox {folder} exists but is not a folder"
        parent = folder.parent
        if not parent.is_dir():
            return f"inbox folder {folder} is missing and so is its parent folder {parent}"
    except OSError as exc:  # a parent that cannot be entered
        return f"inbox folder {folder} cannot be looked at: {exc.strerror or exc}"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"inbox folder {folder} is missing and cannot be made: {parent} is not writable"
    return None


def agent_problems(agent: Agent, screens: Sequence[ScreenRect]) -> list[str]:
    """Every reachability problem of one agent (gui points only when ``screens`` are known; a gui
    agent bound to a window: whether that window is open, alone, and holds its points)."""
    transport = agent.transport
    if transport.kind == "tmux":
        problem = tmux_problem(transport.target)
    elif transport.kind == "inbox":
        problem = inbox_problem(transport.path)
    else:
        found = point_problems(agent, screens)
        if transport.kind == "gui" and transport.window is not None:
            from quarterdeck.core.transports.gui.windows import window_problems

            found += window_problems(transport, agent.id)
        return found
    return [problem] if problem else []
