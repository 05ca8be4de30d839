"""`quarterdeck agents`: list, show, import, capture and check the agent roster (agents.yaml)."""
from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from quarterdeck.cli.common import EXIT_FAIL, EXIT_OK, CliError
from quarterdeck.cli.machines import list_machines, print_table
from quarterdeck.cli.roster_args import (
    agent_named,
    existing_roster_path,
    point_text,
    read_roster,
    roster_if_any,
    roster_path,
    target_of,
)
from quarterdeck.cli.shared_options import add_broker_option
from quarterdeck.core.model_check import dumped
from quarterdeck.core.models import GuiTransport
from quarterdeck.core.roster.problems import RosterError
from quarterdeck.core.roster.roster import Roster

if TYPE_CHECKING:
    from quarterdeck.core.desktop.screens import ScreenRect
    from quarterdeck.core.models import Agent

Command = Callable[[argparse.Namespace], int]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    agents = sub.add_parser("agents", help="list, import, capture and check the agent roster")
    agents_sub = agents.add_subparsers(dest="agents_command", required=True, metavar="COMMAND")

    def command(name: str, func: Command, help_text: str) -> argparse.ArgumentParser:
        parser = agents_sub.add_parser(name, help=help_text, description=help_text)
        parser.add_argument("--roster", type=Path, metavar="PATH",
                            help="roster file (default: agents.yaml in the user config dir)")
        parser.set_defaults(func=func)
        return parser

    listing = command("list", cmd_list, "one line per agent: id, role, transport, target, enabled (and its "
                      "machine, with a broker)")
    listing.add_argument("--json", action="store_true", help="machine-readable list")
    listing.add_argument("--data-dir", type=Path, metavar="DIR", help="where the activity records and the relays "
                         "last seen are kept (default: the user data dir)")
    add_broker_option(listing)
    show = command("show", cmd_show, "every setting of one agent")
    show.add_argument("agent", metavar="AGENT")
    show.add_argument("--json", action="store_true")
    imp = command("import", cmd_import, "import the original system's cursor_agent_coords.json")
    imp.add_argument("file", type=Path, metavar="FILE")
    mode = imp.add_mutually_exclusive_group()
    mode.add_argument("--merge", action="store_true", help="add the agents; same id: update it")
    mode.add_argument("--replace", action="store_true", help="keep only the imported agents")
    cap = command("capture", cmd_capture, "store the mouse pointer position as an agent's point, "
                  "bound to the window under it")
    cap.add_argument("agent", metavar="AGENT")
    cap.add_argument("--title", metavar="TEXT",
                     help="the part of the window's title that tells it apart and stays when the app "
                          "restarts, e.g. the folder name (default: the whole title, or the one already set)")
    cap.add_argument("--onboarding", action="store_true",
                     help="set the onboarding point (where a new chat's input appears)")
    cap.add_argument("--countdown", type=int, default=3, metavar="N",
                     help="seconds to hover the pointer before it is read (default 3)")
    command("check", cmd_check, "check points against the screens, tmux targets and inbox folders")
    from quarterdeck.cli.watch_cmd import add_arguments as watch_arguments
    from quarterdeck.cli.watch_cmd import cmd_watch

    watch_arguments(command("watch", cmd_watch, "a live table of what every agent is doing (working, idle, "
                                                "needs-you ...), watching their panes and windows"))
    from quarterdeck.cli.hooks_cmd import register as register_hooks

    register_hooks(agents_sub)


def cmd_list(args: argparse.Namespace) -> int:
    _, roster = read_roster(args)
    machines = list_machines(args, roster)
    if machines is not None:
        return machines
    rows = [{"id": a.id, "role": a.role, "transport": a.transport.kind, "target": target_of(a),
             "enabled": a.enabled} for a in roster.agents]
    if args.json:
        from quarterdeck.cli.attention_cmd import activity_rows

        activity = activity_rows([a.id for a in roster.agents], getattr(args, "data_dir", None))
        print(json.dumps([{**row, "hooks": a.hooks, "activity": activity[a.id]}
                          for row, a in zip(rows, roster.agents, strict=True)],
                         indent=2))
        return EXIT_OK
    if not rows:
        print("the roster has no agents")
        return EXIT_OK
    print_table(rows)
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    _, roster = read_roster(args)
    agent = agent_named(roster, args.agent)
    groups = [name for name, members in roster.groups.items() if agent.id in members]
    if args.json:
        print(json.dumps({**dumped(agent), "groups": groups}, indent=2))
        return EXIT_OK
    settings = {"display_name": agent.display_name, "role": agent.role or "-",
                "enabled": "yes" if agent.enabled else "no"}
    for key, value in dumped(agent.transport).items():
        settings["transport" if key == "kind" else key] = _show_value(value)
    settings["groups"] = ", ".join(groups) or "-"
    print(agent.id)
    width = max(map(len, settings))
    for key, value in settings.items():
        print(f"  {key.ljust(width)}  {value}")
    return EXIT_OK


