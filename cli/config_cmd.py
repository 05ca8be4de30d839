"""`quarterdeck config show`: the effective configuration and where each value came from."""
from __future__ import annotations

import argparse
import json

from quarterdeck.cli.common import EXIT_OK, effective_config


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cfg = sub.add_parser("config", help="show the effective configuration")
    cfg_sub = cfg.add_subparsers(dest="config_command", required=True, metavar="COMMAND")
    show = cfg_sub.add_parser("show", help="print each setting, its value and its source")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_config_show)


def cmd_config_show(args: argparse.Namespace) -> int:
    from quarterdeck.core.config import config_as_dict, format_config

    loaded = effective_config(args)
    print(json.dumps(config_as_dict(loaded), indent=2, sort_keys=True) if args.json
          else format_config(loaded))
    return EXIT_OK
