"""The `quarterdeck` command: one entry point, a subcommand per job."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli import (agents_cmd, config_cmd, contracts_cmd, deadletter_cmd, delivery_cmd, gui_cmd, monitor_cmd,
                 onboard_cmd, rules_cmd)
from cli.common import EXIT_USAGE, CliError
from core import __version__

COMMAND_MODULES = (rules_cmd, delivery_cmd, agents_cmd, onboard_cmd, contracts_cmd, monitor_cmd, config_cmd,
                   deadletter_cmd, gui_cmd)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quarterdeck",
        description="Coordinate a swarm of AI coding agents: compose, validate, deliver, watch.",
    )
    parser.add_argument("--version", action="version", version=f"quarterdeck {__version__}")
    parser.add_argument("--config", type=Path, metavar="PATH",
                        help="configuration file (default: coordination.yaml in the user config dir)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from gui.app import display_available

        if not display_available():
            parser.print_help()
            print("\nNo display here, so the panel cannot open; the commands above do every job.")
            return 0
        args = parser.parse_args([*(sys.argv[1:] if argv is None else argv), "gui"])
    try:
        return args.func(args)
    except CliError as exc:
        print(f"quarterdeck: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
