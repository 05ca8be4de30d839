"""Options every command shares, before or after the command: ``--config``, ``--data-dir``, ``--roster``,
``--broker`` (the Redis URL of the relays' broker, for the commands that reach other machines).

``quarterdeck --data-dir X status`` and ``quarterdeck status --data-dir X`` mean the same. The top
level defines the three; each command keeps its own definition (its help says what the option is
for there) with its default suppressed, so a value given before the command is not overwritten by
the command's empty default. A command that takes no such option refuses one given before it in
one line, rather than ignoring it.
"""
from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from quarterdeck.core.paths import path_option

SHARED = {
    "config": ("--config", "PATH", "configuration file (default: coordination.yaml in the user config dir); "
                                   "before or after the command"),
    "data_dir": ("--data-dir", "DIR", "where the outbox and the other data files live; before or after the command"),
    "roster": ("--roster", "PATH", "agents.yaml (default: the user config dir); before or after the command"),
    "broker": ("--broker", "URL", "the broker connecting relays on other machines: redis:// or rediss:// URL "
                                  "(default: broker_url in the configuration); before or after the command"),
}
TYPES: dict[str, Callable[[str], object]] = {"broker": str}  # the others are paths (path_option: ~ expanded)
TAKEN = "_shared_taken"


def add_shared_options(parser: argparse.ArgumentParser) -> None:
    """Define the shared options on ``parser`` (the top level) and align every command under it."""
    for dest, (flag, metavar, help_text) in SHARED.items():
        parser.add_argument(flag, dest=dest, type=TYPES.get(dest, path_option), metavar=metavar, default=None,
                            help=help_text)
    for sub in _subparsers(parser):
        align_command(sub)


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found: list[argparse.ArgumentParser] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found.extend(dict.fromkeys(action.choices.values()))  # aliases share one parser
    return found


def align_command(parser: argparse.ArgumentParser) -> None:
    """Align a command's parser (and its subcommands') with the top level's shared options; a parser
    added after :func:`add_shared_options` (a command resolved when chosen) is aligned with this."""
    taken: set[str] = set()
    for action in parser._actions:
        if action.dest in SHARED:
            action.default = argparse.SUPPRESS
            if action.type is Path:
                action.type = path_option
            taken.add(action.dest)
    if "config" not in taken:
        flag, metavar, help_text = SHARED["config"]
        parser.add_argument(flag, dest="config", type=path_option, metavar=metavar, default=argparse.SUPPRESS,
                            help=help_text)
        taken.add("config")
    parser.set_defaults(**{TAKEN: frozenset(taken)})
    for sub in _subparsers(parser):
        align_command(sub)


def refused_shared(args: argparse.Namespace) -> str | None:
    """The option given before a command that does not take it, as its flag; None when all fit."""
    taken = getattr(args, TAKEN, None)
    if taken is None:  # no command: the top level takes them all
        return None
    for dest, (flag, _, _) in SHARED.items():
        if dest not in taken and getattr(args, dest, None) is not None:
            return flag
    return None


def add_broker_option(parser: argparse.ArgumentParser) -> None:
    """``--broker URL`` on a command that reaches relays (the top level takes it too)."""
    flag, metavar, help_text = SHARED["broker"]
    parser.add_argument(flag, dest="broker", metavar=metavar, default=None, help=help_text)
