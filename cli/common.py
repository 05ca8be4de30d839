"""Shared CLI plumbing: loading the effective config and the active rule files."""
from __future__ import annotations

import sys
from pathlib import Path

from core.config import ConfigError, LoadedConfig, load_config

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class CliError(Exception):
    """A problem the user can fix; printed without a traceback, exit code 2."""


def effective_config(args) -> LoadedConfig:
    try:
        return load_config(config_file=getattr(args, "config", None))
    except ConfigError as exc:
        raise CliError(f"configuration is invalid:\n{exc}") from exc


def rules_dir(args) -> Path:
    """The rules folder: --rules, else the active rules the panel and the session use too
    (the config's validation_rules_path, else the user's rules folder, else the bundled rules)."""
    explicit = getattr(args, "rules", None)
    if explicit:
        return Path(explicit)
    from core.validation.location import active_rules_path

    return active_rules_path(effective_config(args).config.validation_rules_path)


def rule_files(location: Path) -> list[Path]:
    """Every *.yaml / *.yml file of a rules folder (sorted), or the one file named."""
    if location.is_file():
        return [location]
    if not location.is_dir():
        raise CliError(f"{location}: no such rules file or folder")
    files = sorted([*location.glob("*.yaml"), *location.glob("*.yml")])
    if not files:
        raise CliError(f"{location}: no rule files (*.yaml) in this folder")
    return files


def read_text_arg(message: str | None, stdin_flag: bool) -> str:
    if stdin_flag:
        return sys.stdin.read()
    if message is None:
        raise CliError("give the message with -m TEXT, or '-' to read it from standard input")
    return message
