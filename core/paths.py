"""Where Quarterdeck keeps its files: per-user config, data and log folders.

The folders come from platformdirs for the app name ``quarterdeck`` (no author folder).
``QUARTERDECK_CONFIG_DIR`` and ``QUARTERDECK_DATA_DIR`` replace the config and data folders;
when the data folder is overridden, logs go to its ``logs`` subfolder, so a test or CI run that
sets both variables never touches the real home. Nothing here creates a folder except
:func:`ensure_dir`.

Quarterdeck's files hold every message sent, so they are private to their user, as ssh and
gnupg keep theirs: folders 0700, files 0600 (:func:`private_umask` for everything a process
creates, :func:`tighten` for what an older version left readable by others).

Every function takes an optional ``env`` mapping (default: ``os.environ``) so callers that
carry their own environment, like :func:`quarterdeck.core.config.load_config`, resolve paths from it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType

APP_NAME = "quarterdeck"
CONFIG_DIR_ENV = "QUARTERDECK_CONFIG_DIR"
DATA_DIR_ENV = "QUARTERDECK_DATA_DIR"
CONFIG_FILE_NAME = "coordination.yaml"
ROSTER_FILE_NAME = "agents.yaml"
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
PRIVATE_UMASK = 0o077


def _platform() -> ModuleType:
    """platformdirs, imported when a folder is not given by the environment (``quarterdeck --version``,
    a hook with ``$QUARTERDECK_DATA_DIR`` set, never need it)."""
    import platformdirs

    return platformdirs


class NoHome(ValueError):
    """A path under a home folder that is not known (a ``~user`` that does not exist, no ``$HOME``)."""


def home_expanded(path: str | os.PathLike[str]) -> Path:
    """``path`` with a leading ``~`` or ``~user`` made that home folder; :class:`NoHome` saying so
    when no home folder is known for it."""
    try:
        return Path(path).expanduser()
    except RuntimeError:
        head = os.fspath(path).split("/", 1)[0]
        raise NoHome(f"{os.fspath(path)}: no home folder is known for {head!r}; write the folder out in full") \
            from None


def path_option(text: str) -> Path:
    """An argparse ``type`` for a path option: ``~`` and ``~user`` expanded (a shell leaves
    ``--data-dir=~/x`` as it is); an unknown home is the option's one-line error."""
    import argparse

    try:
        return home_expanded(text)
    except NoHome as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _override(name: str, env: Mapping[str, str] | None) -> Path | None:
    value = (os.environ if env is None else env).get(name, "")
    if not value:
        return None
    try:
        return home_expanded(value)
    except NoHome as exc:
        raise NoHome(f"{name}={exc}") from None


def check_overrides(env: Mapping[str, str] | None = None) -> None:
    """:class:`NoHome` naming ``$QUARTERDECK_CONFIG_DIR`` or ``$QUARTERDECK_DATA_DIR`` when it names no folder."""
    for name in (CONFIG_DIR_ENV, DATA_DIR_ENV):
        _override(name, env)


def user_config_dir(env: Mapping[str, str] | None = None) -> Path:
    """The per-user config folder, or ``$QUARTERDECK_CONFIG_DIR`` when set and non-empty."""
    return _override(CONFIG_DIR_ENV, env) or _platform().user_config_path(APP_NAME, appauthor=False)


def user_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """The per-user data folder, or ``$QUARTERDECK_DATA_DIR`` when set and non-empty."""
    return _override(DATA_DIR_ENV, env) or _platform().user_data_path(APP_NAME, appauthor=False)


def user_log_dir(env: Mapping[str, str] | None = None) -> Path:
    """The per-user log folder; ``$QUARTERDECK_DATA_DIR/logs`` when the data folder is overridden."""
    data = _override(DATA_DIR_ENV, env)
    return data / "logs" if data else _platform().user_log_path(APP_NAME, appauthor=False)


def default_config_file(env: Mapping[str, str] | None = None) -> Path:
    """The coordination settings file read when no ``--config`` is given."""
    return user_config_dir(env) / CONFIG_FILE_NAME


def default_roster_file(env: Mapping[str, str] | None = None) -> Path:
    """The agent roster file."""
    return user_config_dir(env) / ROSTER_FILE_NAME


def ensure_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) if missing, private (0700); return it."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    return path


def private_umask() -> int:
    """From now on this process creates folders 0700 and files 0600; returns the old umask."""
    return os.umask(PRIVATE_UMASK)


def quarterdeck_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """The config, data and log folders (each once)."""
    found: list[Path] = []
    for folder in (user_config_dir(env), user_data_dir(env), user_log_dir(env)):
        if folder not in found:
            found.append(folder)
    return found


_OURS = ("quarterdeck", "deadletters", "coordination.yaml", "agents.yaml", "logs", "rules", "templates")


def tighten(folders: Iterable[Path]) -> list[Path]:
    """Make Quarterdeck's files and folders private; returns what was changed.

    A folder named ``quarterdeck``, or inside one (the default config, data and log folders), is
    Quarterdeck's
    own: it and everything in it is tightened. In any other folder (one a user named with
    ``QUARTERDECK_DATA_DIR`` or ``--data-dir``, which may be shared) only the entries Quarterdeck
    made there are: names starting with ``quarterdeck``, ``deadletters``, ``coordination.yaml``,
    ``agents.yaml``, and its ``logs``, ``rules`` and ``templates`` folders. Only what this user
    owns is changed; symbolic links are not followed.
    """
    changed: list[Path] = []
    uid = os.getuid() if hasattr(os, "getuid") else None

    def fix(path: Path, want: int) -> None:
        try:
            info = path.lstat()
        except OSError:
            return
        if stat.S_ISLNK(info.st_mode) or (uid is not None and info.st_uid != uid):
            return
        if info.st_mode & 0o077:
            try:
                path.chmod(stat.S_IMODE(info.st_mode) & ~0o077 & 0o7777 | (want & 0o700))
            except OSError:
                return
            changed.append(path)

    def walk(top: Path) -> None:
        if top.is_symlink():
            return
        if not top.is_dir():
            fix(top, PRIVATE_FILE_MODE)
            return
        fix(top, PRIVATE_DIR_MODE)
        for root, dirs, files in os.walk(top):
            for name in dirs:
                fix(Path(root) / name, PRIVATE_DIR_MODE)
            for name in files:
                fix(Path(root) / name, PRIVATE_FILE_MODE)

    for top in folders:
        if not top.is_dir() or top.is_symlink():
            continue
        if APP_NAME in (top.name.lower(), top.parent.name.lower()):
            walk(top)
            continue
        try:
            entries = sorted(top.iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(_OURS):
                walk(entry)
    return changed
