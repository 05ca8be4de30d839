"""The command a tool runs as Quarterdeck's hook, and telling Quarterdeck's entries from the user's.

The command is ``<quarterdeck> hook --agent ID --source TOOL`` (plus ``--data-dir DIR`` when the
data folder is not the default), where ``<quarterdeck>`` is the absolute path of the running
``quarterdeck`` script, or ``<python> -m quarterdeck`` when no script is found. An entry is
Quarterdeck's when its command, split as a shell would, has ``quarterdeck hook --agent ID`` (the
program's file name ``quarterdeck``, or ``-m quarterdeck``): that is what install replaces and
uninstall removes, never anything else.
"""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from quarterdeck.core.paths import home_expanded


def program(argv0: str | None = None, executable: str | None = None) -> list[str]:
    """How to start Quarterdeck again: the running ``quarterdeck`` script's absolute path, the
    one next to this interpreter, or ``[python, -m, quarterdeck]``."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    executable = sys.executable if executable is None else executable
    candidates = [Path(argv0)] if Path(argv0).stem == "quarterdeck" else []
    candidates.append(Path(executable).parent / ("quarterdeck.exe" if os.name == "nt" else "quarterdeck"))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return [str(candidate.absolute())]
    return [str(Path(executable).absolute()), "-m", "quarterdeck"]


def hook_argv(agent_id: str, source: str, data_dir: Path | None = None,
              start: Sequence[str] | None = None) -> list[str]:
    """The hook's argument list (Codex's ``notify`` takes it as it is)."""
    argv = [*(program() if start is None else start), "hook", "--agent", agent_id, "--source", source]
    if data_dir is not None:
        argv += ["--data-dir", str(home_expanded(data_dir).absolute())]
    return argv


def shell_line(argv: Sequence[str]) -> str:
    """``argv`` as one command line for the platform's shell."""
    return subprocess.list2cmdline(list(argv)) if os.name == "nt" else shlex.join(argv)


def _split(command: str) -> list[str]:
    try:
        return shlex.split(command, posix=os.name != "nt")
    except ValueError:
        return command.split()


def agent_of(command: object) -> str | None:
    """The agent id of a Quarterdeck hook command (a string, or an argv list); None when it is
    not one."""
    words = [str(w) for w in command] if isinstance(command, list) else _split(command) \
        if isinstance(command, str) else []
    for i, word in enumerate(words[:-3]):
        if Path(word.replace("\\", "/")).stem.lower() == "quarterdeck" and words[i + 1:i + 3] == ["hook", "--agent"]:
            return words[i + 3]
    return None


def is_ours(command: object, agent_id: str | None = None) -> bool:
    """Whether ``command`` is Quarterdeck's hook (for ``agent_id``, or for any agent when None)."""
    found = agent_of(command)
    return found is not None and (agent_id is None or found == agent_id)
