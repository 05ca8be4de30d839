"""Where Quarterdeck keeps its files: per-user config, data and log folders.

The folders come from platformdirs for the app name ``quarterdeck`` (no author folder).
``QUARTERDECK_CONFIG_DIR`` and ``QUARTERDECK_DATA_DIR`` replace the config and data folders;
when the data folder is overridden, logs go to its ``logs`` subfolder, so a test or CI run that
sets both variables never touches the real home. Nothing here creates a folder except
:func:`ensure_dir`.

Every function takes an optional ``env`` mapping (default: ``os.environ``) so callers that
carry their own environment, like :func:`core.config.load_config`, resolve paths from it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import platformdirs

APP_NAME = "quarterdeck"
CONFIG_DIR_ENV = "QUARTERDECK_CONFIG_DIR"
DATA_DIR_ENV = "QUARTERDECK_DATA_DIR"
CONFIG_FILE_NAME = "coordination.yaml"
ROSTER_FILE_NAME = "agents.yaml"


def _override(name: str, env: Mapping[str, str] | None) -> Path | None:
    value = (os.environ if env is None else env).get(name, "")
    return Path(value).expanduser() if value else None


def user_config_dir(env: Mapping[str, str] | None = None) -> Path:
    """The per-user config folder, or ``$QUARTERDECK_CONFIG_DIR`` when set and non-empty."""
    return _override(CONFIG_DIR_ENV, env) or platformdirs.user_config_path(APP_NAME, appauthor=False)


def user_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """The per-user data folder, or ``$QUARTERDECK_DATA_DIR`` when set and non-empty."""
    return _override(DATA_DIR_ENV, env) or platformdirs.user_data_path(APP_NAME, appauthor=False)


def user_log_dir(env: Mapping[str, str] | None = None) -> Path:
    """The per-user log folder; ``$QUARTERDECK_DATA_DIR/logs`` when the data folder is overridden."""
    data = _override(DATA_DIR_ENV, env)
    return data / "logs" if data else platformdirs.user_log_path(APP_NAME, appauthor=False)


def default_config_file(env: Mapping[str, str] | None = None) -> Path:
    """The coordination settings file read when no ``--config`` is given."""
    return user_config_dir(env) / CONFIG_FILE_NAME


def default_roster_file(env: Mapping[str, str] | None = None) -> Path:
    """The agent roster file."""
    return user_config_dir(env) / ROSTER_FILE_NAME


def ensure_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) if missing; return it."""
    path.mkdir(parents=True, exist_ok=True)
    return path
