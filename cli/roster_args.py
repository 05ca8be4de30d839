"""The roster as the command line reads it: which file (``--roster``), the agents in it, and how
an agent's target, points and window are written on one line."""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from quarterdeck.cli.common import CliError
from quarterdeck.core.roster.problems import RosterError, UnknownAgentError
from quarterdeck.core.roster.roster import Roster

if TYPE_CHECKING:
    from quarterdeck.core.models import Agent, WindowMatch

EXAMPLE = """\
agents:
  - {id: Agent-1, role: frontend, transport: gui, chat: [420, 980], onboarding: [420, 900]}
  - {id: Agent-2, transport: tmux, target: "swarm:0.1"}
  - {id: Agent-3, transport: inbox, path: ~/swarm/inbox/agent-3}"""


def roster_path(args: argparse.Namespace) -> Path:
    if args.roster is not None:
        return Path(args.roster)
    from quarterdeck.core.paths import default_roster_file

    return default_roster_file()


def roster_if_any(args: argparse.Namespace) -> Path | None:
    """The roster file; None when there is none (a command that works without one); a ``CliError``
    when the path is a folder, not a regular file (a pipe: reading it could wait forever) or a link to
    nothing (given or the default one: the roster meant is not there, and none is guessed)."""
    path = roster_path(args)
    if path.is_dir():
        raise CliError(f"{path} is a folder, not a roster: give the agents.yaml file (--roster PATH)")
    if path.exists() and not path.is_file():
        raise CliError(f"{path} is not a file: give the agents.yaml file (--roster PATH)")
    if path.is_symlink() and not path.exists():
        try:
            target = os.readlink(path)
        except OSError:  # changed meanwhile
            target = "a file"
        raise CliError(f"{path} is a link to {target}, which does not exist: point it at the "
                       "agents.yaml file, or give that file (--roster PATH)")
    return path if path.exists() else None


def existing_roster_path(args: argparse.Namespace) -> Path:
    """The roster file, or a ``CliError`` saying where it looked and how to create one."""
    path = roster_if_any(args) or roster_path(args)
    if not path.exists():
        raise CliError(f"no agent roster at {path}\n"
                       f"Create it with `quarterdeck agents import cursor_agent_coords.json`, or write "
                       f"{path.name} yourself, for example:\n\n{EXAMPLE}")
    return path


def read_roster(args: argparse.Namespace) -> tuple[Path, Roster]:
    """The roster with its points unchecked (``agents check`` checks them against the screens)."""
    from quarterdeck.core.roster.roster import load_roster

    path = existing_roster_path(args)
    try:
        return path, load_roster(path, screens=())
    except RosterError as exc:
        raise CliError(f"the roster has {len(exc.problems)} problem(s):\n{exc}") from exc


def target_of(agent: Agent) -> str:
    transport = agent.transport
    if transport.kind == "gui":
        where = f" in {window_text(transport.window)}" if transport.window else ""
        return f"chat {point_text(transport.chat)}{where}"
    if transport.kind == "tmux":
        return transport.target
    if transport.kind == "inbox":
        return str(transport.path)
    return "-"


def point_text(point: Sequence[int] | None) -> str:
    return "-" if point is None else f"({point[0]}, {point[1]})"


def window_text(match: WindowMatch) -> str:
    """``Chromium 'api-service'`` (what names an agent's window)."""
    from quarterdeck.core.desktop.window_match import describe_match

    if match.class_ and match.title:
        return f"{match.class_} {match.title!r}"
    return describe_match(match)


def agent_named(roster: Roster, agent_id: str) -> Agent:
    try:
        return roster.get(agent_id)
    except UnknownAgentError as exc:
        raise CliError(str(exc)) from exc


def pointer_module() -> ModuleType:
    """pyautogui, imported only here: on X11 importing it needs a display."""
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        raise CliError("no display (DISPLAY is not set): the mouse pointer cannot be read")
    from quarterdeck.core.delivery.errors import PermanentError
    from quarterdeck.core.transports.gui.transport import load_pyautogui

    try:
        return load_pyautogui()
    except PermanentError as exc:
        raise CliError(f"the mouse pointer cannot be read: {exc}") from exc
