"""Codex's ``notify`` program in ``config.toml``: one argv list, run with one JSON argument at
the end of every turn (``agent-turn-complete``).

The file is checked with :mod:`tomllib` and edited with ``tomlkit``, which keeps its comments,
order and layout: only the top-level ``notify`` key is added or removed. Codex runs one notify
program, so a ``notify`` that is not Quarterdeck's hook for the same agent is never replaced: the
install stops with a line saying how to chain the two.
"""
from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tomlkit

from quarterdeck.core.activity.install.command import agent_of, shell_line
from quarterdeck.core.activity.install.files import SettingsError

KEY = "notify"


def parse(path: Path, text: str | None) -> dict[str, Any]:
    """The TOML table in ``text`` ({} for no file)."""
    if text is None:
        return {}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc}); it was left untouched: fix it and run the "
                            "command again") from None


def installed(data: dict[str, Any]) -> dict[str, list[str]]:
    """{agent id: ["notify"]} when ``notify`` is Quarterdeck's hook."""
    agent = agent_of(data.get(KEY))
    return {agent: [KEY]} if agent is not None else {}


def check_free(path: Path, data: dict[str, Any], agent_id: str, argv: Sequence[str]) -> None:
    """SettingsError when ``notify`` runs something other than this agent's Quarterdeck hook."""
    current = data.get(KEY)
    if current is None or agent_of(current) == agent_id:
        return
    ours = shell_line(argv)
    if agent_of(current) is not None:
        raise SettingsError(f"{path}: notify already runs Quarterdeck's hook for {agent_of(current)}, and Codex runs "
                            f"one notify program: give each agent its own folder (--project DIR) or uninstall "
                            f"{agent_of(current)}'s hooks there first; nothing was changed")
    shown = shell_line([str(w) for w in current]) if isinstance(current, list) else repr(current)
    raise SettingsError(f"{path}: notify already runs {shown}, and Codex runs one notify program, so Quarterdeck "
                        f"left it and changed nothing: to have both, make that program also run `{ours} \"$1\"` "
                        "with the JSON argument it is given (or remove notify there and install again)")


def add(text: str | None, argv: Sequence[str]) -> str:
    """``text`` with ``notify = [argv...]`` (call :func:`check_free` first)."""
    doc = tomlkit.parse(text or "")
    if doc.get(KEY) == list(argv):
        return text or ""
    doc[KEY] = list(argv)
    return tomlkit.dumps(doc)


def remove(text: str | None, agent_id: str | None) -> str | None:
    """``text`` without ``notify`` when it is Quarterdeck's hook (for ``agent_id``, or any agent)."""
    if text is None:
        return None
    doc = tomlkit.parse(text)
    found = agent_of(doc.get(KEY))
    if found is None or (agent_id is not None and found != agent_id):
        return text
    del doc[KEY]
    return tomlkit.dumps(doc)