def _show_value(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return point_text(value) if all(isinstance(v, int) for v in value) else "+".join(value)
    if isinstance(value, dict) and "anchor" in value:
        return f"{value['offset'][0]}, {value['offset'][1]} from the {value['anchor']} corner"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v:#x}" if k == "id" else f"{k} {v!r}" if k == "title" else f"{k} {v}"
                         for k, v in value.items())
    return str(value).lower() if isinstance(value, bool) else str(value)


def cmd_import(args: argparse.Namespace) -> int:
    from quarterdeck.core.roster.importing import import_original, merge_agents
    from quarterdeck.core.roster.roster import save_roster

    try:
        agents, warnings = import_original(args.file)
    except FileNotFoundError:
        raise CliError(f"{args.file}: no such file") from None
    except RosterError as exc:
        raise CliError(f"{args.file} cannot be imported:\n{exc}") from exc
    path = roster_path(args)
    if roster_if_any(args) is not None:
        if not (args.merge or args.replace):
            raise CliError(f"{path} already exists: add --merge (add and update agents) or --replace "
                           "(keep only the imported agents); the old file is backed up either way")
        _, current = read_roster(args)
    else:
        current = Roster()
    roster, notes = merge_agents(current, agents, replace=args.replace)
    backup = save_roster(roster, path)
    print(f"imported {len(agents)} agent(s) from {args.file} into {path}")
    for agent in agents:
        transport = agent.transport  # import_original makes gui agents only
        chat = point_text(transport.chat) if isinstance(transport, GuiTransport) else "-"
        onboarding = point_text(transport.onboarding) if isinstance(transport, GuiTransport) else "-"
        state = "" if agent.enabled else "  (disabled)"
        print(f"  {agent.id}: chat {chat}, onboarding {onboarding}"
              f"{'  role: ' + agent.role if agent.role else ''}{state}")
    for note in notes:
        print(f"  {note}")
    from quarterdeck.core.roster.check import point_problems

    screens = _screens(agents)
    warnings += [f"{agent.id}.{problem}" for agent in agents for problem in point_problems(agent, screens)]
    for warning in warnings:
        print(f"warning: {warning}")
    if backup is not None:
        print(f"previous roster backed up to {backup}")
    return EXIT_OK


def _screens(agents: Sequence[Agent]) -> list[ScreenRect]:
    """The monitors, when there are gui agents to check; says so when none can be queried."""
    from quarterdeck.core.desktop.screens import detect_screens

    if not any(agent.transport.kind == "gui" for agent in agents):
        return []
    screens = detect_screens()
    if not screens:
        print("warning: no display could be queried: the points were not checked against the screens")
    return screens


def cmd_capture(args: argparse.Namespace) -> int:
    from quarterdeck.cli.capture_cmd import cmd_capture as capture

    return capture(args)


def cmd_check(args: argparse.Namespace) -> int:
    from quarterdeck.core.roster.check import agent_problems
    from quarterdeck.core.roster.roster import load_roster

    path = existing_roster_path(args)
    try:
        roster = load_roster(path, screens=())
    except RosterError as exc:
        print(exc)
        print(f"{len(exc.problems)} problem(s) in {path}; the roster was not loaded")
        return EXIT_FAIL
    screens = _screens(roster.agents)
    problems = 0
    for agent in roster.agents:
        if not agent.enabled:
            print(f"{agent.id}: skipped (disabled)")
            continue
        found = agent_problems(agent, screens)
        problems += bool(found)
        status = "problem: " + "; ".join(found) if found else "ok"
        print(f"{agent.id}: {status} ({agent.transport.kind}, {target_of(agent)})")
    print(f"{len(roster.agents)} agent(s) in {path}, {problems} with problems")
    return EXIT_FAIL if problems else EXIT_OK
