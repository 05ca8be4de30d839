"""`quarterdeck agents capture`: the mouse pointer's position as an agent's point, bound to the window
under it (class, title, pid, id, and the point from the window's nearest corner, so that it follows
the window when it moves or is resized)."""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from quarterdeck.cli.common import EXIT_OK, CliError
from quarterdeck.cli.roster_args import agent_named, point_text, pointer_module, read_roster, window_text
from quarterdeck.core.models import Agent, GuiTransport
from quarterdeck.core.roster.capture import PointName, capture_point
from quarterdeck.core.roster.problems import RosterError, UnknownAgentError

if TYPE_CHECKING:
    from quarterdeck.core.transports.gui.windows import Placement


def cmd_capture(args: argparse.Namespace) -> int:
    path, roster = read_roster(args)
    agent = agent_named(roster, args.agent)
    if agent.transport.kind != "gui":
        raise CliError(f"{agent.id} uses the {agent.transport.kind} transport; only gui agents have "
                       "screen points")
    which: PointName = "onboarding" if args.onboarding else "chat"
    place = f"the input of a new chat for {agent.id}" if args.onboarding else f"{agent.id}'s chat input"
    pyautogui = pointer_module()
    print(f"Hover the mouse pointer over {place}.", flush=True)
    for remaining in range(max(args.countdown, 0), 0, -1):
        print(f"{remaining}..", flush=True)
        time.sleep(1)
    try:
        x, y = pyautogui.position()
    except Exception as exc:
        raise CliError(f"the mouse pointer could not be read: {exc}") from exc
    position = (int(x), int(y))
    placement, why = _placement(position)
    if placement is None and args.title is not None:
        raise CliError(f"--title needs an application window under the pointer: {why}; nothing saved")
    try:
        old, new, backup = capture_point(path, agent.id, which, position, placement, title=args.title)
    except (UnknownAgentError, ValueError, RosterError) as exc:
        raise CliError(str(exc)) from exc
    print(f"{agent.id}.{which}: {point_text(old)} -> {point_text(new)}  (saved to {path})")
    if placement is not None:
        _print_binding(path, agent, which, placement)
    else:
        print(f"warning: {why}: stored as a screen point only, not bound to a window")
    if backup is not None:
        print(f"previous roster backed up to {backup}")
    return EXIT_OK


def _placement(position: tuple[int, int]) -> tuple[Placement | None, str]:
    """(the window under the pointer and the point in it, or None and why not)."""
    from quarterdeck.core.desktop.window_match import WindowError
    from quarterdeck.core.transports.gui.windows import placement_at

    try:
        placement = placement_at(position)
    except WindowError as exc:
        return None, f"the window under the pointer could not be read ({exc})"
    if placement is None:
        return None, "no application window under the pointer (the desktop, a window frame or a menu)"
    return placement, ""


def _print_binding(path: Path, before: Agent, which: str, placement: Placement) -> None:
    from quarterdeck.core.roster.roster import load_roster

    window, at = placement.window, placement.at
    saved = load_roster(path, screens=()).get(before.id).transport
    match = saved.window if isinstance(saved, GuiTransport) else None
    print(f"  window: {window.describe()}, {window.where()}, pid {window.pid or '-'}")
    print(f"  {which} point: {at.offset[0]}, {at.offset[1]} from its {at.anchor} corner (follows the window)")
    if match is None:  # capture_point binds the window it was given; nothing more to describe otherwise
        return
    print(f"  found again by: {window_text(match)}")
    old = before.transport.window if isinstance(before.transport, GuiTransport) else None
    if old is not None and old.id != window.id:
        print(f"  was bound to: {window_text(old)}" + (f" ({old.id:#x})" if old.id else ""))
    if match.title == window.title:
        print("  tip: once this window closes, it is found again by that whole title; keep only the part "
              "that stays (e.g. the folder name) with --title TEXT")
