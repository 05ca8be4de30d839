"""Install, uninstall and list Quarterdeck's hook in each tool's settings files.

Every file a change touches is read and checked first; only when all of them can take the change
is anything written, so a refused install (a file that does not parse, Codex's ``notify`` taken by
another program) leaves every file as it was. ``home`` stands for the user's home folder (tests).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quarterdeck.core.activity.events import SOURCES
from quarterdeck.core.activity.install import files, jsonhooks, notify
from quarterdeck.core.activity.install.command import hook_argv, shell_line
from quarterdeck.core.activity.install.files import SettingsError
from quarterdeck.core.activity.install.registry import LABELS, NOTIFY, HookFile, files_of


@dataclass(frozen=True)
class FileChange:
    """What happened to one file of ``source``: ``written``, ``removed`` or ``unchanged``."""

    path: Path
    outcome: str
    source: str = ""


@dataclass(frozen=True)
class Outcome:
    changes: list[FileChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # worth knowing, not a failure
    errors: list[str] = field(default_factory=list)  # files left untouched because they cannot be read


@dataclass(frozen=True)
class FileStatus:
    source: str
    scope: str  # "user" or "project"
    path: Path
    exists: bool
    agents: dict[str, list[str]]  # agent id -> the events its hook is on
    problem: str | None = None


def _load(hook_file: HookFile, path: Path) -> tuple[str | None, dict[str, Any]]:
    text = files.read(path)
    if hook_file.shape == NOTIFY:
        return text, notify.parse(path, text)
    return text, files.parse_json(path, text)


def _agents(hook_file: HookFile, path: Path, data: dict[str, Any]) -> dict[str, list[str]]:
    if hook_file.shape == NOTIFY:
        return notify.installed(data)
    return jsonhooks.installed(hook_file.shape, data, str(path))


def install(agent_id: str, source: str, project: Path | None = None, *, data_dir: Path | None = None,
            home: Path | None = None, start: Sequence[str] | None = None) -> Outcome:
    """Put ``agent_id``'s hook into ``source``'s settings files (the user's, or ``project``'s).
    SettingsError when a file cannot take it; then nothing is written."""
    argv = hook_argv(agent_id, source, data_dir, start)
    command = shell_line(argv)
    plan: list[tuple[Path, str | None, str]] = []
    notes: list[str] = []
    for hook_file in files_of(source):
        path = hook_file.path(project, home)
        old, data = _load(hook_file, path)
        others = sorted(set(_agents(hook_file, path, data)) - {agent_id})
        if hook_file.shape == NOTIFY:
            notify.check_free(path, data, agent_id, argv)
            new = notify.add(old, argv)
        else:
            base = data if data else {**hook_file.skeleton}
            changed = jsonhooks.add(hook_file.shape, base, str(path), agent_id, command, hook_file.events,
                                    hook_file.item, hook_file.matcher_events)
            new = old if changed == data and old is not None else files.dump_json(changed, old)
        plan.append((path, old, new or ""))
        if others:
            where = "in this folder" if project is not None else "of this user"
            notes.append(f"{path} also has Quarterdeck's hook for {', '.join(others)}: every {LABELS[source]} "
                         f"session {where} reports to each of them (give each agent its own --project folder)")
    changes = [FileChange(path, "written" if files.save(path, new, old) else "unchanged", source)
               for path, old, new in plan]
    return Outcome(changes, notes)


def uninstall(agent_id: str | None, source: str | None = None, project: Path | None = None, *,
              home: Path | None = None) -> Outcome:
    """Take ``agent_id``'s hook (every agent's when None) out of ``source``'s files (every tool's
    when None). A file that cannot be read is named in ``errors`` and left as it is."""
    changes: list[FileChange] = []
    errors: list[str] = []
    for name in (source,) if source else SOURCES:
        for hook_file in files_of(name):
            path = hook_file.path(project, home)
            try:
                changes.extend(_uninstall_one(hook_file, path, agent_id, name))
            except SettingsError as exc:
                errors.append(str(exc))
    return Outcome(changes, [], errors)


def _uninstall_one(hook_file: HookFile, path: Path, agent_id: str | None, source: str) -> list[FileChange]:
    if not path.exists():
        return []
    old, data = _load(hook_file, path)
    if hook_file.shape == NOTIFY:
        new = notify.remove(old, agent_id)
        if new == old:
            return []
        empty = not (new or "").strip()
    else:
        left = jsonhooks.remove(hook_file.shape, data, str(path), agent_id)
        if left == data:
            return []
        empty = not {k: v for k, v in left.items() if k not in hook_file.skeleton}
        new = files.dump_json(left, old)
    if empty and files.remove(path):
        return [FileChange(path, "removed", source)]
    files.save(path, new or "", old)
    return [FileChange(path, "written", source)]


def status(project: Path | None = None, *, home: Path | None = None) -> list[FileStatus]:
    """Every tool's files, the user's and ``project``'s, with the agents whose hook each holds."""
    rows: list[FileStatus] = []
    scopes = (("user", None), ("project", project)) if project is not None else (("user", None),)
    seen: set[Path] = set()
    for source in SOURCES:
        for scope, where in scopes:
            for hook_file in files_of(source):
                path = hook_file.path(where, home)
                if path in seen:  # the project is the home folder: its files are the user's
                    continue
                seen.add(path)
                try:
                    _, data = _load(hook_file, path)
                    rows.append(FileStatus(source, scope, path, path.exists(), _agents(hook_file, path, data)))
                except SettingsError as exc:
                    rows.append(FileStatus(source, scope, path, True, {}, str(exc)))
    return rows
