"""Quarterdeck's entries in the two JSON shapes the tools' hook files take.

Grouped (Claude Code, Gemini CLI, Codex's ``hooks.json``)::

    {"hooks": {"Stop": [{"matcher": "*", "hooks": [{"type": "command", "command": "..."}]}]}}

Flat (Cursor, Windsurf, VS Code)::

    {"hooks": {"stop": [{"command": "..."}]}}

Each function takes the parsed file and returns a changed copy; entries that are not Quarterdeck's
hook for the agent in question (:func:`~quarterdeck.core.activity.install.command.is_ours`) are
never touched, nor is any other key. An event that already holds exactly one entry for the agent,
with the same command, is left as it is (so installing twice changes nothing); otherwise the
agent's entries there are replaced by one new entry at the end.
"""
from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from quarterdeck.core.activity.install.command import agent_of, is_ours
from quarterdeck.core.activity.install.files import SettingsError

GROUPED, FLAT = "grouped", "flat"


def _events(doc: Mapping[str, Any], where: str) -> dict[str, Any]:
    hooks = doc.get("hooks", {})
    if not isinstance(hooks, dict):
        raise SettingsError(f"{where}: \"hooks\" is not a JSON object; it was left untouched: fix it and run the "
                            "command again")
    return hooks


def _items(shape: str, entries: object) -> Iterator[tuple[Any, dict[str, Any]]]:
    """(container, command entry) pairs of one event's list, whatever the shape."""
    if not isinstance(entries, list):
        return
    for entry in entries:
        if shape == FLAT and isinstance(entry, dict):
            yield entries, entry
        elif shape == GROUPED and isinstance(entry, dict) and isinstance(entry.get("hooks"), list):
            for item in entry["hooks"]:
                if isinstance(item, dict):
                    yield entry["hooks"], item


def installed(shape: str, doc: Mapping[str, Any], where: str) -> dict[str, list[str]]:
    """Which agents have Quarterdeck's hook in the file: agent id -> the events, in file order."""
    found: dict[str, list[str]] = {}
    for event, entries in _events(doc, where).items():
        for _, item in _items(shape, entries):
            agent = agent_of(item.get("command"))
            if agent is not None and event not in found.setdefault(agent, []):
                found[agent].append(event)
    return found


def add(shape: str, doc: Mapping[str, Any], where: str, agent_id: str, command: str, events: Sequence[str],
        item: Mapping[str, Any], matcher_events: Sequence[str] = ()) -> dict[str, Any]:
    """``doc`` with the agent's hook on each of ``events``; ``item`` is the entry without its
    command (e.g. ``{"type": "command"}``); ``matcher_events`` get ``"matcher": "*"`` (grouped)."""
    result = copy.deepcopy(dict(doc))
    hooks = _events(result, where)
    result["hooks"] = hooks
    for event in events:
        entries = hooks.get(event)
        if entries is not None and not isinstance(entries, list):
            raise SettingsError(f"{where}: hooks.{event} is not a list; it was left untouched: fix it and run "
                                "the command again")
        mine = [i for _, i in _items(shape, entries) if is_ours(i.get("command"), agent_id)]
        if len(mine) == 1 and mine[0].get("command") == command:
            continue
        entries = _without(shape, entries or [], agent_id)
        entry: dict[str, Any] = {**item, "command": command}
        if shape == GROUPED:
            entry = {"matcher": "*", "hooks": [entry]} if event in matcher_events else {"hooks": [entry]}
        hooks[event] = [*entries, entry]
    return result


def remove(shape: str, doc: Mapping[str, Any], where: str, agent_id: str | None) -> dict[str, Any]:
    """``doc`` without the agent's hook entries (every agent's when None); a group, an event list
    or a ``hooks`` object left empty by that goes too."""
    result = copy.deepcopy(dict(doc))
    if "hooks" not in result:
        return result
    hooks = _events(result, where)
    changed = False
    for event in list(hooks):
        before = hooks[event]
        if not isinstance(before, list):
            continue
        after = _without(shape, before, agent_id)
        if after != before:
            changed = True
            if after:
                hooks[event] = after
            else:
                del hooks[event]
    if changed and not hooks:
        del result["hooks"]
    return result


def _without(shape: str, entries: list[Any], agent_id: str | None) -> list[Any]:
    if shape == FLAT:
        return [e for e in entries if not (isinstance(e, dict) and is_ours(e.get("command"), agent_id))]
    kept: list[Any] = []
    for group in entries:
        inner = group.get("hooks") if isinstance(group, dict) else None
        if not isinstance(inner, list):
            kept.append(group)
            continue
        left = [i for i in inner if not (isinstance(i, dict) and is_ours(i.get("command"), agent_id))]
        if len(left) == len(inner):
            kept.append(group)
        elif left:
            kept.append({**group, "hooks": left})
    return kept
