"""`quarterdeck agents hooks install|uninstall|status`: Quarterdeck's hook in each agent tool's settings.

``install ID --source TOOL`` adds ``quarterdeck hook --agent ID --source TOOL`` to the events
``quarterdeck hook`` understands, in the tool's user-level settings file or, with ``--project
DIR``, in that project's; the user's own hooks and settings stay as they were (see
:mod:`quarterdeck.core.activity.install`). It also records the tool as the agent's ``hooks:`` in
the roster. ``uninstall`` takes exactly Quarterdeck's entries out again; ``status`` lists, for
every tool, the user's file and the project's (the current folder unless ``--project``) with the
agents whose hook each one holds.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from quarterdeck.cli.common import EXIT_FAIL, EXIT_OK, CliError
from quarterdeck.cli.roster_args import agent_named, read_roster, roster_if_any
from quarterdeck.core.activity.events import CODEX, SOURCES
from quarterdeck.core.paths import DATA_DIR_ENV, NoHome, home_expanded, user_data_dir


def _roster_ids(prefix: str, parsed_args: argparse.Namespace, **_kwargs: Any) -> list[str]:
    """Tab completion of an agent id: the roster's ids."""
    try:
        _, roster = read_roster(parsed_args)
    except (CliError, OSError):
        return []
    return [agent_id for agent_id in roster.ids() if agent_id.startswith(prefix)]


def register(agents_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    text = "install, remove or list Quarterdeck's hook in the agents' own tools (Claude Code, Cursor, ...)"
    hooks = agents_sub.add_parser("hooks", help=text, description=text)
    sub = hooks.add_subparsers(dest="hooks_command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=help_text, description=help_text)
        parser.add_argument("--roster", type=Path, metavar="PATH",
                            help="roster file (default: agents.yaml in the user config dir)")
        parser.add_argument("--data-dir", type=Path, metavar="DIR",
                            help="the data folder the hook records into (default: the user data dir)")
        return parser

    install = command("install", "add the agent's hook to a tool's settings (user level, or --project DIR)")
    install.add_argument("agent", metavar="ID", help="the agent's id on the roster").completer = _roster_ids  # type: ignore[attr-defined]
    install.add_argument("--source", required=True, choices=SOURCES, help="the agent's tool")
    install.add_argument("--project", type=Path, metavar="DIR",
                         help="the project folder the agent works in: its settings file instead of the user's")
    install.set_defaults(func=cmd_install)
    uninstall = command("uninstall", "take the agent's hook out of a tool's settings (every tool without --source)")
    uninstall.add_argument("agent", metavar="ID").completer = _roster_ids  # type: ignore[attr-defined]
    uninstall.add_argument("--source", choices=SOURCES, help="only this tool's settings")
    uninstall.add_argument("--project", type=Path, metavar="DIR", help="the project's settings, not the user's")
    uninstall.set_defaults(func=cmd_uninstall)
    status = command("status", "which agents' hooks each tool's settings files hold")
    status.add_argument("--project", type=Path, metavar="DIR", help="the project folder (default: this folder)")
    status.add_argument("--json", action="store_true", help="machine-readable list")
    status.set_defaults(func=cmd_status)


def cmd_install(args: argparse.Namespace) -> int:
    from quarterdeck.core.activity.install import SettingsError, install
    from quarterdeck.core.roster.edit import with_hooks
    from quarterdeck.core.roster.roster import save_roster

    path, roster = read_roster(args)
    agent = agent_named(roster, args.agent)
    project = _project(args.project)
    data_dir = getattr(args, "data_dir", None)
    if data_dir is None and os.environ.get(DATA_DIR_ENV, "").strip():
        data_dir = user_data_dir()  # the tool runs its hook without this environment: the command says it
    try:
        outcome = install(agent.id, args.source, project, data_dir=data_dir)
    except (SettingsError, NoHome) as exc:  # NoHome: a --data-dir under an unknown user's home
        raise CliError(str(exc)) from None
    for change in outcome.changes:
        print(f"{change.path}: {'hook added' if change.outcome == 'written' else 'already there, unchanged'}")
    for note in outcome.notes:
        print(f"note: {note}")
    if args.source == CODEX and any(c.outcome == "written" and c.path.name == "hooks.json" for c in outcome.changes):
        print("note: Codex runs a new hook only once you trust it: open /hooks in Codex and trust Quarterdeck's")
    if agent.hooks != args.source:
        save_roster(with_hooks(roster, agent.id, args.source), path)
        print(f"{path}: {agent.id} hooks: {args.source}")
    return EXIT_OK


def cmd_uninstall(args: argparse.Namespace) -> int:
    from quarterdeck.core.activity.install import uninstall

    outcome = uninstall(args.agent, args.source, _project(args.project))
    for change in outcome.changes:
        print(f"{change.path}: {'hook removed' if change.outcome == 'written' else 'removed (it held only the hook)'}")
    if not outcome.changes:
        print(f"no hook of {args.agent} found")
    for error in outcome.errors:
        print(f"quarterdeck: error: {error}")
    if outcome.changes:
        _forget_source(args, {c.source for c in outcome.changes})
    return EXIT_FAIL if outcome.errors else EXIT_OK


def _forget_source(args: argparse.Namespace, removed: set[str]) -> None:
    """Clear the agent's ``hooks:`` in the roster when hooks of the tool it names were taken out."""
    from quarterdeck.core.roster.edit import with_hooks
    from quarterdeck.core.roster.roster import save_roster

    if roster_if_any(args) is None:
        return
    path, roster = read_roster(args)
    if args.agent in roster and roster.get(args.agent).hooks in removed:
        save_roster(with_hooks(roster, args.agent, None), path)
        print(f"{path}: {args.agent} hooks: (none)")


def cmd_status(args: argparse.Namespace) -> int:
    from quarterdeck.core.activity.install import LABELS, status

    rows = status(_project(args.project) or Path.cwd())
    if args.json:
        print(json.dumps([{"source": r.source, "scope": r.scope, "path": str(r.path), "exists": r.exists,
                           "agents": r.agents, "problem": r.problem} for r in rows], indent=2))
        return EXIT_OK
    table = [["TOOL", "SCOPE", "AGENTS", "FILE"]]
    for r in rows:
        agents = r.problem or ", ".join(r.agents) or ("-" if r.exists else "- (no file)")
        table.append([LABELS[r.source], r.scope, agents, str(r.path)])
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    for row in table:
        print("  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[3]]))
    return EXIT_FAIL if any(r.problem for r in rows) else EXIT_OK


def _project(given: Path | None) -> Path | None:
    if given is None:
        return None
    try:
        folder = home_expanded(given).absolute()
    except NoHome as exc:
        raise CliError(f"--project {exc}") from None
    if not folder.is_dir():
        raise CliError(f"--project {given}: no such folder")
    return folder
